// The filesystem, behind an interface small enough for tests to replace (to inject EACCES, EIO, a full disk…).
import { promises as fs } from 'node:fs';

export interface EntryStat {
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
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
  readdir(path: string): Promise<string[]>;
}

export const realFileSystem: FileSystem = {
  lstat: (path) => fs.lstat(path),
  stat: (path) => fs.stat(path),
  readlink: (path) => fs.readlink(path),
  readFile: (path) => fs.readFile(path),
  readdir: (path) => fs.readdir(path),
};

export function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}
