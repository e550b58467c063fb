// The low-level file effects that apply, snapshots and the lock need, behind one small interface so tests
// (and a crash or power-cut recorder) can hand in their own. Every write goes through here.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { HardenError } from '../errors.js';
import { builtin } from '../lazy.js';
import { errorCode, type EntryStat } from './file-system.js';

export interface FileOps {
  readFile(path: string): Promise<Buffer>;
  lstat(path: string): Promise<EntryStat>;
  readlink(path: string): Promise<string>;
  readdir(path: string): Promise<string[]>;
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
  /** Makes a file's own metadata durable (after chmod or chown). */
  fsync(path: string): Promise<void>;
  /** Makes a directory's entries durable (after a create, rename or unlink in it). */
  fsyncDir(path: string): Promise<void>;
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
  mkdir: async (path, mode) => {
    // The plain call first: a recursive mkdir reports a full disk as ENOENT.
    try {
      await fs.mkdir(path, { mode });
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
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
  fsync: syncPath,
  fsyncDir: syncPath,
};

/**
 * Creates `dir` 0700, or tightens it to 0700 when it exists with other modes: it holds copies of private files.
 * Every directory it creates is made durable in its parent, and a tightened mode on the directory itself, so
 * that a snapshot inside survives a power cut. Returns the directories it created, outermost first.
 */
export async function ensurePrivateDir(ops: FileOps, dir: string): Promise<string[]> {
  try {
    const created = await ensureDurableDir(ops, dir, 0o700);
    const stat = await ops.lstat(dir);
    if (!stat.isDirectory()) {
      throw new HardenError(`cannot use the state directory ${dir}: it is not a directory`, {
        hint: 'move it out of the way, or choose another place with --state-dir',
      });
    }
    if ((stat.mode & 0o7777) !== 0o700) {
      await ops.chmod(dir, 0o700);
      await ops.fsyncDir(dir);
    }
    return created;
  } catch (error) {
    if (error instanceof HardenError) throw error;
    throw new HardenError(`cannot use the state directory ${dir} (${errorCode(error) ?? 'error'})`, {
      hint: errorHint(errorCode(error)),
    });
  }
}

/** mkdir -p that fsyncs the parent of every directory it creates, top down. */
async function ensureDurableDir(ops: FileOps, dir: string, mode: number): Promise<string[]> {
  const missing: string[] = [];
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    try {
      await ops.lstat(at);
      break;
    } catch (error) {
      if (errorCode(error) !== 'ENOENT' || path.dirname(at) === at) throw error;
      missing.unshift(at);
    }
  }
  const made: string[] = [];
  try {
    for (const created of missing) {
      await ops.mkdir(created, mode);
      made.push(created);
      await ops.fsyncDir(path.dirname(created));
    }
  } catch (error) {
    // A full disk half-way leaves no empty directories behind.
    await removeEmptyDirs(ops, made);
    throw error;
  }
  return missing;
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
