// The change itself, once a person said yes: a durable snapshot of what the plan touches; every write of the
// plan staged next to its target before the first one lands (so that a full disk fails while nothing has
// changed), then committed by renames; and the put-back, by renames again, when a write, a restart or a health
// gate fails. The exit code says what is on disk: 1 nothing changed, 3 put back, 4 not restored.
import { octalMode, type EntryFact } from '../core/evaluate.js';
import { plannedRuleIds, runningOf, sysctlFilesOf, type Plan } from '../core/plan.js';
import type { Assessment } from '../effects/assess.js';
import { errorHint, type FileOps } from '../effects/file-ops.js';
import { errorCode } from '../effects/file-system.js';
import type { Interrupts } from '../effects/interrupts.js';
import type { GateRunner } from './apply.js';
import { stageChange, type NodeChange, type StagedChange } from '../effects/node-change.js';
import { ownerIds, resolveEntry, resolveNode } from '../effects/node-writer.js';
import type { LoadedProfile } from '../effects/profile-store.js';
import { createSnapshot, readSnapshot, removeSnapshot, setStatus, sha256Of, snapshotsDir, stageStatus, type SnapshotFile, type SnapshotManifest, type SnapshotModeChange, type StagedStatus } from '../effects/snapshots.js';
import { ExitCode, HardenError } from '../errors.js';
import type { ChangeEffects, CommandContext } from './context.js';
import type { NodeTarget } from './options.js';
import { shown } from '../ui/terminal-text.js';
import { appendAll } from '../core/lists.js';

export interface Planned {
  readonly plan: Plan;
  readonly assessment: Assessment;
  readonly profile: LoadedProfile;
}

/**
 * The durable snapshot of everything the plan changes. When it cannot be taken, nothing was changed: no trace of
 * it is left (not even a snapshots dir this run made), and the error says so.
 */
export async function takeSnapshot(change: ChangeEffects, target: NodeTarget, planned: Planned, toolVersion: string, storeIsNew: boolean, rollout?: string): Promise<SnapshotManifest> {
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
  for (const sysctl of plan.sysctls ?? []) {
    if (!sysctl.file) continue;
    const entry = await describe(sysctl.file.path, sysctl.file.after, sysctl.file.before === null);
    if (sysctl.file.before !== null && entry.content!.toString('utf8') !== sysctl.file.before) {
      throw new HardenError(`${sysctl.file.path} changed while harden was planning: nothing was written`, { hint: 'run harden apply again' });
    }
    // A file harden creates is the node's to read, like those systemd-sysctl reads: 0644 root:root.
    copies.push(sysctl.file.before === null ? { ...entry, file: { ...entry.file, mode: '0644' } } : entry);
  }
  const modes: SnapshotModeChange[] = [];
  const rewritten = new Set(copies.map((copy) => copy.file.realPath));
  for (const change of plan.modes) {
    // The entry itself, as the plan saw it: the same inode, mode and owner, or nothing is written.
    const resolved = await resolveEntry(ops, target.root, change.path);
    const stat = resolved.stat;
    const seen = plannedEntry(planned.assessment, change.path);
    if (!stat || !seen || stat.isSymbolicLink() || stat.dev !== seen.dev || stat.ino !== seen.ino || (stat.mode & 0o7777) !== (seen.mode & 0o7777) || stat.uid !== seen.uid || stat.gid !== seen.gid) {
      throw new HardenError(`${change.path} changed while harden was planning: nothing was written`, { hint: 'run harden apply again' });
    }
    const after = change.owner ? await ownerIds(target.root, change.owner.to, ops) : { uid: stat.uid, gid: stat.gid };
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
      // An args file the plan also rewrites gets a new inode from harden's own rename: its mode change follows
      // that write, still through O_NOFOLLOW, without the inode check.
      ...(rewritten.has(resolved.nodePath) ? {} : { inode: { dev: stat.dev, ino: stat.ino } }),
    });
  }
  const parent = snapshotsDir(target.stateDir);
  const watched = watchingErrors(ops);
  return createSnapshot(
    watched.ops,
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
      ...((plan.directories ?? []).length > 0 ? { directories: await Promise.all((plan.directories ?? []).map(async (d) => ({ path: d.path, realPath: (await resolveEntry(ops, target.root, d.path)).nodePath, mode: d.mode, owner: d.owner }))) } : {}),
      ...(runningOf(plan).length > 0 ? { running: runningOf(plan).map((r) => ({ key: r.key, path: r.path, before: r.from, after: r.to })) } : {}),
      ...(rollout === undefined ? {} : { rollout }),
      passed: passedAfter(planned),
      locks: locksAfter(planned),
    },
    copies,
    change.now,
  ).catch(async (error: unknown) => {
    if (storeIsNew) await removeStore(ops, target.stateDir);
    const code = watched.spaceError();
    if (code !== null) throw new HardenError(`no space left on device for the snapshot in ${parent} (${code}); nothing was changed`, { hint: errorHint(code) });
    if (error instanceof HardenError) throw new HardenError(`${error.message}; nothing was changed`, { hint: error.hint ?? undefined });
    throw error;
  });
}

/** The node's `var/lock` entries once the plan is carried out: those there now, and the lock files it creates. */
function locksAfter(planned: Planned): string[] {
  const created = planned.plan.companions.flatMap((c) => (/^\/var\/snap\/microk8s\/[^/]+\/var\/lock\/[^/]+$/.test(c.path) ? [c.path.slice(c.path.lastIndexOf('/') + 1)] : []));
  return [...new Set([...planned.assessment.facts.locks, ...created])].sort();
}

/** The rules that pass once the plan is carried out: those passing now, and those it fixes. */
function passedAfter(planned: Planned): string[] {
  const fixed = plannedRuleIds(planned.plan);
  return [...new Set([...planned.assessment.results.filter((r) => r.status === 'PASS').map((r) => r.id), ...fixed])].sort();
}

/** The entry a file-mode change was planned from: the rule's own path, or an entry of the directory it matched. */
function plannedEntry(assessment: Assessment, nodePath: string): EntryFact | null {
  const { entries, listings } = assessment.answers;
  const own = entries[nodePath];
  if (own) return own;
  const slash = nodePath.lastIndexOf('/');
  return listings[nodePath.slice(0, slash)]?.find((entry) => entry.name === nodePath.slice(slash + 1)) ?? null;
}

/** Whether the snapshots dir is still to be made: a run that changes nothing then leaves none behind. */
export async function storeIsNew(ops: FileOps, stateDir: string): Promise<boolean> {
  return ops.lstat(snapshotsDir(stateDir)).then(
    () => false,
    () => true,
  );
}

/** Removes the snapshots dir this run made, if it is empty. Never throws. */
async function removeStore(ops: FileOps, stateDir: string): Promise<void> {
  await ops.rmdir(snapshotsDir(stateDir)).then(() => ops.fsyncDir(stateDir), () => undefined).catch(() => undefined);
}

/** File ops that remember whether any of them met a full disk (ENOSPC, EDQUOT): the reason, whatever the error says. */
function watchingErrors(ops: FileOps): { ops: FileOps; spaceError(): string | null } {
  let seen: string | null = null;
  const watched = Object.fromEntries(
    Object.entries(ops).map(([name, op]) => [
      name,
      async (...args: unknown[]) => {
        try {
          return await (op as (...a: unknown[]) => Promise<unknown>).apply(ops, args);
        } catch (error) {
          const code = errorCode(error);
          if (code === 'ENOSPC' || code === 'EDQUOT') seen = code;
          throw error;
        }
      },
    ]),
  ) as unknown as FileOps;
  return { ops: watched, spaceError: () => seen };
}

/**
 * Every write of the plan: all staged first (a failure there changed nothing: the snapshot is removed, exit 1),
 * then committed by renames and recorded in the snapshot as `written` (with `patch`, staged too). When the commit or the
 * record fails, what was written is put back by renames (exit 3; 4 only when that fails too). The staged change
 * is returned for a put-back after a failed restart or gate; `finish` it once the change is kept.
 */
export async function writeAll(
  ops: FileOps,
  root: string,
  plan: Plan,
  snapshot: SnapshotManifest,
  stateDir: string,
  options: { patch?: Partial<SnapshotManifest>; storeIsNew?: boolean; beforeFirstWrite?: () => void } = {},
): Promise<StagedChange> {
  let staged: StagedChange | null = null;
  let written: StagedStatus;
  try {
    staged = await stageChange(ops, root, await planChange(ops, root, plan, snapshot));
    const watched = watchingErrors(ops);
    written = await stageStatus(watched.ops, stateDir, snapshot.id, 'written', options.patch ?? {}).catch((error: unknown) => Promise.reject(nothingChanged(error, watched.spaceError(), `the snapshot ${snapshot.id}`)));
    // The last moment to stop with nothing written (a signal): what was staged goes, as after a failure.
    try {
      options.beforeFirstWrite?.();
    } catch (error) {
      await written.discard();
      throw error;
    }
  } catch (error) {
    // Nothing on the node changed: a snapshot of it would guard nothing, and would say something false.
    await staged?.finish();
    await removeSnapshot(ops, stateDir, snapshot.id).catch(() => undefined);
    if (options.storeIsNew) await removeStore(ops, stateDir);
    throw error;
  }
  try {
    await staged.commit();
    await written.commit();
  } catch (error) {
    await written.discard();
    const message = error instanceof Error ? error.message : String(error);
    const back = await staged.putBack();
    await staged.finish();
    if (back.failures.length > 0) {
      await setStatus(ops, stateDir, snapshot.id, 'put-back-failed').catch(() => undefined);
      throw new HardenError(`a write failed (${message}) and putting the files back failed too: ${back.failures.join('; ')}`, {
        exitCode: ExitCode.restoreFailed,
        hint: `the original files are in ${stateDir}/snapshots/${snapshot.id}; run harden rollback ${snapshot.id} --force`,
      });
    }
    const recorded = await recordPutBack(ops, stateDir, snapshot.id);
    throw new HardenError(`a write failed, and the files already written were put back: ${message}`, { exitCode: ExitCode.restored, hint: `nothing is left changed; ${recorded}` });
  }
  return staged;
}

/** The error for a failure before the first write: says that nothing was changed, and names a full disk. */
function nothingChanged(error: unknown, spaceError: string | null, what: string): HardenError {
  const message = error instanceof Error ? error.message : String(error);
  if (spaceError !== null) return new HardenError(`no space left on device to record the change in ${what} (${spaceError}); nothing was changed`, { hint: errorHint(spaceError) });
  return new HardenError(`${message}; nothing was changed`, { hint: error instanceof HardenError ? error.hint ?? undefined : undefined });
}


/** The plan as a change to the node: its directories, files and companions, the running kernel parameters, and the modes and owners the snapshot records. */
async function planChange(ops: FileOps, root: string, plan: Plan, snapshot: SnapshotManifest): Promise<NodeChange> {
  const creates = plan.companions.length + (plan.directories ?? []).length + (plan.sysctls ?? []).length > 0;
  const { uid, gid } = creates ? await ownerIds(root, 'root:root', ops) : { uid: 0, gid: 0 };
  const sysctlFiles = sysctlFilesOf(plan);
  return {
    directories: await Promise.all((plan.directories ?? []).map(async (d) => ({ path: d.path, to: { ...(await ownerIds(root, d.owner, ops)), mode: Number.parseInt(d.mode, 8) } }))),
    writes: [
      ...plan.files.map((file) => ({ path: file.path, content: file.after })),
      ...plan.companions.map((companion) => ({ path: companion.path, content: companion.content, create: { mode: Number.parseInt(companion.mode, 8), uid, gid } })),
      ...sysctlFiles.map((file) => ({ path: file.path, content: file.after, create: { mode: 0o644, uid, gid } })),
    ],
    running: runningOf(plan).map((r) => ({ key: r.key, path: r.path, from: r.from, to: r.to })),
    removals: [],
    modes: (snapshot.modes ?? []).map((mode) => ({
      path: mode.path,
      to: { uid: mode.uidAfter, gid: mode.gidAfter, mode: Number.parseInt(mode.modeAfter, 8) },
      inode: mode.inode ?? null,
      onlyRemove: true,
      label: `${mode.path} (mode ${mode.modeBefore}, owner ${mode.ownerBefore})`,
    })),
  };
}

/**
 * Records `put-back` once the node is as it was. A disk still full may leave no room even for that: the
 * snapshot, which would then say something false, is removed (that needs no space). Says which, for a hint.
 */
async function recordPutBack(ops: FileOps, stateDir: string, id: string): Promise<string> {
  if (await setStatus(ops, stateDir, id, 'put-back').then(() => true, () => false)) return `the snapshot is ${id}`;
  if (await removeSnapshot(ops, stateDir, id).then(() => true, () => false)) return 'the snapshot could not record the put-back and was removed';
  return `the snapshot ${id} could not record the put-back`;
}

/**
 * Puts back what a snapshot holds: contents, modes and owners; removes the files the change created. Staged like
 * any change: a failure before the first write changes nothing, and one after it is put back (exit 3).
 */
export async function restoreSnapshot(ops: FileOps, root: string, stateDir: string, snapshot: SnapshotManifest, restored: string[] = []): Promise<string[]> {
  const { contents } = await readSnapshot(ops, stateDir, snapshot.id);
  const change: NodeChange = {
    writes: snapshot.files.filter((file) => !file.created).map((file) => ({ path: file.path, content: contents.get(file.path)!, create: { mode: Number.parseInt(file.mode, 8), uid: file.uid, gid: file.gid } })),
    removals: snapshot.files.filter((file) => file.created).map((file) => file.path),
    modes: (snapshot.modes ?? []).map((mode) => ({ path: mode.path, to: { uid: mode.uidBefore, gid: mode.gidBefore, mode: Number.parseInt(mode.modeBefore, 8) }, inode: null })),
    running: (snapshot.running ?? []).map((r) => ({ key: r.key, path: r.path, from: null, to: r.before })),
    directoryRemovals: (snapshot.directories ?? []).map((d) => d.path),
  };
  const staged = await stageChange(ops, root, change);
  let kept: string[];
  try {
    kept = await staged.commit();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const back = await staged.putBack();
    await staged.finish();
    if (back.failures.length > 0) {
      throw new HardenError(`a write failed (${message}) and putting the files back failed too: ${back.failures.join('; ')}`, {
        exitCode: ExitCode.restoreFailed,
        hint: `the files to restore are in ${stateDir}/snapshots/${snapshot.id}; run harden rollback ${snapshot.id} --force`,
      });
    }
    throw new HardenError(`a write failed, and the files already written were put back: ${message}`, { exitCode: ExitCode.restored, hint: 'nothing is left changed' });
  }
  await staged.finish();
  const keptSet = new Set(kept);
  appendAll(restored, (snapshot.directories ?? []).map((d) => (keptSet.has(d.path) ? `${d.path} (it holds files now: left in place)` : d.path)));
  appendAll(restored, snapshot.files.map((file) => file.path));
  appendAll(restored, (snapshot.modes ?? []).map((mode) => `${mode.path} (mode ${mode.modeBefore}, owner ${mode.ownerBefore})`));
  appendAll(restored, (snapshot.running ?? []).map((r) => `${r.path} (${r.before})`));
  return restored;
}

/**
 * A restart or a gate failed, or a signal came: put the files back (by renames when the change is still staged,
 * from the snapshot otherwise), restart again, gate again; exit 3, or 4 when even that fails. Signals during
 * it (`interrupts`): the second says what the third would abandon; the third leaves the node as it is then,
 * between two steps (a gate's wait is cut short), records the snapshot `interrupted`, and names the rollback.
 */
export async function putBack(
  context: CommandContext,
  change: ChangeEffects,
  target: NodeTarget,
  restarts: readonly string[],
  snapshot: SnapshotManifest,
  why: string,
  gate: GateRunner,
  staged?: StagedChange,
  interrupts?: Interrupts,
): Promise<number> {
  const { io } = context.effects;
  const { ops } = change;
  gate.note(`error: ${shown(why)}\n`);
  io.err(`Putting the node back from snapshot ${snapshot.id}\n`);
  const restored: string[] = [];
  const written = snapshot.files.map((file) => file.path).concat((snapshot.modes ?? []).map((mode) => mode.path));
  const services = restarts.length > 0 ? restarts.join(', ') : null;
  let step: 'files' | 'restarts' | 'gate' = 'files';
  /** The node as it is at this step, for a person deciding whether to leave it so. */
  const state = () =>
    step === 'files'
      ? `${written.join(', ')} written${services ? `, ${services} running on them` : ''}`
      : step === 'restarts'
        ? `the files are back${services ? `, ${services} not restarted on them` : ''}`
        : `the files are back${services ? ` and ${services} restarted, not yet seen healthy` : ''}`;
  const leave = new AbortController();
  interrupts?.onSignal((count) => {
    if (count >= 3) leave.abort(new Error('interrupted three times'));
    else gate.note(`${shown(`interrupt again to leave the node as it is now: ${state()}; harden rollback ${snapshot.id} restores it`)}\n`);
  });
  const left = async (): Promise<number> => {
    await setStatus(ops, target.stateDir, snapshot.id, 'interrupted').catch(() => undefined);
    gate.note(`error: ${shown(`interrupted three times: the node is left as it is now: ${state()}`)}\n`);
    io.err(`hint: ${shown(`run harden rollback ${snapshot.id} to put it back`)}\n`);
    return ExitCode.restoreFailed;
  };
  try {
    if (staged) {
      // The originals are still next to their files: renamed back, with no space needed.
      const back = await staged.putBack();
      await staged.finish();
      appendAll(restored, back.restored);
      for (const kept of back.kept) io.err(`note: ${shown(`${kept}: the apply created it, and the service wrote into it before the put-back`)}\n`);
      if (back.failures.length > 0) throw new Error(`cannot put back ${back.failures.join('; ')}`);
    } else {
      await restoreSnapshot(ops, target.root, target.stateDir, snapshot, restored);
    }
    step = 'restarts';
    for (const service of restarts) {
      if (leave.signal.aborted) return await left();
      await change.services.restart(service);
    }
    if (leave.signal.aborted) return await left();
    step = 'gate';
    const again = await gate(restarts, 'after put-back', leave.signal);
    if (again.interrupted || leave.signal.aborted) return await left();
    if (!again.ok) {
      throw new Error(
        `every file is back as it was and ${restarts.join(', ')} restarted on them, but the node is still unhealthy: ${again.failures.map((f) => f.message).join('; ')}`,
      );
    }
  } catch (error) {
    await setStatus(ops, target.stateDir, snapshot.id, 'put-back-failed').catch(() => undefined);
    const message = error instanceof Error ? error.message : String(error);
    gate.note(`error: the put-back failed: ${shown(message)}\n`);
    io.err(`error: restored so far: ${restored.length ? shown(restored.join(', ')) : 'nothing'}; the original files are in ${shown(`${target.stateDir}/snapshots/${snapshot.id}`)}\n`);
    io.err(`hint: the node needs a person: journalctl -u ${restarts.join(' -u ')} says why; if files were not restored, harden rollback ${snapshot.id} --force restores them\n`);
    return ExitCode.restoreFailed;
  }
  const recorded = await recordPutBack(ops, target.stateDir, snapshot.id);
  if (!recorded.startsWith('the snapshot is ')) io.err(`note: ${shown(recorded)}\n`);
  io.err(`Put back: ${shown(restored.join(', '))} restored; ${restarts.length ? `${restarts.join(', ')} restarted and healthy again` : 'nothing to restart'}.\n`);
  io.err(`hint: see why with journalctl -u ${restarts.join(' -u ')}\n`);
  return ExitCode.restored;
}
