// Reads what is listening on a node from <root>/proc/net/tcp and tcp6. These tables belong to the network
// namespace of the process that reads them: run on the node itself (root /), in the host namespace, they are
// the node's. A node root without proc (an offline copy, a fixture) has none: `available` says so.
import path from 'node:path';
import { parseProcNet, type AddressFamily, type ByteOrder, type Listener } from '../core/proc-net.js';
import { HardenError } from '../errors.js';
import { builtin } from '../lazy.js';
import { errorCode, regularBytes, TOO_LARGE, type FileSystem } from './file-system.js';
import { RootedReader } from './node-reader.js';
import { appendAll } from '../core/lists.js';

export interface NodeListeners {
  /** False when <root>/proc/net/tcp does not exist: nothing can be said about what listens. */
  readonly available: boolean;
  /** IPv4 rows first, then IPv6, each in the kernel's order. */
  readonly listeners: Listener[];
  /** Malformed rows and unreadable tables, one line each naming the node path. */
  readonly problems: string[];
}

const TABLES: ReadonlyArray<{ readonly family: AddressFamily; readonly nodePath: string }> = [
  { family: 4, nodePath: '/proc/net/tcp' },
  { family: 6, nodePath: '/proc/net/tcp6' }, // absent when IPv6 is disabled
];

/** The node's LISTEN sockets. `byteOrder` is how its kernel prints addresses: this machine's unless given. */
export async function readListeners(fs: FileSystem, root: string, byteOrder?: ByteOrder, node = new RootedReader(fs, path.resolve(root))): Promise<NodeListeners> {
  const listeners: Listener[] = [];
  const problems: string[] = [];
  for (const { family, nodePath } of TABLES) {
    const table = await readTable(node, nodePath);
    if (table.kind === 'unreadable') problems.push(table.problem);
    if (table.kind !== 'text') {
      if (family === 4) return { available: false, listeners: [], problems };
      continue;
    }
    const parsed = parseProcNet(table.text, family, nodePath, byteOrder ?? builtin('node:os').endianness());
    appendAll(listeners, parsed.listeners);
    appendAll(problems, parsed.problems);
  }
  return { available: true, listeners, problems };
}

/** A socket table larger than this is not read: half a million sockets of 150 bytes a line. */
const MAX_TABLE_BYTES = 64 * 1024 * 1024;

type Table = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'missing' } | { readonly kind: 'unreadable'; readonly problem: string };

async function readTable(node: RootedReader, nodePath: string): Promise<Table> {
  let resolved: string | null;
  try {
    // proc/net is a link to self/net on a live system: it is followed inside the root.
    resolved = await node.resolve(nodePath);
  } catch (error) {
    if (error instanceof HardenError) return { kind: 'unreadable', problem: error.message };
    throw error;
  }
  if (resolved === null) return { kind: 'missing' };
  try {
    // Not size-checked from stat: proc files report size 0 and are read to their end. Never a FIFO or a
    // device planted in an offline copy: those are refused unopened.
    const bytes = await regularBytes(node.fs, node.host(resolved), MAX_TABLE_BYTES);
    return { kind: 'text', text: bytes.toString('latin1') };
  } catch (error) {
    const code = errorCode(error) ?? 'error';
    if (code === TOO_LARGE) return { kind: 'unreadable', problem: `cannot read ${nodePath} (over ${MAX_TABLE_BYTES / 1024 / 1024} MiB)` };
    return code === 'ENOENT' ? { kind: 'missing' } : { kind: 'unreadable', problem: `cannot read ${nodePath} (${code})` };
  }
}
