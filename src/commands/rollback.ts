// `harden rollback [ID]` and `harden snapshots`: bring back what an apply changed, from its snapshot, with the
// same care as apply — a snapshot of the present state first, so that a rollback can be undone too.
import { appendAll } from '../core/lists.js';
import type { CommandModule } from 'yargs';
import { octalMode } from '../core/evaluate.js';
import { restoreProblem } from '../core/restore-check.js';
import { sameSysctlValue } from '../core/sysctl.js';
import { assessNode } from '../effects/assess.js';
import { readNodeFile, resolveEntry, resolveNode } from '../effects/node-writer.js';
import { readRunning } from '../effects/node-change.js';
import { createSnapshot, listSnapshots, pruneSnapshots, readSnapshot, removeSnapshot, setStatus, sha256Of, type SnapshotFile, type SnapshotManifest, type SnapshotModeChange } from '../effects/snapshots.js';
import { preflight } from '../effects/preflight.js';
import { EXIT_CODES_HELP, ExitCode, HardenError, UsageError } from '../errors.js';
import { profileName } from '../ui/plan-view.js';
import { changeEffects, gateRunner, probesFor, putBack, recoverFromDeadRuns, restoreSnapshot, stopIfInterrupted, takeLock } from './apply.js';
import { noInterrupts, watchInterrupts, type Interrupts } from '../effects/interrupts.js';
import { findInterruptedChange, warnInterruptedChange } from '../effects/interrupted-apply.js';
import { colorEnabled, palette } from '../ui/color.js';
import type { CommandContext, OutputOptions } from './context.js';
import { gateTimes, lockWaitSeconds, stateTarget, withGateOptions, withNodeOptions, withWaitOption, type NodeOptions, type NodeTarget } from './options.js';
import { modeChangeText, rollbackText, snapshotDiffText, type PlannedFile, type PrerequisiteView, type SnapshotView } from '../ui/snapshot-view.js';
import { shown } from '../ui/terminal-text.js';

type RollbackOptions = NodeOptions & Pick<OutputOptions, 'color'> & { id?: string; yes?: boolean; restart: boolean; force?: boolean; healthTimeout?: string; healthWindow?: string; wait?: string };

export function rollbackCommand(context: CommandContext, toolVersion: string): CommandModule<object, RollbackOptions> {
  return {
    command: 'rollback [id]',
    describe: 'Restore the files an apply changed, from its snapshot (the latest by default), restart and check health',
    builder: (yargs) =>
      withWaitOption(withGateOptions(withNodeOptions(yargs, false)))
        .positional('id', { type: 'string', describe: 'the snapshot to restore (harden snapshots list)' })
        .option('yes', { type: 'boolean', describe: 'restore without asking (needed without a terminal)' })
        .option('restart', { type: 'boolean', default: true, describe: 'restart the affected services (--no-restart writes only)' })
        .option('force', { type: 'boolean', describe: 'restore even if the files changed since the apply, or current points to another revision' })
        .option('color', { type: 'boolean', describe: 'colour the text output (--no-color turns it off; NO_COLOR is honoured)' })
        .epilogue(EXIT_CODES_HELP) as never,
    handler: async (options) => {
      // Caught for the whole run, as apply's: a signal after the first write puts the node back.
      const interrupts = watchInterrupts();
      try {
        context.setExitCode(await runRollback(context, options, toolVersion, interrupts));
      } finally {
        interrupts.dispose();
      }
    },
  };
}

/** The snapshot to roll back: the one named, or the newest apply that was not put back or rolled back already. */
async function chosenSnapshot(context: CommandContext, target: NodeTarget, id: string | undefined): Promise<SnapshotManifest> {
  const { ops } = changeEffects(context);
  if (id !== undefined) return (await readSnapshot(ops, target.stateDir, id)).manifest;
  const candidates = (await listSnapshots(ops, target.stateDir)).filter((s) => s.kind === 'apply' && s.status !== 'put-back' && s.status !== 'rolled-back');
  const latest = candidates[candidates.length - 1];
  if (!latest) throw new HardenError(`no apply to roll back in ${target.stateDir}/snapshots`, { hint: 'harden snapshots list shows what there is' });
  return latest;
}

/** Signals (`interrupts`) are taken as apply takes them: exit 130 before the first write, a put-back after it. */
export async function runRollback(context: CommandContext, options: RollbackOptions, toolVersion: string, interrupts: Interrupts = noInterrupts()): Promise<number> {
  const { io, fs } = context.effects;
  const change = changeEffects(context);
  const { ops } = change;
  const times = gateTimes(options);
  const waitSeconds = lockWaitSeconds(options);
  const target = await stateTarget(ops, options);
  // Paths, ids and names come from the snapshot and the node: shown escaped.
  const say = (line: string) => io.out(`${shown(line)}\n`);
  const paint = palette(colorEnabled({ flag: options.color, env: io.env, isTTY: io.isTTY }));

  const lock = await takeLock(context, ops, target, waitSeconds);
  try {
    await recoverFromDeadRuns(context, ops, target, lock, []);
    const snapshot = await chosenSnapshot(context, target, options.id);
    const { contents } = await readSnapshot(ops, target.stateDir, snapshot.id);
    const assessment = await assessNode(fs, target, []);
    const revision = assessment.model.report.revision;
    const refusals: string[] = [];
    if (snapshot.revision !== null && revision !== snapshot.revision) refusals.push(`current points to revision ${revision ?? 'unknown'}, the snapshot was taken on ${snapshot.revision}`);

    // What is on the node now, against what the apply left: its own writes, MicroK8s' start-up rewrites after
    // them, or — after an apply killed part-way — the original still.
    const present: { file: SnapshotFile; now: Buffer | null }[] = [];
    const modesNow = new Map<string, { mode: string; owner: string; uid: number; gid: number }>();
    const { users, groups } = assessment.facts;
    const ownerName = (uid: number, gid: number) => `${users[uid] ?? uid}:${groups[gid] ?? gid}`;
    for (const file of snapshot.files) {
      const state = await readNodeFile(ops, target.root, file.path);
      const now = state?.content ?? null;
      const hash = now ? sha256Of(now) : null;
      const known = [file.sha256After, file.sha256AfterRestart ?? null, file.sha256Before];
      if (!known.includes(hash)) refusals.push(`${file.path} changed since the apply`);
      present.push({ file, now });
      // A mode or owner changed after the apply is drift like changed bytes: the rollback would undo it unseen.
      if (state && !file.created && !(snapshot.modes ?? []).some((m) => m.realPath === file.realPath)) {
        appendAll(refusals, modeDrift(file.path, { mode: file.mode, uid: file.uid, gid: file.gid, owner: file.owner }, [], state, ownerName));
      }
    }
    for (const change of snapshot.modes ?? []) {
      const stat = (await resolveNode(ops, target.root, change.path)).stat;
      if (!stat) continue; // reported by the restore itself
      modesNow.set(change.path, { mode: octalMode(stat.mode), owner: ownerName(stat.uid, stat.gid), uid: stat.uid, gid: stat.gid });
      appendAll(refusals, modeDrift(change.path, afterOf(change), [beforeOf(change)], stat, ownerName));
    }
    // A copy that bash would run or a reader refuse is not written back unseen, whoever made the snapshot.
    for (const { file } of present) {
      if (file.created) continue;
      const problem = restoreProblem(file.path, contents.get(file.path)!, assessment.model.report.era, revision);
      if (problem !== null) refusals.push(problem);
    }
    // Modes and owners go back on the files and directories there now (inode numbers do not survive a reboot
    // or a restore from backup), never through a link: an entry gone or now a symlink is named, and with
    // --force left as it is.
    const gone = new Set<string>();
    for (const mode of snapshot.modes ?? []) {
      const stat = (await resolveEntry(ops, target.root, mode.path).catch(() => null))?.stat;
      if (!stat || !(stat.isFile() || stat.isDirectory())) {
        refusals.push(`${mode.path} is ${stat?.isSymbolicLink() ? 'a symlink' : stat ? 'not a regular file or directory' : 'gone'} now`);
        gone.add(mode.path);
      }
    }
    // The directories the apply created, and the kernel parameters it set running: as they are now.
    const directories: PrerequisiteView['directories'][number][] = [];
    for (const directory of snapshot.directories ?? []) {
      const entry = await resolveEntry(ops, target.root, directory.path).catch(() => null);
      const names = entry?.stat?.isDirectory() ? await ops.readdir(entry.hostPath).catch(() => ['?']) : null;
      if (entry?.stat && !entry.stat.isDirectory()) refusals.push(`${directory.path} is not a directory now`);
      directories.push({ path: directory.path, state: names === null ? 'gone' : names.length > 0 ? 'holds files' : 'empty' });
    }
    const running: PrerequisiteView['running'][number][] = [];
    for (const value of snapshot.running ?? []) {
      const entry = await resolveEntry(ops, target.root, value.path).catch(() => null);
      const now = entry?.stat?.isFile() ? await readRunning(ops, entry.hostPath) : null;
      if (now === null) refusals.push(`${value.path} is gone now`);
      else if (!sameSysctlValue(now, value.after) && !sameSysctlValue(now, value.before)) refusals.push(`${value.path} runs ${now} now, not the ${value.after} the apply set`);
      running.push({ path: value.path, now, to: value.before });
    }
    if (refusals.length > 0 && !options.force) {
      throw new HardenError(`will not roll back ${snapshot.id}: ${refusals.join('; ')}`, { hint: 'look at harden snapshots diff ID; pass --force to restore the snapshot anyway' });
    }
    const restarts = planRestarts(snapshot.plan);
    await preflight({
      interactive: io.interactive,
      yes: options.yes === true,
      confirming: 'the rollback',
      restart: options.restart,
      restarts,
      services: change.services,
      probes: probesFor(change, target, assessment, restarts),
    });

    const shownFiles = present.map(({ file, now }) => ({ file, now: now?.toString('utf8') ?? null }));
    const shownModes = (snapshot.modes ?? []).map((mode) => {
      const now = modesNow.get(mode.path) ?? { mode: mode.modeAfter, owner: mode.ownerAfter, uid: mode.uidAfter, gid: mode.gidAfter };
      // The same ids named two ways (`root:root` now, `0:0` in the snapshot) are no change of owner.
      const sameOwner = now.uid === mode.uidBefore && now.gid === mode.gidBefore;
      return { path: mode.path, from: now, to: { mode: mode.modeBefore, owner: sameOwner ? now.owner : mode.ownerBefore } };
    });
    io.out(rollbackText(snapshotView(snapshot, contents, target.root, shownFiles), shownModes, planRestarts(snapshot.plan), paint, { directories, running }));

    if (!options.yes) {
      if (!(await change.prompt.confirm(`Restore snapshot ${snapshot.id}?`, { signal: interrupts.signal }))) {
        say('Nothing was changed.');
        return ExitCode.error;
      }
    }

    // The present state first, so that this rollback can be rolled back in turn.
    const undo = await createSnapshot(
      ops,
      target.stateDir,
      {
        schema: 'harden.snapshot/v1',
        createdAt: change.now().toISOString(),
        toolVersion,
        kind: 'rollback',
        profile: snapshot.profile,
        version: snapshot.version,
        revision,
        status: 'planned',
        plan: snapshot.plan,
        restartsOwed: [],
        files: [],
        modes: (snapshot.modes ?? []).map((m) => ({ ...m, modeBefore: m.modeAfter, modeAfter: m.modeBefore, uidBefore: m.uidAfter, gidBefore: m.gidAfter, ownerBefore: m.ownerAfter, uidAfter: m.uidBefore, gidAfter: m.gidBefore, ownerAfter: m.ownerBefore })),
        // Running values go back to what runs now when this rollback is rolled back; a directory it removes
        // is not made again (the apply that needs it makes it).
        ...(running.length > 0 ? { running: (snapshot.running ?? []).flatMap((r, i) => (running[i].now === null ? [] : [{ key: r.key, path: r.path, before: running[i].now!, after: r.before }])) } : {}),
      },
      present.map(({ file, now }) => ({
        file: { ...file, created: now === null, sha256Before: now ? sha256Of(now) : null, sha256After: file.sha256Before, sha256AfterRestart: null, copy: null },
        content: now,
      })),
      change.now,
    );
    say(`Snapshot of the present state: ${undo.id}`);
    if (interrupts.count() > 0) {
      await removeSnapshot(ops, target.stateDir, undo.id).catch(() => undefined);
      stopIfInterrupted(interrupts);
    }
    const modes = snapshot.modes?.filter((mode) => !gone.has(mode.path)).map((mode) => ({ ...mode, inode: undefined }));
    for (const path of gone) say(`Left as it is (--force): ${path}, whose mode and owner are not restored`);
    try {
      await restoreSnapshot(ops, target.root, target.stateDir, modes ? { ...snapshot, modes } : snapshot);
    } catch (error) {
      // The snapshot of the present state says what is on disk: nothing changed (a full disk while staging), and
      // it guards nothing, so it goes; put back, or not.
      const code = error instanceof HardenError ? error.exitCode : ExitCode.restoreFailed;
      if (code === ExitCode.error) await removeSnapshot(ops, target.stateDir, undo.id).catch(() => undefined);
      else await setStatus(ops, target.stateDir, undo.id, code === ExitCode.restored ? 'put-back' : 'put-back-failed').catch(() => undefined);
      throw error;
    }
    await setStatus(ops, target.stateDir, undo.id, 'written');
    const extras = [
      ...(snapshot.modes?.length ? [`${snapshot.modes.length} modes`] : []),
      ...(snapshot.running?.length ? [`${snapshot.running.length} running kernel parameters`] : []),
    ];
    say(`Restored ${snapshot.files.length} files${extras.length > 0 ? ` and ${extras.join(' and ')}` : ''} from ${snapshot.id}.`);
    for (const d of directories) {
      if (d.state === 'empty') say(`Removed ${d.path}, which the apply created.`);
      else if (d.state === 'holds files') say(`Left ${d.path} in place: the apply created it, and it holds files now (the audit log); remove it by hand once they are kept elsewhere.`);
    }

    if (!options.restart) {
      await setStatus(ops, target.stateDir, undo.id, 'written', { restartsOwed: [...restarts] });
      await setStatus(ops, target.stateDir, snapshot.id, 'rolled-back');
      if (restarts.length) say(`Not restarted (--no-restart): ${restarts.map((s) => `snap restart ${s.replace(/^snap\./, '')}`).join(', ')} is still owed.`);
      return ExitCode.ok;
    }
    const gate = gateRunner(context, change, target, assessment, times.timeout, times.window);
    const stopped = () => `interrupted by ${interrupts.first()} after the first write`;
    for (const service of restarts) {
      if (interrupts.count() > 0) return putBack(context, change, target, restarts, undo, stopped(), gate, undefined, interrupts);
      say(`Restarting ${service}`);
      try {
        await change.services.restart(service);
      } catch (error) {
        return putBack(context, change, target, restarts, undo, `${service} did not restart: ${(error as Error).message}`, gate, undefined, interrupts);
      }
    }
    const after = await gate(restarts, 'after', interrupts.signal);
    if (after.interrupted || interrupts.count() > 0) return putBack(context, change, target, restarts, undo, stopped(), gate, undefined, interrupts);
    if (!after.ok) return putBack(context, change, target, restarts, undo, `the rollback failed its health gate: ${after.failures.map((f) => f.message).join('; ')}`, gate, undefined, interrupts);
    await setStatus(ops, target.stateDir, undo.id, 'verified');
    await setStatus(ops, target.stateDir, snapshot.id, 'rolled-back');
    say(`Rolled back ${snapshot.id}; ${restarts.length ? `${restarts.join(', ')} restarted and healthy` : 'nothing to restart'}.`);
    return ExitCode.ok;
  } finally {
    await lock.release();
  }
}

interface ModeState {
  readonly mode: string;
  readonly uid: number;
  readonly gid: number;
  readonly owner: string;
}

const afterOf = (m: SnapshotModeChange): ModeState => ({ mode: m.modeAfter, uid: m.uidAfter, gid: m.gidAfter, owner: m.ownerAfter });
const beforeOf = (m: SnapshotModeChange): ModeState => ({ mode: m.modeBefore, uid: m.uidBefore, gid: m.gidBefore, owner: m.ownerBefore });

/**
 * How a node file's mode and owner differ from what the apply left (`left`, or one of `alsoKnown`: an apply
 * stopped before its mode changes leaves the ones before, and one stopped between its chown and its chmod, or
 * cut off by a power cut before both were durable, leaves one of each), as refusals; none when they match.
 */
function modeDrift(nodePath: string, left: ModeState, alsoKnown: readonly ModeState[], now: { mode: number; uid: number; gid: number }, ownerName: (uid: number, gid: number) => string): string[] {
  const mode = octalMode(now.mode);
  const known = [left, ...alsoKnown];
  const out: string[] = [];
  if (!known.some((s) => s.mode === mode)) out.push(`${nodePath} changed mode since the apply (${left.mode} then, ${mode} now)`);
  if (!known.some((s) => s.uid === now.uid && s.gid === now.gid)) out.push(`${nodePath} changed owner since the apply (${left.owner} then, ${ownerName(now.uid, now.gid)} now)`);
  return out;
}

type SnapshotsOptions = NodeOptions & Pick<OutputOptions, 'color'> & { action: string; id?: string; keep?: number; json?: boolean };

export function snapshotsCommand(context: CommandContext): CommandModule<object, SnapshotsOptions> {
  return {
    command: 'snapshots <action> [id]',
    describe: 'List, show, diff or prune the snapshots apply and rollback take',
    builder: (yargs) =>
      withNodeOptions(yargs, false)
        .positional('action', { choices: ['list', 'show', 'diff', 'prune'], describe: 'what to do' })
        .positional('id', { type: 'string', describe: 'a snapshot id (show, diff)' })
        .option('keep', { type: 'number', describe: 'prune: how many of the newest to keep', requiresArg: true })
        .option('color', { type: 'boolean', describe: 'colour the text output (--no-color turns it off; NO_COLOR is honoured)' })
        .option('json', { type: 'boolean', describe: 'list and show as JSON' })
        .epilogue(EXIT_CODES_HELP) as never,
    handler: async (options) => {
      const { io } = context.effects;
      const { ops } = changeEffects(context);
      const target = await stateTarget(ops, options);
      if (options.action === 'list') {
        const all = await listSnapshots(ops, target.stateDir);
        await warnInterruptedChange(context, target.stateDir);
        // A change an interrupted run left unverified reads as what it is, whatever step it had recorded (JSON keeps
        // the recorded status, and says `interrupted: true`).
        const interrupted = (await findInterruptedChange(ops, target.stateDir))?.id;
        const statusOf = (s: SnapshotManifest) => (s.id === interrupted ? 'interrupted' : s.status);
        if (options.json) io.out(`${JSON.stringify(all.map(({ plan: _plan, ...rest }) => (rest.id === interrupted ? { ...rest, interrupted: true } : rest)), null, 2)}\n`);
        else if (all.length === 0) io.out(`no snapshots in ${target.stateDir}/snapshots\n`);
        else for (const s of all) io.out(`${shown(`${s.id}  ${s.kind.padEnd(8)} ${statusOf(s).padEnd(15)} ${snapshotProfile(s.profile)}  ${s.files.length} files  MicroK8s ${s.version ?? '?'} r${s.revision ?? '?'}`)}\n`);
      } else if (options.action === 'prune') {
        if (options.keep === undefined || !Number.isInteger(options.keep) || options.keep < 0) throw new UsageError('snapshots prune needs --keep N (a whole number)', { hint: 'harden snapshots prune --keep 5' });
        // Under the lock: an apply or rollback going on may be reading the snapshot it needs to put a node back.
        const lock = await takeLock(context, ops, target, 0, false);
        let removed: string[];
        try {
          removed = await pruneSnapshots(ops, target.stateDir, options.keep);
        } finally {
          await lock.release();
        }
        io.out(removed.length ? `removed ${shown(removed.join(', '))}\n` : 'nothing to prune\n');
      } else {
        if (!options.id) throw new UsageError(`snapshots ${options.action} needs a snapshot id`, { hint: 'harden snapshots list shows them' });
        const { manifest, contents } = await readSnapshot(ops, target.stateDir, options.id);
        if (options.action === 'show') {
          if (options.json) io.out(`${JSON.stringify(manifest, null, 2)}\n`);
          else {
            io.out(`${shown(`${manifest.id}: ${manifest.kind}, ${manifest.status}, profile ${snapshotProfile(manifest.profile)}, MicroK8s ${manifest.version ?? '?'} revision ${manifest.revision ?? '?'}, ${manifest.createdAt}`)}\n`);
            for (const h of manifest.history) io.out(`  ${shown(`${h.at}  ${h.status}`)}\n`);
            for (const f of manifest.files) io.out(`  ${shown(`${f.created ? '+' : '~'} ${f.path}  ${f.mode} ${f.owner}  ${f.sha256Before ?? '-'} -> ${f.sha256After}`)}\n`);
            for (const m of manifest.modes ?? []) io.out(`  ${shown(`~ ${m.path}  ${modeChangeText({ from: { mode: m.modeBefore, owner: m.ownerBefore }, to: { mode: m.modeAfter, owner: m.ownerAfter } })}`)}\n`);
          }
        } else {
          const files = [];
          for (const file of manifest.files) files.push({ file, now: (await readNodeFile(ops, target.root, file.path))?.content.toString('utf8') ?? null });
          io.out(snapshotDiffText(snapshotView(manifest, contents, target.root, files), palette(colorEnabled({ flag: options.color, env: io.env, isTTY: io.isTTY }))));
        }
      }
      context.setExitCode(ExitCode.ok);
    },
  };
}

/** A snapshot's files as the views show them: its copy (empty for a file the apply created) and what is there now. */
function snapshotView(manifest: SnapshotManifest, contents: ReadonlyMap<string, Buffer>, root: string, files: readonly { file: SnapshotFile; now: string | null }[]): SnapshotView {
  const planned = planFiles(manifest.plan);
  return {
    id: manifest.id,
    root,
    kind: manifest.kind,
    profile: snapshotProfile(manifest.profile),
    version: manifest.version,
    files: files.map(({ file, now }) => ({
      path: file.path,
      service: planned.get(file.path)?.service ?? null,
      created: file.created,
      then: file.created ? '' : contents.get(file.path)!.toString('utf8'),
      now,
      planned: planned.get(file.path)?.planned ?? null,
    })),
  };
}

/**
 * The service and the planned change of each args file, by path, from the plan a snapshot holds: unchecked
 * data (a snapshot is trusted for its copies and digests, not its plan), so only what has the right shape.
 */
function planFiles(plan: unknown): Map<string, { service: string | null; planned: PlannedFile | null }> {
  const files = (plan as { files?: unknown } | null)?.files;
  const out = new Map<string, { service: string | null; planned: PlannedFile | null }>();
  if (!Array.isArray(files)) return out;
  const isLine = (value: unknown): value is number | null => value === null || Number.isInteger(value);
  for (const file of files as Record<string, unknown>[]) {
    if (typeof file !== 'object' || file === null || typeof file.path !== 'string') continue;
    const edits = Array.isArray(file.edits) ? (file.edits as Record<string, unknown>[]) : [];
    const wellFormed = edits.every((e) => typeof e === 'object' && e !== null && Array.isArray(e.ruleIds) && (e.ruleIds as unknown[]).every((id) => typeof id === 'string') && typeof e.action === 'string' && isLine(e.line) && isLine(e.newLine));
    const planned = typeof file.before === 'string' && typeof file.after === 'string' && wellFormed ? { before: file.before, after: file.after, edits: edits as unknown as PlannedFile['edits'] } : null;
    out.set(file.path, { service: typeof file.service === 'string' ? file.service : null, planned });
  }
  return out;
}

/** The restarts the plan a snapshot holds names (MicroK8s services only, as a saved plan's schema allows), as the rollback makes them. */
function planRestarts(plan: unknown): string[] {
  const restarts = (plan as { restarts?: unknown } | null)?.restarts;
  return Array.isArray(restarts) ? restarts.filter((service): service is string => typeof service === 'string' && /^snap\.microk8s\.daemon-[a-z0-9-]+$/.test(service)) : [];
}

/** The profile of a snapshot as plans name it: a user's file by its file name and what it calls itself. */
function snapshotProfile(profile: SnapshotManifest['profile']): string {
  if (!profile) return '-';
  return profile.source === 'file' && typeof profile.file === 'string' && typeof profile.sha256 === 'string'
    ? profileName({ name: profile.name, source: 'file', file: profile.file, sha256: profile.sha256 })
    : profile.name;
}
