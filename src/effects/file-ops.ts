// The low-level file effects that apply, snapshots and the lock need, behind one small interface so tests
// (and a crash or power-cut recorder) can hand in their own. Every write goes through here.
import { constants, promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import { HardenError } from '../errors.js';
import { builtin } from '../lazy.js';
import { errorCode, readRegularFileSync, type EntryStat, type RegularFile } from './file-system.js';
import { checkStateDir } from './state-dir.js';

export interface FileOps {
  readFile(path: string): Promise<Buffer>;
  lstat(path: string): Promise<EntryStat>;
  readlink(path: string): Promise<string>;
  readdir(path: string): Promise<string[]>;
  /**
   * Opens `path` without following a symlink (ELOOP) and without blocking on a FIFO, and reads it only when the
   * open file is a regular file of at most `limit` bytes (`content` null otherwise): harden's state is read so.
   */
  readRegularFile(path: string, limit: number): Promise<RegularFile>;
  /** Creates the directory and any missing parents (`mode` for those it creates). */
  mkdir(path: string, mode: number): Promise<void>;
  /** Creates a file that must not exist yet (O_CREAT|O_EXCL), writes it, fsyncs and closes it. */
  writeNew(path: string, data: Buffer | string, mode: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** A second name for an existing file; fails with EEXIST when `to` exists (an atomic create with content). */
  link(from: string, to: string): Promise<void>;
  chmod(path: string, mode: number): Promise<void>;
  chown(path: string, uid: number, gid: number): Promise<void>;
  unlink(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  /**
   * chown, chmod and fsync of the file or directory at `path` itself, never through a symlink: opened with
   * O_NOFOLLOW|O_NONBLOCK (a symlink fails with ELOOP, a FIFO is never waited on) and checked with fstat on that
   * descriptor before anything changes. Throws an EntryChanged when it is not what `change` expects.
   */
  setOwnerAndMode(path: string, change: OwnerAndMode): Promise<void>;
  /**
   * Writes `data` over the content of an existing regular file, in place: opened O_WRONLY|O_TRUNC with
   * O_NOFOLLOW|O_NONBLOCK and never O_CREAT, checked with fstat before the write. Only for the running values of
   * kernel parameters under /proc/sys, which cannot be replaced by a rename.
   */
  writeInPlace(path: string, data: string): Promise<void>;
  /** Makes a file's own metadata durable (after chmod or chown). */
  fsync(path: string): Promise<void>;
  /** Makes a directory's entries durable (after a create, rename or unlink in it). */
  fsyncDir(path: string): Promise<void>;
}

export interface OwnerAndMode {
  readonly uid: number;
  readonly gid: number;
  /** Permission bits, `0o600`. */
  readonly mode: number;
  /** The inode seen when the change was planned: the entry must still be that one. */
  readonly inode: { readonly dev: number; readonly ino: number } | null;
  /** Refuse a mode that would add a bit to the entry's current one (a change made on a plan, not a restore). */
  readonly onlyRemove: boolean;
}

/** What setOwnerAndMode found instead of what it expected; nothing was changed. */
export class EntryChanged extends Error {
  constructor(readonly why: string) {
    super(why);
  }
}

/** The check setOwnerAndMode makes on the fstat of its descriptor: null when the change may go ahead. */
export function ownerAndModeRefusal(stat: { isFile(): boolean; isDirectory(): boolean; mode: number; nlink: number; dev: number; ino: number }, change: OwnerAndMode): string | null {
  if (!stat.isFile() && !stat.isDirectory()) return 'it is not a regular file or a directory';
  if (stat.isFile() && stat.nlink !== 1) return `it has ${stat.nlink} hard links, so another name shares it`;
  if (change.inode && (stat.dev !== change.inode.dev || stat.ino !== change.inode.ino)) return 'it was replaced by another file since harden looked at it';
  const added = change.mode & ~stat.mode & 0o777;
  if (change.onlyRemove && added !== 0) return `its mode is ${(stat.mode & 0o777).toString(8).padStart(4, '0')} now, and ${(change.mode & 0o777).toString(8).padStart(4, '0')} would add to it`;
  return null;
}

async function syncPath(path: string): Promise<void> {
  const handle = await fs.open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export const realFileOps: FileOps = {
  readFile: (path) => fs.readFile(path),
  lstat: (path) => fs.lstat(path),
  readlink: (path) => fs.readlink(path),
  readdir: (path) => fs.readdir(path),
  readRegularFile: async (path, limit) => readRegularFileSync(path, limit),
  mkdir: async (path, mode) => {
    // The plain call first: a recursive mkdir reports a full disk as ENOENT. A directory already there is
    // taken as mkdir -p takes it (the state dir's callers check what they got).
    try {
      await fs.mkdir(path, { mode });
    } catch (error) {
      const code = errorCode(error);
      if (code !== 'ENOENT' && code !== 'EEXIST') throw error;
      await fs.mkdir(path, { recursive: true, mode });
    }
  },
  writeNew: async (path, data, mode) => {
    const handle = await fs.open(path, 'wx', mode);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } catch (error) {
      await handle.close().catch(() => undefined);
      await fs.unlink(path).catch(() => undefined);
      throw error;
    }
    await handle.close();
  },
  rename: (from, to) => fs.rename(from, to),
  link: (from, to) => fs.link(from, to),
  chmod: (path, mode) => fs.chmod(path, mode),
  chown: (path, uid, gid) => fs.chown(path, uid, gid),
  unlink: (path) => fs.unlink(path),
  rmdir: (path) => fs.rmdir(path),
  setOwnerAndMode: async (path, change) => {
    const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = constants;
    const handle = await fs.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    try {
      const refusal = ownerAndModeRefusal(await handle.stat(), change);
      if (refusal !== null) throw new EntryChanged(refusal);
      await handle.chown(change.uid, change.gid);
      await handle.chmod(change.mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  writeInPlace: async (path, data) => {
    const { O_WRONLY, O_TRUNC, O_NOFOLLOW, O_NONBLOCK } = constants;
    const handle = await fs.open(path, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_NONBLOCK);
    try {
      if (!(await handle.stat()).isFile()) throw new EntryChanged('it is not a regular file');
      await handle.write(data);
    } finally {
      await handle.close();
    }
  },
  fsync: syncPath,
  fsyncDir: syncPath,
};

/**
 * Creates `dir` 0700, or tightens it to 0700 when it exists with other modes: it holds copies of private files.
 * First of all, `dir` and every directory above it must be owned by root (or this user) and writable by no one
 * else (see state-dir.ts): nothing is created on a path another user could swap. Missing directories above
 * `dir` are created 0755, as a system has `/var/lib`, whatever the umask; only `dir` itself is private.
 * Every directory it creates is made durable in its parent, and a tightened mode on the directory itself, so
 * that a snapshot inside survives a power cut. Returns the directories it created, outermost first.
 */
export async function ensurePrivateDir(ops: FileOps, dir: string): Promise<string[]> {
  const made: string[] = [];
  try {
    const { real, missing } = await checkStateDir(ops, dir);
    for (const created of missing) {
      const mode = created === real ? 0o700 : 0o755;
      await ops.mkdir(created, mode);
      made.push(created);
      // A umask such as 077 would leave a parent 0700: every service that keeps its state next to harden's
      // (in /var/lib) would lose access to it.
      if (((await ops.lstat(created)).mode & 0o7777) !== mode) {
        await ops.chmod(created, mode);
        await ops.fsync(created);
      }
      await ops.fsyncDir(path.dirname(created));
    }
    // Checked again once made: in a sticky dir (/tmp) another user could have made one of them first, and
    // mkdir -p takes an existing directory without a word.
    if (missing.length > 0) await checkStateDir(ops, dir);
    const stat = await ops.lstat(real);
    if ((stat.mode & 0o7777) !== 0o700) {
      await ops.chmod(real, 0o700);
      await ops.fsyncDir(real);
    }
    return [...missing];
  } catch (error) {
    // A full disk half-way leaves no empty directories behind.
    await removeEmptyDirs(ops, made);
    if (error instanceof HardenError) throw error;
    throw new HardenError(`cannot use the state directory ${dir} (${errorCode(error) ?? 'error'})`, {
      hint: errorHint(errorCode(error)),
    });
  }
}

/**
 * Removes directories this run created (`ensurePrivateDir`'s answer), deepest first, while they are empty:
 * a run that ends without leaving anything leaves no trace either. Never throws.
 */
export async function removeEmptyDirs(ops: FileOps, created: readonly string[]): Promise<void> {
  for (const dir of [...created].reverse()) {
    try {
      await ops.rmdir(dir);
      await ops.fsyncDir(path.dirname(dir)).catch(() => undefined);
    } catch {
      return; // not empty (a snapshot, another run's lock) or gone: keep it and everything above it
    }
  }
}

/** The temp file harden writes next to `file` before renaming it into place: `.<name>.harden-<pid>-<hex>.tmp`. */
export function tempPath(file: string, pid: number = process.pid): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.harden-${pid}-${builtin('node:crypto').randomBytes(4).toString('hex')}.tmp`);
}

/**
 * `text` into `file` so that a crash leaves the old file or the new one, never a torn one: a harden temp file
 * next to it (written and synced), given the final mode whatever the umask, renamed over `file`, then the
 * directory synced (best effort: not every filesystem allows it). When a step fails the temp file is removed
 * and the error passed on, for the caller to name.
 */
export async function replaceFile(ops: FileOps, file: string, text: string, mode: number): Promise<void> {
  const temp = tempPath(file);
  try {
    await ops.writeNew(temp, text, 0o600);
    await ops.chmod(temp, mode);
    await ops.fsync(temp);
    await ops.rename(temp, file);
  } catch (error) {
    await ops.unlink(temp).catch(() => undefined);
    throw error;
  }
  await ops.fsyncDir(path.dirname(file)).catch(() => undefined);
}

/** The pid in a harden temp file's name, or null when the name is not one. */
export function tempFilePid(name: string): number | null {
  const match = /^\..+\.harden-(\d+)-[0-9a-f]+\.tmp$/.exec(name);
  return match ? Number(match[1]) : null;
}

/** The hint for a failed write, by errno. */
export function errorHint(code: string | undefined): string {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'run harden as root (sudo): MicroK8s keeps these files private';
    case 'ENOSPC':
    case 'EDQUOT':
      return 'the disk is full: free some space and run harden again';
    case 'EROFS':
      return 'the filesystem is mounted read-only';
    case 'ENOTDIR':
    case 'EISDIR':
      return 'something other than a directory or file is in the way: check the path';
    default:
      return 'check the disk (dmesg) and the file’s permissions, then run harden again';
  }
}
