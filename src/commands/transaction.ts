// The change itself, once a person said yes: a durable snapshot of what the plan touches, every write of the
// plan, and the put-back from that snapshot when a write, a restart or a health gate fails.
import { octalMode } from '../core/evaluate.js';
import type { Plan } from '../core/plan.js';
import type { Assessment } from '../effects/assess.js';
import type { FileOps } from '../effects/file-ops.js';
import type { GateResult } from '../effects/health.js';
import { atomicReplace, ownerIds, removeFile, resolveNode, setMode, setOwner } from '../effects/node-writer.js';
import type { LoadedProfile } from '../effects/profile-store.js';
import { createSnapshot, readSnapshot, setStatus, sha256Of, type SnapshotFile, type SnapshotManifest, type SnapshotModeChange } from '../effects/snapshots.js';
import { ExitCode, HardenError } from '../errors.js';
import type { ChangeEffects, CommandContext } from './context.js';
import type { NodeTarget } from './options.js';

export interface Planned {
  readonly plan: Plan;
  readonly assessment: Assessment;
  readonly profile: LoadedProfile;
}

export async function takeSnapshot(change: ChangeEffects, target: NodeTarget, planned: Planned, toolVersion: string): Promise<SnapshotManifest> {
  const { ops } = change;
  const plan = planned.plan;
  const copies: { file: SnapshotFile; content: Buffer | null }[] = [];
  const { users, groups } = planned.assessment.facts;
  const describe = async (path: string, after: string, created: boolean) => {
    const resolved = await resolveNode(ops, target.root, path);
    const content = created ? null : await ops.readFile(resolved.hostPath);
    const stat = created ? null : resolved.stat;
    return {
      file: {
        path,
        realPath: resolved.nodePath,
        created,
        sha256Before: content ? sha256Of(content) : null,
        sha256After: sha256Of(after),
        mode: stat ? octalMode(stat.mode) : '0600',
        uid: stat?.uid ?? 0,
        gid: stat?.gid ?? 0,
        owner: stat ? `${users[stat.uid] ?? stat.uid}:${groups[stat.gid] ?? stat.gid}` : 'root:root',
        copy: null,
      },
      content,
    };
  };
  for (const file of plan.files) {
    const entry = await describe(file.path, file.after, false);
    if (entry.content!.toString('utf8') !== file.before) {
      throw new HardenError(`${file.path} changed while harden was planning: nothing was written`, { hint: 'run harden apply again' });
    }
    copies.push(entry);
  }
  for (const companion of plan.companions) copies.push(await describe(companion.path, companion.content, true));
  const modes: SnapshotModeChange[] = [];
  for (const change of plan.modes) {
    const resolved = await resolveNode(ops, target.root, change.path);
    const stat = resolved.stat!;
    const after = change.owner ? await ownerIds(target.root, change.owner.to) : { uid: stat.uid, gid: stat.gid };
    modes.push({
      path: change.path,
      realPath: resolved.nodePath,
      modeBefore: octalMode(stat.mode),
      modeAfter: change.mode?.to ?? octalMode(stat.mode),
      uidBefore: stat.uid,
      gidBefore: stat.gid,
      ownerBefore: change.owner?.from ?? `${stat.uid}:${stat.gid}`,
      uidAfter: after.uid,
      gidAfter: after.gid,
      ownerAfter: change.owner?.to ?? `${stat.uid}:${stat.gid}`,
    });
  }
  return createSnapshot(
    ops,
    target.stateDir,
    {
      schema: 'harden.snapshot/v1',
      createdAt: change.now().toISOString(),
      toolVersion,
      kind: 'apply',
      profile: plan.profile,
      version: plan.node.version,
      revision: plan.node.revision,
      status: 'planned',
      plan,
      restartsOwed: [],
      files: copies.map((c) => c.file),
      modes,
    },
    copies,
    change.now,
  );
}

/** Every write of the plan; if one fails, the snapshot is put back before the error is reported. */
export async function writeAll(ops: FileOps, root: string, plan: Plan, snapshot: SnapshotManifest, stateDir: string): Promise<void> {
  try {
    for (const file of plan.files) await atomicReplace(ops, root, file.path, file.after);
    for (const companion of plan.companions) {
      const { uid, gid } = await ownerIds(root, 'root:root', ops);
      await atomicReplace(ops, root, companion.path, companion.content, { create: { mode: Number.parseInt(companion.mode, 8), uid, gid } });
    }
    for (const mode of snapshot.modes ?? []) await setOwnerAndMode(ops, root, mode.path, mode.uidAfter, mode.gidAfter, mode.modeAfter);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    try {
      // Restoring what was not written yet rewrites identical bytes: harmless, and simpler than tracking.
      await restoreSnapshot(ops, root, stateDir, snapshot);
    } catch (restoreError) {
      await setStatus(ops, stateDir, snapshot.id, 'put-back-failed').catch(() => undefined);
      throw new HardenError(`a write failed (${message}) and putting the files back failed too: ${(restoreError as Error).message}`, {
        exitCode: ExitCode.restoreFailed,
        hint: `the original files are in ${stateDir}/snapshots/${snapshot.id}; run harden rollback ${snapshot.id} --force`,
      });
    }
    await setStatus(ops, stateDir, snapshot.id, 'put-back');
    throw new HardenError(`a write failed, and the files already written were put back: ${message}`, { hint: `nothing is left changed; the snapshot is ${snapshot.id}` });
  }
}

async function setOwnerAndMode(ops: FileOps, root: string, path: string, uid: number, gid: number, mode: string): Promise<void> {
  await setOwner(ops, root, path, uid, gid);
  await setMode(ops, root, path, Number.parseInt(mode, 8));
}

/** Puts back what a snapshot holds: contents, modes and owners; removes the files the change created. */
export async function restoreSnapshot(ops: FileOps, root: string, stateDir: string, snapshot: SnapshotManifest, restored: string[] = []): Promise<string[]> {
  const { contents } = await readSnapshot(ops, stateDir, snapshot.id);
  for (const file of snapshot.files) {
    if (file.created) await removeFile(ops, root, file.path);
    else await atomicReplace(ops, root, file.path, contents.get(file.path)!, { create: { mode: Number.parseInt(file.mode, 8), uid: file.uid, gid: file.gid } });
    restored.push(file.path);
  }
  for (const mode of snapshot.modes ?? []) {
    await setOwnerAndMode(ops, root, mode.path, mode.uidBefore, mode.gidBefore, mode.modeBefore);
    restored.push(`${mode.path} (mode ${mode.modeBefore}, owner ${mode.ownerBefore})`);
  }
  return restored;
}

/** A gate failed: restore the snapshot, restart again, gate again; exit 3, or 4 when even that fails. */
export async function putBack(
  context: CommandContext,
  change: ChangeEffects,
  target: NodeTarget,
  restarts: readonly string[],
  snapshot: SnapshotManifest,
  why: string,
  gate: (restarts: readonly string[], what: string) => Promise<GateResult>,
): Promise<number> {
  const { io } = context.effects;
  const { ops } = change;
  io.err(`error: ${why}\n`);
  io.err(`Putting the node back from snapshot ${snapshot.id}\n`);
  const restored: string[] = [];
  try {
    await restoreSnapshot(ops, target.root, target.stateDir, snapshot, restored);
    for (const service of restarts) await change.services.restart(service);
    const again = await gate(restarts, 'after put-back');
    if (!again.ok) {
      throw new Error(
        `every file is back as it was and ${restarts.join(', ')} restarted on them, but the node is still unhealthy: ${again.failures.map((f) => f.message).join('; ')}`,
      );
    }
  } catch (error) {
    await setStatus(ops, target.stateDir, snapshot.id, 'put-back-failed').catch(() => undefined);
    const message = error instanceof Error ? error.message : String(error);
    io.err(`error: the put-back failed: ${message}\n`);
    io.err(`error: restored so far: ${restored.length ? restored.join(', ') : 'nothing'}; the original files are in ${target.stateDir}/snapshots/${snapshot.id}\n`);
    io.err(`hint: the node needs a person: journalctl -u ${restarts.join(' -u ')} says why; if files were not restored, harden rollback ${snapshot.id} --force restores them\n`);
    return ExitCode.restoreFailed;
  }
  await setStatus(ops, target.stateDir, snapshot.id, 'put-back');
  io.err(`Put back: ${restored.join(', ')} restored; ${restarts.length ? `${restarts.join(', ')} restarted and healthy again` : 'nothing to restart'}.\n`);
  io.err(`hint: see why with journalctl -u ${restarts.join(' -u ')}\n`);
  return ExitCode.restored;
}
