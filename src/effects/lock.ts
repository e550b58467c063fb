// One harden run at a time per state dir: a lock file holding the pid and start time, created whole (a complete
// temp file linked to its name, which fails when the lock exists), so that a run killed at any moment never
// leaves a lock without a pid. A lock left by a process that is gone (or by an earlier boot) is taken over and
// reported; a live one is a refusal.
//
// Taking over, among many runs at once. Reading a stale lock and then removing `lock` is not enough: between
// the read and the removal another run may take the stale lock over and link its own, which the removal would
// then delete (two runs in). Node has no flock, so the take-over is made safe with links and renames alone:
//
// - An *instance* is one file as read: dev, ino, size and content (pid, start time in ms, boot id). A run
//   removes a name only while it points to an instance the run has judged stale, and only while it holds the
//   *claim* on that instance: `.lock.claim-<hash of the instance>`, created whole and exclusively (link), with
//   the run's own pid. At most one run holds a claim at a time: it is created with link, which fails when it
//   exists, and removed only by its holder (a live run, never judged stale) or, once its holder is dead, by a
//   run holding the claim on the claim (the same rule, one level up).
// - Holding the claim, a run reads the name again and removes it only if it still points to the instance:
//   rename to a private name (atomic), check that what was moved is the instance, unlink it. Nothing can change
//   the name between that check and the rename: the instance's owner is dead (or of an earlier boot) and does
//   not release it, and anyone else removing it would need the claim. A live lock is never removed by anyone
//   but its owner, since its owner is alive and so it is never judged stale.
// - A run that finds the claim held by a live run waits a moment and starts again (for some 6 s at most, then
//   it is refused, naming that run and its claim); one that finds it held by a dead run takes the claim over by
//   the same rule and starts again. A run that read the stale lock long ago and claims it only after another
//   run has taken it over and let go of the claim finds `lock` changed on its second read and starts again:
//   from there it reads the new, live lock and is refused. A claim is named after its instance, so a new lock
//   at the same name (even on a reused inode: its content differs) is never covered by an old claim.
// - Without a stale lock the take-over does not begin: link to `lock` either succeeds (this run holds it) or
//   shows the holder. When the stale lock is gone, whichever run links first holds the lock; the others read
//   it, live, and are refused.
// - A run killed at any step leaves nothing that blocks the next: a claim with its dead pid (taken over as
//   above, and removed by the next run to hold the lock), the stale lock moved aside under a temp-file name
//   with its dead pid (removed with the other leftovers, see leftovers.ts), or its own temp files.
// The lock is read without following a link or opening anything but a regular file, and at most a few KB of
// it: a lock that is a link, a FIFO, a device or a directory is refused, never read.
import { constants, readFileSync } from 'node:fs';
import path from 'node:path';
import { builtin } from '../lazy.js';
import { HardenError } from '../errors.js';
import { ensurePrivateDir, errorHint, removeEmptyDirs, tempPath, type FileOps } from './file-ops.js';
import { errorCode } from './file-system.js';
import { shown } from '../ui/terminal-text.js';

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
  /** Waits `ms` before trying again while another run takes a stale lock over (tests hand in their own). */
  readonly wait?: (ms: number) => Promise<void>;
  /**
   * How long to wait for a live holder to let go (`--wait SECONDS`, in ms); 0 (the default) refuses at once.
   * The lock is tried again every quarter second until then.
   */
  readonly waitForHolderMs?: number;
  /** Told once, when this run starts waiting for a live holder. */
  readonly onWait?: (holder: LockHolder) => void;
  /** The option that makes the command wait (`--wait SECONDS`), suggested when a live holder refuses it. */
  readonly waitOption?: string;
}

/** The live run that holds a lock: its pid, and when it took the lock (ISO time, or '' when the lock does not say). */
export interface LockHolder {
  readonly pid: number;
  readonly startedAt: string;
}

/** A live run holds the lock. */
export class LockHeld extends HardenError {
  constructor(
    readonly file: string,
    readonly holder: LockHolder,
    how: { readonly waitedSeconds?: number; readonly waitOption?: string } = {},
  ) {
    super(`another harden run (${holderText(holder)}) holds ${file}${how.waitedSeconds === undefined ? '' : `, still after ${how.waitedSeconds} s of waiting`}`, {
      hint: `wait for it to finish${how.waitOption ? `, or pass ${how.waitOption} to wait for it` : ''}; if pid ${holder.pid} is not harden, remove ${file} and try again`,
    });
  }
}

/** `pid 4242, since 2026-12-06 22:41:14 UTC`. */
export function holderText(holder: LockHolder): string {
  const time = new Date(holder.startedAt);
  const since = holder.startedAt !== '' && !Number.isNaN(time.getTime()) ? time.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : 'an unknown time';
  return `pid ${holder.pid}, since ${since}`;
}

interface LockContent {
  readonly pid: number;
  readonly startedAt: string;
  readonly bootId: string | null;
}

/** One lock or claim file as read: its identity and content, and the holder the content names (null: none). */
interface Instance {
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  readonly data: Buffer;
  readonly holder: LockContent | null;
}

/** What an attempt to remove a stale instance came to. */
type Removal = { readonly kind: 'removed' } | { readonly kind: 'changed' } | { readonly kind: 'busy'; readonly pid: number; readonly claim: string };

/** Bytes read of a lock or claim: a few times what harden writes. */
const READ_LIMIT = 4096;
/** Attempts at the lock, each a link and at most one take-over; and claims on claims, each left by a kill. */
const ATTEMPTS = 100;
const CLAIM_DEPTH = 4;
const CLAIM_PREFIX = '.lock.claim-';

/** `process.kill(pid, 0)`: success or EPERM means the process exists. */
export function pidIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

/**
 * This boot's id (`/proc/sys/kernel/random/boot_id`), read through `read` (the file ops a run writes with, which
 * tests replace; by default the file itself); null when it cannot be read.
 */
async function hostBootId(read: (file: string) => Promise<Buffer | string> = async (file) => readFileSync(file)): Promise<string | null> {
  try {
    return (await read('/proc/sys/kernel/random/boot_id')).toString().trim() || null;
  } catch {
    return null;
  }
}

export function lockPath(stateDir: string): string {
  return path.join(stateDir, 'lock');
}

/** What one acquisition needs at every step. */
interface Contender {
  readonly ops: FileOps;
  readonly dir: string;
  readonly file: string;
  /** This run's lock content; its claims carry the same. */
  readonly text: string;
  readonly isStale: (holder: LockContent) => boolean;
  readonly wait: (ms: number) => Promise<void>;
}

export async function acquireLock(ops: FileOps, stateDir: string, pid: number = process.pid, options: LockOptions = {}): Promise<Lock> {
  const isAlive = options.isAlive ?? pidIsAlive;
  const clock = options.clock ?? (() => new Date());
  const bootId = await (options.bootId ?? (() => hostBootId((file) => ops.readFile(file))))();
  const file = lockPath(stateDir);
  const created = await ensurePrivateDir(ops, stateDir);
  const content: LockContent = { pid, startedAt: clock().toISOString(), bootId };
  const text = `${JSON.stringify(content)}\n`;
  const isStale = (holder: LockContent) => holderIsStale(holder, bootId, isAlive);
  const wait = options.wait ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const contender: Contender = { ops, dir: path.dirname(file), file, text, isStale, wait };

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
    const ours = await readInstance(ops, temp);
    if (ours === undefined) throw lockError(file, Object.assign(new Error('gone'), { code: 'ENOENT' }));
    const tookOverFrom = await linkWaiting(contender, temp, options, clock);
    await removeDeadClaims(contender);
    return { tookOverFrom, release: () => release(ops, file, ours, created) };
  } catch (error) {
    await ops.unlink(temp).catch(() => undefined);
    await removeEmptyDirs(ops, created);
    throw error;
  } finally {
    await ops.unlink(temp).catch(() => undefined);
  }
}

/** linkLock, tried again while a live holder keeps the lock, for as long as the caller asked to wait. */
async function linkWaiting(contender: Contender, temp: string, options: LockOptions, clock: () => Date): Promise<number | null> {
  const waitMs = options.waitForHolderMs ?? 0;
  const start = clock().getTime();
  let told = false;
  for (;;) {
    try {
      return await linkLock(contender, temp);
    } catch (error) {
      if (!(error instanceof LockHeld)) throw error;
      if (waitMs <= 0) throw new LockHeld(error.file, error.holder, { waitOption: options.waitOption });
      const left = start + waitMs - clock().getTime();
      if (left <= 0) throw new LockHeld(error.file, error.holder, { waitedSeconds: Math.round(waitMs / 100) / 10, waitOption: options.waitOption });
      if (!told) options.onWait?.(error.holder);
      told = true;
      await contender.wait(Math.min(250, left));
    }
  }
}

/**
 * The live run holding the lock in `stateDir`, or null: no lock, a stale one (its pid gone, or of an earlier
 * boot), or one that cannot be read (a read-only report never fails for it). For check and plan, which never
 * take the lock.
 */
export async function liveHolder(reader: Pick<FileOps, 'readRegularFile'>, stateDir: string, options: Pick<LockOptions, 'isAlive' | 'bootId'> = {}): Promise<LockHolder | null> {
  try {
    const read = await readLockFile(reader, lockPath(stateDir));
    if (read.kind !== 'file') return null;
    const holder = parseHolder(read.data);
    if (holder === null) return null;
    const bootId = await (options.bootId ?? (() => hostBootId()))();
    return holderIsStale(holder, bootId, options.isAlive ?? pidIsAlive) ? null : { pid: holder.pid, startedAt: holder.startedAt };
  } catch {
    return null;
  }
}

/** A lock's holder is stale when it wrote the lock in another boot, or no longer runs. */
function holderIsStale(holder: LockContent, bootId: string | null, isAlive: (pid: number) => boolean): boolean {
  return (holder.bootId !== null && bootId !== null && holder.bootId !== bootId) || !isAlive(holder.pid);
}

/** Links `temp` to the lock, taking over a stale lock on the way; answers whose lock was taken over. */
async function linkLock(contender: Contender, temp: string): Promise<number | null> {
  const { file } = contender;
  let tookOverFrom: number | null = null;
  let waits = 0;
  let busy: (Removal & { kind: 'busy' }) | null = null;
  for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
    if (await linkNew(contender.ops, temp, file)) return tookOverFrom;
    const seen = await readInstance(contender.ops, file);
    if (seen === undefined) continue; // gone between our link and our read: try again
    if (seen.holder === null) {
      throw new HardenError(`${file} holds no pid: another harden run may be starting`, {
        hint: `if no harden run is going on, remove ${file} and try again`,
      });
    }
    if (!contender.isStale(seen.holder)) throw new LockHeld(file, seen.holder);
    const removal = await removeStale(contender, file, seen, 0);
    if (removal.kind === 'removed') tookOverFrom = seen.holder.pid;
    if (removal.kind === 'busy') {
      busy = removal;
      waits += 1;
      if (attempt + 1 < ATTEMPTS) await contender.wait(Math.min(2 ** waits, 64));
    }
  }
  if (busy === null) throw new HardenError(`cannot take ${file}: other runs keep taking it`, { hint: 'wait for the other harden runs to finish' });
  throw new HardenError(`another harden run (pid ${busy.pid}) is taking over the stale lock ${file}, and has not finished`, {
    hint: `wait for it to finish; if pid ${busy.pid} is not harden, remove ${busy.claim} and try again`,
  });
}

/**
 * Removes `name` if it still points to `seen`, a stale instance, holding the claim on `seen` while it does
 * (see the top of this file). 'changed': `name` no longer points to `seen`, or a dead run's claim was removed;
 * either way the caller reads again.
 */
async function removeStale(contender: Contender, name: string, seen: Instance, depth: number): Promise<Removal> {
  const { ops, dir, text } = contender;
  const claim = path.join(dir, `${CLAIM_PREFIX}${identityHash(seen)}`);
  if (depth >= CLAIM_DEPTH) {
    throw new HardenError(`cannot take ${contender.file}: stale claims on it are left by ${CLAIM_DEPTH} killed harden runs`, {
      hint: `if no harden run is going on, remove ${dir}/${CLAIM_PREFIX}* and try again`,
    });
  }
  if (!(await createWhole(ops, claim, text))) {
    const other = await readInstance(ops, claim);
    if (other === undefined) return { kind: 'changed' };
    if (other.holder === null) {
      throw new HardenError(`${claim} holds no pid`, { hint: `if no harden run is going on, remove ${claim} and try again` });
    }
    if (!contender.isStale(other.holder)) return { kind: 'busy', pid: other.holder.pid, claim };
    const removal = await removeStale(contender, claim, other, depth + 1);
    return removal.kind === 'busy' ? removal : { kind: 'changed' };
  }
  try {
    const now = await readInstance(ops, name);
    if (now === undefined || !sameInstance(now, seen)) return { kind: 'changed' };
    const aside = tempPath(name);
    try {
      await ops.rename(name, aside);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return { kind: 'changed' };
      throw lockError(name, error);
    }
    const moved = await readInstance(ops, aside).catch(() => undefined);
    if (moved === undefined || !sameInstance(moved, seen)) {
      // Only something outside harden can get here (a person replacing the lock between the read and the
      // rename): put back what was moved, unless a new lock took its place already, and read again.
      await ops.link(aside, name).catch(() => undefined);
      await ops.unlink(aside).catch(() => undefined);
      return { kind: 'changed' };
    }
    try {
      await ops.unlink(aside);
    } catch (error) {
      throw lockError(name, error);
    }
    return { kind: 'removed' };
  } finally {
    // Ours, and so still here: a claim is removed only by its holder while that holder runs.
    await ops.unlink(claim).catch(() => undefined);
  }
}

/**
 * Removes the claims that runs killed during a take-over left (a holder that no longer runs), once this run
 * holds the lock: a claim only matters while the instance it names may still be in place. Never throws.
 */
async function removeDeadClaims(contender: Contender): Promise<void> {
  const names = await contender.ops.readdir(contender.dir).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.startsWith(CLAIM_PREFIX)).sort()) {
    const claim = path.join(contender.dir, name);
    try {
      const seen = await readInstance(contender.ops, claim);
      if (seen?.holder && contender.isStale(seen.holder)) await removeStale(contender, claim, seen, 1);
    } catch {
      // a claim that cannot be read or removed harms nothing here: this run holds the lock
    }
  }
}

/** Links `from` to `to`; false when `to` exists. */
async function linkNew(ops: FileOps, from: string, to: string): Promise<boolean> {
  try {
    await ops.link(from, to);
    return true;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw lockError(to, error);
  }
}

/** Creates `file` with `text`, whole (a temp file linked to it); false when `file` exists. */
async function createWhole(ops: FileOps, file: string, text: string): Promise<boolean> {
  const temp = tempPath(file);
  try {
    await ops.writeNew(temp, text, 0o600);
    return await linkNew(ops, temp, file);
  } catch (error) {
    if (error instanceof HardenError) throw error;
    throw lockError(file, error);
  } finally {
    await ops.unlink(temp).catch(() => undefined);
  }
}

/**
 * A lock or claim file as it is now; undefined when it has gone. Anything but a regular file is refused
 * unread: harden follows no link and opens no FIFO or device in its state dir.
 */
async function readInstance(ops: FileOps, file: string): Promise<Instance | undefined> {
  let read;
  try {
    read = await readLockFile(ops, file);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw lockError(file, error);
  }
  if (read.kind !== 'file') {
    throw new HardenError(`${file} is a ${read.kind}, not a lock file: harden follows no links and opens no special files in its state dir`, {
      hint: `if no harden run is going on, remove ${file} and try again`,
    });
  }
  return { dev: read.dev, ino: read.ino, size: read.size, data: read.data, holder: parseHolder(read.data) };
}

type LockRead =
  | { readonly kind: 'file'; readonly data: Buffer; readonly size: number; readonly dev: number; readonly ino: number }
  | { readonly kind: 'symbolic link' | 'directory' | 'FIFO' | 'socket' | 'device' };

/** A lock or claim file through the one bounded, link-refusing reader; one larger than any lock reads as empty. */
async function readLockFile(ops: Pick<FileOps, 'readRegularFile'>, file: string): Promise<LockRead> {
  let read;
  try {
    read = await ops.readRegularFile(file, READ_LIMIT);
  } catch (error) {
    if (errorCode(error) === 'ELOOP') return { kind: 'symbolic link' };
    throw error;
  }
  const { stat } = read;
  if (stat.isFile()) return { kind: 'file', data: read.content ?? Buffer.alloc(0), size: stat.size, dev: stat.dev, ino: stat.ino };
  if (stat.isSymbolicLink()) return { kind: 'symbolic link' };
  if (stat.isDirectory()) return { kind: 'directory' };
  const type = stat.mode & constants.S_IFMT;
  if (type === constants.S_IFIFO) return { kind: 'FIFO' };
  if (type === constants.S_IFSOCK) return { kind: 'socket' };
  return { kind: 'device' };
}

/** The holder a lock's content names; null when it names none. */
function parseHolder(data: Buffer): LockContent | null {
  try {
    const value = JSON.parse(data.toString('utf8')) as Partial<LockContent>;
    if (!Number.isInteger(value.pid) || (value.pid as number) <= 0) return null;
    return { pid: value.pid as number, startedAt: String(value.startedAt ?? ''), bootId: typeof value.bootId === 'string' ? value.bootId : null };
  } catch {
    return null;
  }
}

function sameInstance(a: Instance, b: Instance): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.data.equals(b.data);
}

function identityHash(instance: Instance): string {
  const hash = builtin('node:crypto').createHash('sha256');
  hash.update(`${instance.dev}:${instance.ino}:${instance.size}:`);
  hash.update(instance.data);
  return hash.digest('hex').slice(0, 20);
}

/**
 * Removes the lock if it is still ours (a run that took over a lock it thought stale must not lose it), then
 * the state dirs this run created if they stayed empty: a refused apply leaves the node as it found it.
 */
async function release(ops: FileOps, file: string, ours: Instance, created: readonly string[]): Promise<void> {
  try {
    const now = await readLockFile(ops, file);
    if (now.kind !== 'file' || !sameInstance({ ...now, holder: null }, ours)) return;
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

/**
 * For the read-only commands (check, plan), which never take the lock: says on stderr when another harden run
 * holds it, since that run may change the node (or put it back) after this report is read. Never throws.
 */
export async function warnChangeInProgress(context: { effects: { fs: Pick<FileOps, 'readRegularFile'>; io: { err(text: string): void } } }, stateDir: string): Promise<void> {
  const holder = await liveHolder(context.effects.fs, stateDir);
  if (holder === null) return;
  context.effects.io.err(`warning: a change is in progress (a harden run, ${holderText(holder)}, holds ${shown(lockPath(stateDir))}): this report may not stand once it ends\n`);
}
