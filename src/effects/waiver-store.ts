// Reads the waiver files given with --waivers (there is no default file: a waiver is always asked for), each
// validated with every problem on its own line, and names a node the way waivers' `nodes` globs match it.
import os from 'node:os';
import path from 'node:path';
import { appendAll } from '../core/lists.js';
import { parseWaivers, type Waiver } from '../core/waivers.js';
import { HardenError } from '../errors.js';
import { errorCode, type FileSystem } from './file-system.js';
import { RootedReader } from './node-reader.js';
import { sha256Of } from './snapshots.js';
import { waiverValidator } from './waiver-validator.js';

/** A waiver file is written by hand: a mebibyte is thousands of waivers. */
const MAX_WAIVER_BYTES = 1024 * 1024;
const HINT = 'fix the waiver file; README.md (Waivers) describes the format';

export interface LoadedWaivers {
  /** Every waiver of every file, in the order given. */
  readonly waivers: readonly Waiver[];
  /** The files as given, each once. */
  readonly files: readonly string[];
  /** `sha256:<hex>`: of the one file's bytes, or (several files) of their digests, one a line, in order; null without --waivers. */
  readonly sha256: string | null;
}

export const NO_WAIVERS: LoadedWaivers = { waivers: [], files: [], sha256: null };

/** Reads and validates every file given (each once); stops at the first file with problems, naming them all. */
export async function loadWaivers(fs: FileSystem, given: readonly string[] | undefined): Promise<LoadedWaivers> {
  const files = [...new Set(given ?? [])];
  if (files.length === 0) return NO_WAIVERS;
  const waivers: Waiver[] = [];
  const digests: string[] = [];
  for (const file of files) {
    const bytes = await readWaiverFile(fs, file);
    digests.push(sha256Of(bytes));
    const parsed = await parseWaivers(bytes.toString('utf8'), file, waiverValidator());
    if (!parsed.ok) {
      const [first, ...more] = parsed.problems;
      throw new HardenError(first, { more, hint: HINT });
    }
    appendAll(waivers, parsed.waivers);
  }
  return { waivers, files, sha256: digests.length === 1 ? digests[0] : sha256Of(`${digests.join('\n')}\n`) };
}

async function readWaiverFile(fs: FileSystem, file: string): Promise<Buffer> {
  try {
    // A FIFO would never end: only a regular file of a waiver file's size is read.
    const stat = await fs.stat(file);
    if (stat.isDirectory()) throw Object.assign(new Error('EISDIR'), { code: 'EISDIR' });
    if (!stat.isFile()) throw new HardenError(`cannot read the waiver file ${file}: not a regular file`, { hint: 'give --waivers a YAML file of waivers' });
    if (stat.size > MAX_WAIVER_BYTES) throw new HardenError(`cannot read the waiver file ${file}: it is larger than ${MAX_WAIVER_BYTES / 1024 / 1024} MiB`, { hint: 'give --waivers a YAML file of waivers' });
    return await fs.readFile(file);
  } catch (error) {
    if (error instanceof HardenError) throw error;
    const code = errorCode(error);
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (code ?? 'unreadable');
    throw new HardenError(`cannot read the waiver file ${file}: ${why}`, { hint: 'check the path given to --waivers' });
  }
}

/**
 * What a waiver's `nodes` globs are matched against: the root as given, its absolute path, and the node's
 * hostname (the root's etc/hostname; this machine's for `/`), when there is one.
 */
export async function nodeNames(fs: FileSystem, root: string): Promise<string[]> {
  const absolute = path.resolve(root);
  let hostname: string | null = null;
  try {
    hostname = (await new RootedReader(fs, absolute).readText('/etc/hostname'))?.trim().toLowerCase() || null;
  } catch {
    hostname = null;
  }
  if (!hostname && absolute === '/') hostname = os.hostname().toLowerCase();
  return [...new Set([root, absolute, ...(hostname ? [hostname] : [])])];
}
