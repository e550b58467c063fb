// The filesystem, behind an interface small enough for tests to replace (to inject EACCES, EIO, a full disk…).
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, statSync } from 'node:fs';

export interface EntryStat {
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
}

export interface FileSystem {
  lstat(path: string): Promise<EntryStat>;
  stat(path: string): Promise<EntryStat>;
  readlink(path: string): Promise<string>;
  readFile(path: string): Promise<Buffer>;
  /**
   * The bytes of the regular file at `path`, at most `maxBytes + 1` of them (more means too large). It is
   * opened without following a symlink at its end and without waiting (`O_NOFOLLOW | O_NONBLOCK`), then
   * checked with fstat: anything but a regular file (a FIFO or device put there after an lstat said
   * otherwise) is closed unread and refused with code `ENOTREGULAR`.
   */
  readRegularFile(path: string, maxBytes: number): Promise<Buffer>;
  readdir(path: string): Promise<string[]>;
}

/** The code of the error readRegularFile refuses anything but a regular file with. */
export const NOT_REGULAR = 'ENOTREGULAR';

// The calls are made synchronously and their results handed back as promises. What is read is small (args
// files, locks, kubeconfigs), and a promise-based call costs several round trips through libuv's thread pool
// — for a fleet of a thousand nodes, most of the time `check` takes — where the synchronous one is one system
// call; an error is a rejected promise either way.
export const realFileSystem: FileSystem = {
  lstat: async (path) => lstatSync(path),
  stat: async (path) => statSync(path),
  readlink: async (path) => readlinkSync(path),
  readFile: async (path) => readFileSync(path),
  readRegularFile: async (path, maxBytes) => readRegularFileSync(path, maxBytes),
  readdir: async (path) => readdirSync(path),
};

function readRegularFileSync(path: string, maxBytes: number): Buffer {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw Object.assign(new Error(`${NOT_REGULAR}: ${path} is ${specialFileKind(stat)}`), { code: NOT_REGULAR });
    // One byte more than allowed tells a file over the limit; the size fstat gives is only where reading starts.
    const buffer = Buffer.allocUnsafe(Math.min(maxBytes + 1, Math.max(stat.size + 1, 64 * 1024)));
    let length = 0;
    let chunk = buffer;
    while (length <= maxBytes) {
      if (length === chunk.length) {
        const grown = Buffer.allocUnsafe(Math.min(maxBytes + 1, chunk.length * 2));
        chunk.copy(grown, 0, 0, length);
        chunk = grown;
      }
      const read = readSync(fd, chunk, length, chunk.length - length, null);
      if (read === 0) break;
      length += read;
    }
    return chunk.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

/** What a directory entry that is neither a regular file, a directory nor a symlink is, as a phrase. */
export function specialFileKind(stat: Pick<EntryStat, 'isFIFO' | 'isSocket' | 'isCharacterDevice' | 'isBlockDevice'>): string {
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

export function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}
