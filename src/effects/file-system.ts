// The filesystem, behind an interface small enough for tests to replace (to inject EACCES, EIO, a full disk…).
import { accessSync, closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, realpathSync, statSync } from 'node:fs';

export interface EntryStat {
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly dev: number;
  readonly ino: number;
  readonly nlink: number;
  /** Last modification, in ms since the epoch (what `harden drift` dates changes by); absent from test fakes. */
  readonly mtimeMs?: number;
}

export interface FileSystem {
  lstat(path: string): Promise<EntryStat>;
  stat(path: string): Promise<EntryStat>;
  readlink(path: string): Promise<string>;
  readFile(path: string): Promise<Buffer>;
  readdir(path: string): Promise<string[]>;
  /** The path with every symlink followed (a saved plan records its root's). */
  realpath(path: string): Promise<string>;
  /**
   * Opens `path` without following a symlink (ELOOP) and without blocking on a FIFO, and reads it only when the
   * open file is a regular file of at most `limit` bytes; `content` is null otherwise (see `stat`).
   */
  readRegularFile(path: string, limit: number): Promise<RegularFile>;
  /** Why `path` could not be written (`EROFS`, `EACCES`), or null when it could: access(2) with W_OK, nothing opened. */
  writeRefusal(path: string): Promise<string | null>;
}

export interface RegularFile {
  /** fstat of what was opened. */
  readonly stat: EntryStat;
  /** The bytes; null when it is not a regular file, or holds more than the limit. */
  readonly content: Buffer | null;
}

/**
 * readRegularFile, synchronously. lstat first: a symlink fails with ELOOP, and anything else that is not a
 * regular file is answered from the lstat without being opened (opening a device can have effects of its own).
 * A regular file is opened with O_NOFOLLOW|O_NONBLOCK|O_NOCTTY and checked with fstat, so one swapped for
 * something else after the lstat is not read either; at most limit + 1 bytes are read.
 */
export function readRegularFileSync(path: string, limit: number): RegularFile {
  const seen = lstatSync(path);
  if (seen.isSymbolicLink()) throw Object.assign(new Error(`ELOOP: a symlink, not followed: ${path}`), { code: 'ELOOP', path });
  if (!seen.isFile()) return { stat: seen, content: null };
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const stat = fstatSync(fd);
    // What was opened is what is answered for: a file replaced since the lstat (a lock taken over, say) is read
    // as it now is, and anything but a regular file is not read.
    if (!stat.isFile() || stat.size > limit) return { stat, content: null };
    // The size is a hint only: the file may grow while it is read, so reading stops past limit bytes.
    const parts: Buffer[] = [];
    let length = 0;
    while (length <= limit) {
      const want = Math.min(Math.max(stat.size - length + 1, 64 * 1024), limit + 1 - length);
      const chunk = Buffer.allocUnsafe(want);
      const n = readSync(fd, chunk, 0, want, null);
      if (n === 0) break;
      parts.push(chunk.subarray(0, n));
      length += n;
    }
    return { stat, content: length > limit ? null : Buffer.concat(parts, length) };
  } finally {
    closeSync(fd);
  }
}

/** What kind of thing a mode's file type is, for messages: `a FIFO`, `a directory`. */
export function fileTypeOf(mode: number): string {
  switch (mode & constants.S_IFMT) {
    case constants.S_IFREG:
      return 'a regular file';
    case constants.S_IFDIR:
      return 'a directory';
    case constants.S_IFLNK:
      return 'a symlink';
    case constants.S_IFIFO:
      return 'a FIFO';
    case constants.S_IFSOCK:
      return 'a socket';
    case constants.S_IFCHR:
      return 'a character device';
    case constants.S_IFBLK:
      return 'a block device';
    default:
      return 'not a regular file';
  }
}

/** The code of the error regularBytes refuses anything but a regular file with. */
export const NOT_REGULAR = 'ENOTREGULAR';
/** The code of the error regularBytes refuses a file over its limit with. */
export const TOO_LARGE = 'EFBIG';

function notRegular(path: string, what: string): Error {
  return Object.assign(new Error(`${NOT_REGULAR}: ${path} is ${what}`), { code: NOT_REGULAR });
}

/**
 * The bytes of the regular file at `path`, read through `readRegularFile`: anything but a regular file (a FIFO
 * or device put there after an lstat said otherwise) is refused with code ENOTREGULAR, and a file over `limit`
 * bytes with EFBIG.
 */
export async function regularBytes(fs: Pick<FileSystem, 'readRegularFile'>, path: string, limit: number): Promise<Buffer> {
  const { stat, content } = await fs.readRegularFile(path, limit);
  if (!stat.isFile()) throw notRegular(path, fileTypeOf(stat.mode));
  if (content === null) throw Object.assign(new Error(`${TOO_LARGE}: ${path} is over ${limit} bytes`), { code: TOO_LARGE });
  return content;
}

// The calls are made synchronously and their results handed back as promises. What is read is small (args
// files, locks, kubeconfigs), and a promise-based call costs several round trips through libuv's thread pool
// — for a fleet of a thousand nodes, most of the time `check` takes — where the synchronous one is one system
// call; an error is a rejected promise either way.
export const realFileSystem: FileSystem = {
  lstat: async (path) => lstatSync(path),
  stat: async (path) => statSync(path),
  readlink: async (path) => readlinkSync(path),
  readFile: async (path) => readFileSync(path),
  readdir: async (path) => readdirSync(path),
  realpath: async (path) => realpathSync(path),
  readRegularFile: async (path, limit) => readRegularFileSync(path, limit),
  writeRefusal: async (path) => {
    try {
      accessSync(path, constants.W_OK);
      return null;
    } catch (error) {
      return errorCode(error) ?? 'error';
    }
  },
};

export function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}
