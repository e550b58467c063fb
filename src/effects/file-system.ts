// The filesystem, behind an interface small enough for tests to replace (to inject EACCES, EIO, a full disk…).
import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';

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
}

export interface FileSystem {
  lstat(path: string): Promise<EntryStat>;
  stat(path: string): Promise<EntryStat>;
  readlink(path: string): Promise<string>;
  readFile(path: string): Promise<Buffer>;
  readdir(path: string): Promise<string[]>;
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
};

export function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}
