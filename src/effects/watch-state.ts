// What `harden watch` keeps on disk: its policy (`<state dir>/watch.json`) and its three unit files in
// `<root>/etc/systemd/system`, each written atomically (temp file, fsync, rename, fsync of the directory); and
// `watchPolicy`, which `harden drift --watch` calls when something drifted to decide whether to re-apply.
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { CommandContext } from '../commands/context.js';
import { decideReapply, parseWatchPolicy, policyDocument, recordReapply, DEFAULT_POLICY, TRIPPING_EXIT_CODES, tripText, type WatchPolicy } from '../core/watch-policy.js';
import { UNIT_DIR } from '../core/watch-units.js';
import { HardenError } from '../errors.js';
import { ensurePrivateDir, errorHint, realFileOps, replaceFile, type FileOps } from './file-ops.js';
import { errorCode, fileTypeOf, type EntryStat } from './file-system.js';
import { resolveEntry, resolveNode } from './node-writer.js';
import { stateEntryProblem, type StateReader } from './state-dir.js';

export const POLICY_FILE = 'watch.json';
/** Far more than a policy with its 20 recorded re-applies: anything larger is refused unread. */
export const MAX_POLICY_BYTES = 256 * 1024;
/** Far more than the units harden writes. */
const MAX_UNIT_BYTES = 64 * 1024;
const POLICY_HINT = 'remove it, then set the policy again with harden watch enable-auto or harden watch disable-auto';

export function policyPath(stateDir: string): string {
  return path.join(stateDir, POLICY_FILE);
}

/**
 * The policy in `<stateDir>/watch.json`, checked before use; the default (off) when there is none. Refused with
 * one line naming the file: a symlink, anything but a regular file, a file others may write, one over
 * MAX_POLICY_BYTES, not JSON, or not harden.watch/v1.
 */
export async function readWatchPolicy(reader: StateReader, stateDir: string): Promise<WatchPolicy> {
  const file = policyPath(stateDir);
  const refuse = (why: string) => new HardenError(`cannot use the watch policy ${file}: ${why}`, { hint: POLICY_HINT });
  let read: { stat: EntryStat; content: Buffer | null };
  try {
    read = await reader.readRegularFile(file, MAX_POLICY_BYTES);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT') return DEFAULT_POLICY;
    if (code === 'ELOOP') throw refuse('it is a symlink: harden never follows links in its state dir');
    throw new HardenError(`cannot read the watch policy ${file} (${code ?? 'error'})`, { hint: errorHint(code) });
  }
  if (!read.stat.isFile()) throw refuse(`it is ${fileTypeOf(read.stat.mode)}, not a regular file`);
  const problem = await stateEntryProblem(reader, read.stat, 'file');
  if (problem !== null) throw refuse(`it ${problem}`);
  if (read.content === null) throw refuse(`it is larger than ${MAX_POLICY_BYTES / 1024} KiB`);
  let data: unknown;
  try {
    data = JSON.parse(read.content.toString('utf8'));
  } catch {
    throw refuse('it is not JSON');
  }
  const parsed = parseWatchPolicy(data);
  if (!parsed.ok) throw refuse(parsed.problem);
  return parsed.policy;
}

/** Writes the policy (0600) into the state dir, which is made (0700) when missing. */
export async function writeWatchPolicy(ops: FileOps, stateDir: string, policy: WatchPolicy): Promise<void> {
  await ensurePrivateDir(ops, stateDir);
  await writeAtomically(ops, policyPath(stateDir), policyDocument(policy), 0o600);
}

/** `text` into `file` atomically (replaceFile), errors naming the file and the errno. */
export async function writeAtomically(ops: FileOps, file: string, text: string, mode: number): Promise<void> {
  try {
    await replaceFile(ops, file, text, mode);
  } catch (error) {
    const code = errorCode(error);
    throw new HardenError(`cannot write ${file} (${code ?? (error instanceof Error ? error.message : String(error))})`, { hint: errorHint(code) });
  }
}

export interface WatchOutcome {
  readonly action: 'none' | 'reapplied' | 'skipped';
  readonly reason: string;
  /** The re-apply's exit code; null when it did not run. */
  readonly exitCode: number | null;
}

/**
 * For `harden drift --watch`, when rules drifted: reads the policy, re-applies (`reapply`, which returns the
 * apply's exit code) only when it allows, and records the outcome, tripping the policy on exit 3 or 4. A
 * re-apply that throws is recorded with its error's exit code (1 otherwise), and the error passed on.
 */
export async function watchPolicy(context: CommandContext, stateDir: string, drifted: readonly string[], reapply: () => Promise<number>): Promise<WatchOutcome> {
  const ops = context.effects.change?.ops ?? realFileOps;
  const now = context.effects.change?.now ?? (() => new Date());
  const decision = decideReapply(await readWatchPolicy(ops, stateDir), now(), drifted);
  if (!decision.reapply) return { action: decision.action, reason: decision.reason, exitCode: null };
  let exitCode: number;
  try {
    exitCode = await reapply();
  } catch (error) {
    const code = error instanceof HardenError ? error.exitCode : 1;
    await record(ops, stateDir, now(), code, drifted);
    throw error;
  }
  const updated = await record(ops, stateDir, now(), exitCode, drifted);
  const reason = TRIPPING_EXIT_CODES.includes(exitCode) && updated.trip !== null
    ? `re-applied ${drifted.length} drifted rule${drifted.length === 1 ? '' : 's'}, and it failed: automatic re-apply is ${tripText(updated.trip)}`
    : `re-applied ${drifted.length} drifted rule${drifted.length === 1 ? '' : 's'} (exit ${exitCode})`;
  return { action: 'reapplied', reason, exitCode };
}

/** The outcome recorded on the policy as it is now (a person may have changed it while the re-apply ran). */
async function record(ops: FileOps, stateDir: string, at: Date, exitCode: number, drifted: readonly string[]): Promise<WatchPolicy> {
  const updated = recordReapply(await readWatchPolicy(ops, stateDir), at, exitCode, drifted);
  await writeWatchPolicy(ops, stateDir, updated);
  return updated;
}

// ---- unit files ----------------------------------------------------------------------------------------

export interface UnitOnDisk {
  readonly name: string;
  /** Host path. */
  readonly file: string;
  /** Its text; null when there is none. */
  readonly text: string | null;
  /** Set when something other than a regular file of a unit's size is there: what. */
  readonly other: string | null;
}

/** `<root>/etc/systemd/system` on this machine, resolved inside the root; null when it is not a directory. */
export async function unitDirectory(ops: FileOps, root: string): Promise<string | null> {
  const dir = await resolveNode(ops, root, UNIT_DIR).catch((error: unknown) => {
    if (error instanceof HardenError && /\((ENOENT|ENOTDIR)\)$/.test(error.message)) return null;
    throw error;
  });
  return dir?.stat?.isDirectory() ? dir.hostPath : null;
}

/** What is at each unit's name in the unit directory (never through a symlink). */
export async function readUnits(ops: FileOps, root: string, names: readonly string[]): Promise<UnitOnDisk[]> {
  const found: UnitOnDisk[] = [];
  for (const name of names) {
    const entry = await resolveEntry(ops, root, `${UNIT_DIR}/${name}`);
    if (!entry.stat) {
      found.push({ name, file: entry.hostPath, text: null, other: null });
    } else if (entry.stat.isSymbolicLink()) {
      found.push({ name, file: entry.hostPath, text: null, other: `a symlink (to ${await ops.readlink(entry.hostPath).catch(() => '?')})` });
    } else if (!entry.stat.isFile()) {
      found.push({ name, file: entry.hostPath, text: null, other: fileTypeOf(entry.stat.mode) });
    } else {
      const { content } = await ops.readRegularFile(entry.hostPath, MAX_UNIT_BYTES);
      found.push(content === null
        ? { name, file: entry.hostPath, text: null, other: `a file over ${MAX_UNIT_BYTES / 1024} KiB` }
        : { name, file: entry.hostPath, text: content.toString('utf8'), other: null });
    }
  }
  return found;
}

/** Refuses a unit that is there as something harden would not replace or remove: a symlink, a directory. */
export function refuseOther(unit: UnitOnDisk, what: 'write' | 'remove'): void {
  if (unit.other === null) return;
  if (unit.other.startsWith('a symlink')) {
    throw new HardenError(`cannot ${what} ${unit.file}: it is ${unit.other}, and harden never ${what}s through one`, {
      hint: 'remove the link (whoever can write that directory may have planted it), then run harden watch again',
    });
  }
  throw new HardenError(`cannot ${what} ${unit.file}: it is ${unit.other}, not a unit file harden wrote`, { hint: 'move it out of the way, then run harden watch again' });
}

export async function removeUnit(ops: FileOps, file: string): Promise<void> {
  try {
    await ops.unlink(file);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT') return;
    throw new HardenError(`cannot remove ${file} (${code ?? 'error'})`, { hint: errorHint(code) });
  }
  await ops.fsyncDir(path.dirname(file)).catch(() => undefined);
}

/**
 * The argv that runs this harden again, absolute: the standalone executable alone, or node and the script it
 * was started with (bin/harden.cjs, its links resolved).
 */
export function runningHarden(): string[] {
  if (isStandalone()) return [process.execPath];
  const script = process.argv[1];
  if (!script) throw new HardenError('cannot tell which file this harden runs from', { hint: 'run harden through its executable or bin/harden.cjs' });
  let real: string;
  try {
    real = realpathSync(path.resolve(script));
  } catch (error) {
    throw new HardenError(`cannot resolve ${script}, the file this harden runs from (${errorCode(error) ?? 'error'})`, { hint: 'run harden through its executable or bin/harden.cjs' });
  }
  return [process.execPath, real];
}

function isStandalone(): boolean {
  try {
    return (createRequire(import.meta.url)('node:sea') as { isSea(): boolean }).isSea();
  } catch {
    return false;
  }
}
