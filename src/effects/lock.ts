// One harden run at a time per state dir: a lock file holding the pid and start time, created whole (a complete
// temp file linked to its name, which fails when the lock exists), so that a run killed at any moment never
// leaves a lock without a pid. A lock left by a process that is gone (or by an earlier boot) is taken over and
// reported; a live one is a refusal.
import path from 'node:path';
import { HardenError } from '../errors.js';
import { ensurePrivateDir, errorHint, removeEmptyDirs, tempPath, type FileOps } from './file-ops.js';
import { errorCode } from './file-system.js';

export interface Lock {
  release(): Promise<void>;
  /** The pid of a dead run whose lock was taken over, or null. */
  readonly tookOverFrom: number | null;
}

export interface LockOptions {
  /** Whether a pid is a running process (tests hand in their own). */
  readonly isAlive?: (pid: number) => boolean;
  readonly clock?: () => Date;
  /** This boot's id (`/proc/sys/kernel/random/boot_id`); a lock from another boot is stale whatever its pid. */
  readonly bootId?: () => Promise<string | null>;
}

interface LockContent {
  readonly pid: number;
  readonly startedAt: string;
  readonly bootId: string | null;
}

/** `process.kill(pid, 0)`: success or EPERM means the process exists. */
export function pidIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

async function hostBootId(ops: FileOps): Promise<string | null> {
  try {
    return (await ops.readFile('/proc/sys/kernel/random/boot_id')).toString('utf8').trim() || null;
  } catch {
    return null;
  }
}

export function lockPath(stateDir: string): string {
  return path.join(stateDir, 'lock');
}

export async function acquireLock(ops: FileOps, stateDir: string, pid: number = process.pid, options: LockOptions = {}): Promise<Lock> {
  const isAlive = options.isAlive ?? pidIsAlive;
  const clock = options.clock ?? (() => new Date());
  const bootId = await (options.bootId ?? (() => hostBootId(ops)))();
  const file = lockPath(stateDir);
  const created = await ensurePrivateDir(ops, stateDir);
  const content: LockContent = { pid, startedAt: clock().toISOString(), bootId };
  const text = `${JSON.stringify(content)}\n`;

  // The lock's content first, in a temp file of its own; a run killed before the link leaves only that temp
  // file, which the next run removes (see leftovers.ts).
  const temp = tempPath(file);
  try {
    await ops.writeNew(temp, text, 0o600);
  } catch (error) {
    await removeEmptyDirs(ops, created);
    throw lockError(file, error);
  }
  try {
    return await linkLock(ops, file, temp, text, bootId, isAlive, created);
  } catch (error) {
    await ops.unlink(temp).catch(() => undefined);
    await removeEmptyDirs(ops, created);
    throw error;
  } finally {
    await ops.unlink(temp).catch(() => undefined);
  }
}

async function linkLock(
  ops: FileOps,
  file: string,
  temp: string,
  text: string,
  bootId: string | null,
  isAlive: (pid: number) => boolean,
  created: readonly string[],
): Promise<Lock> {
  let tookOverFrom: number | null = null;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      await ops.link(temp, file);
      return { tookOverFrom, release: () => release(ops, file, text, created) };
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw lockError(file, error);
    }
    const holder = await readHolder(ops, file);
    if (holder === undefined) continue; // gone between our create and our read: try again
    if (holder === null) {
      throw new HardenError(`${file} holds no pid: another harden run may be starting`, {
        hint: `if no harden run is going on, remove ${file} and try again`,
      });
    }
    const stale = (holder.bootId !== null && bootId !== null && holder.bootId !== bootId) || !isAlive(holder.pid);
    if (!stale) {
      throw new HardenError(`another harden run (pid ${holder.pid}) holds ${file}`, {
        hint: `wait for it to finish; if pid ${holder.pid} is not harden, remove ${file} and try again`,
      });
    }
    try {
      await ops.unlink(file);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw lockError(file, error);
    }
    tookOverFrom = holder.pid;
  }
  throw new HardenError(`cannot take ${file}: other runs keep taking it`, { hint: 'wait for the other harden runs to finish' });
}

/** The lock's holder; null when the file holds no readable pid; undefined when it has gone. */
async function readHolder(ops: FileOps, file: string): Promise<LockContent | null | undefined> {
  let text: string;
  try {
    text = (await ops.readFile(file)).toString('utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw lockError(file, error);
  }
  try {
    const value = JSON.parse(text) as Partial<LockContent>;
    if (!Number.isInteger(value.pid) || (value.pid as number) <= 0) return null;
    return { pid: value.pid as number, startedAt: String(value.startedAt ?? ''), bootId: typeof value.bootId === 'string' ? value.bootId : null };
  } catch {
    return null;
  }
}

/**
 * Removes the lock if it is still ours (a run that took over a lock it thought stale must not lose it), then
 * the state dirs this run created if they stayed empty: a refused apply leaves the node as it found it.
 */
async function release(ops: FileOps, file: string, ours: string, created: readonly string[]): Promise<void> {
  try {
    if ((await ops.readFile(file)).toString('utf8') !== ours) return;
    await ops.unlink(file);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw lockError(file, error);
  }
  await removeEmptyDirs(ops, created);
}

function lockError(file: string, error: unknown): HardenError {
  const code = errorCode(error);
  return new HardenError(`cannot take the lock ${file} (${code ?? 'error'})`, { hint: errorHint(code) });
}
