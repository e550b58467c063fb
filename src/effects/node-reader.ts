// Reads the facts discovery needs off a node root. Paths inside the node are resolved as if the root were
// `/` (an absolute symlink target is taken inside the root), so an offline copy of a node reads exactly
// like the node itself. Every error names the node path, never the host path behind --root.
import path from 'node:path';
import { flagsFileComponent } from '../core/consumers.js';
import type { ArgsEntry, NodeFacts } from '../core/node.js';
import { ARGS_DIR, SNAP_DATA_CURRENT } from '../core/node-env.js';
import { NodeReadError } from '../errors.js';
import { errorCode, fileTypeOf, NOT_REGULAR, regularBytes, TOO_LARGE, type EntryStat, type FileSystem } from './file-system.js';

/** Larger files are refused: no args file is anywhere near this, and reading one would be a mistake. */
export const MAX_FILE_BYTES = 16 * 1024 * 1024;
const MAX_SYMLINKS = 40;

export interface NodeLocation {
  /** The node's filesystem root on this machine. */
  readonly root: string;
  /** A host path overriding <root>/var/snap/microk8s/current/args. */
  readonly argsDir?: string;
}

/** `node` may be a reader of the same root that is reading the same node (assess shares one). */
export async function readNodeFacts(fs: FileSystem, location: NodeLocation, node = new RootedReader(fs, path.resolve(location.root))): Promise<NodeFacts> {
  const root = path.resolve(location.root);
  const rootStat = await fs.stat(root).catch(() => null);
  if (!rootStat?.isDirectory()) {
    throw new NodeReadError(`node root ${location.root} is not a directory`, {
      hint: 'pass --root the directory that holds the node’s filesystem (/ for this machine)',
    });
  }
  const args = await locateArgsDir(node, location);
  const entries = await readEntries(node, args);

  const dataRevision = await node.linkTarget(SNAP_DATA_CURRENT);
  const snapRevision = await node.linkTarget('/snap/microk8s/current');
  const lockDir = await node.resolve(`${SNAP_DATA_CURRENT}/var/lock`);
  const locks = lockDir ? await node.list(lockDir) : [];
  return {
    argsDir: args.display,
    snapYaml: await node.readText('/snap/microk8s/current/meta/snap.yaml'),
    snapRevision: snapRevision === null ? null : path.basename(snapRevision),
    dataRevision: dataRevision === null ? null : path.basename(dataRevision),
    locks: locks.sort(),
    callbackTokens: await node.readText(`${SNAP_DATA_CURRENT}/credentials/callback-tokens.txt`),
    clusterYaml: await node.readText(`${SNAP_DATA_CURRENT}/var/kubernetes/backend/cluster.yaml`),
    infoYaml: await node.readText(`${SNAP_DATA_CURRENT}/var/kubernetes/backend/info.yaml`),
    entries,
    users: parseIds(await node.readText('/etc/passwd')),
    groups: parseIds(await node.readText('/etc/group')),
  };
}

interface ArgsLocation {
  /** Resolved node path of the args dir (or host path when --args-dir lies outside the root). */
  readonly resolved: string;
  /** How to name it in output: a node path, or the --args-dir given. */
  readonly display: string;
  /** The reader that resolves links for entries of this dir: the node's, or the host's for an outside dir. */
  readonly reader: RootedReader;
}

async function locateArgsDir(node: RootedReader, location: NodeLocation): Promise<ArgsLocation> {
  if (location.argsDir !== undefined) {
    const host = path.resolve(location.argsDir);
    const inside = path.relative(node.root, host);
    const withinRoot = !inside.startsWith('..') && !path.isAbsolute(inside);
    const reader = withinRoot ? node : new RootedReader(node.fs, '/');
    const nodePath = withinRoot ? `/${inside.split(path.sep).join('/')}`.replace(/\/$/, '') || '/' : host;
    const resolved = await reader.resolve(nodePath);
    if (!resolved || !(await reader.stat(resolved))?.isDirectory()) {
      throw new NodeReadError(`args dir ${location.argsDir} is not a directory`, { hint: 'point --args-dir at the directory that holds the args files' });
    }
    return { resolved, display: withinRoot ? nodePath : location.argsDir, reader };
  }
  if (!(await node.resolve(SNAP_DATA_CURRENT))) {
    throw new NodeReadError(`${SNAP_DATA_CURRENT} not found: MicroK8s is not installed in this root`, {
      hint: 'check --root; on a node, `snap list microk8s` shows whether MicroK8s is installed',
    });
  }
  const resolved = await node.resolve(ARGS_DIR);
  const stat = resolved ? await node.stat(resolved) : null;
  if (!resolved || !stat) {
    throw new NodeReadError(`args dir ${ARGS_DIR} not found`, {
      hint: 'MicroK8s keeps its args files there; pass --args-dir if this node keeps them elsewhere',
    });
  }
  if (!stat.isDirectory()) {
    // There, but something else: a file put in its place is not the same mistake as a missing dir.
    throw new NodeReadError(`args dir ${ARGS_DIR} is not a directory (it is ${fileTypeOf(stat.mode)})`, {
      hint: 'MicroK8s reads its args files from this directory: move what is there aside and restore the directory from a backup or snapshot',
    });
  }
  return { resolved, display: ARGS_DIR, reader: node };
}

async function readEntries(node: RootedReader, args: ArgsLocation): Promise<ArgsEntry[]> {
  const reader = args.reader;
  const entries: ArgsEntry[] = [];
  for (const name of (await reader.list(args.resolved)).sort()) {
    const shown = `${args.display}/${name}`;
    const own = `${args.resolved}/${name}`;
    const linkStat = await reader.lstat(own, shown);
    let target = own;
    let symlinkTarget: string | null = null;
    if (linkStat.isSymbolicLink()) {
      symlinkTarget = await reader.fs.readlink(reader.host(own));
      const resolved = await reader.resolve(own);
      if (!resolved || !resolved.startsWith(`${args.resolved}/`)) {
        throw new NodeReadError(`${shown} is a symlink to ${symlinkTarget}, which leads outside the args dir`, {
          hint: 'replace the link with a regular file; harden never follows an args file out of the args dir',
        });
      }
      target = resolved;
    }
    // A plain entry is its own target: its lstat is already at hand.
    const stat = target === own ? linkStat : await reader.lstat(target, shown);
    const type = stat.isFile() ? 'file' : stat.isDirectory() ? 'directory' : 'other';
    const component = flagsFileComponent(name);
    if (type === 'directory' && component !== null) {
      // Not a place for a directory: the component would not start, and its rules cannot be judged.
      throw new NodeReadError(`${shown} is a directory, not an args file`, {
        hint: `${component} reads its flags from this file: move the directory out of the args dir and restore the file from a backup or snapshot`,
      });
    }
    // A FIFO, socket or device is never opened (a FIFO would block, a device could be read forever): it is
    // named for what it is, and whatever reads flags from it is judged by that.
    const special = type === 'other' ? fileTypeOf(stat.mode) : null;
    const content = type === 'file' ? await reader.readArgsFile(target, shown, stat) : null;
    entries.push({ name, type, special, symlinkTarget, mode: stat.mode, uid: stat.uid, gid: stat.gid, size: stat.size, content });
  }
  return entries;
}

/**
 * Reads node paths inside a root, resolving symlinks as the node itself would. One reader is one reading of
 * the node: the path components it has resolved (what each is, where a link leads) are remembered, so the
 * dozens of paths under `/var/snap/microk8s/current` do not each walk the same directories again.
 */
export class RootedReader {
  private readonly components = new Map<string, Promise<{ stat: EntryStat | null; target: string | null }>>();

  constructor(readonly fs: FileSystem, readonly root: string) {}

  host(nodePath: string): string {
    // Most node paths are already clean (`/var/snap/...`): joining them is a concatenation.
    if (nodePath.startsWith('/') && !nodePath.includes('//') && !nodePath.includes('/.')) return this.root === '/' ? nodePath : this.root + nodePath;
    return path.join(this.root, nodePath);
  }

  /** The node path `nodePath` leads to once every symlink is followed; null when something is missing. */
  async resolve(nodePath: string): Promise<string | null> {
    let pending = nodePath.split('/').filter(Boolean);
    let resolved: string[] = [];
    let links = 0;
    while (pending.length > 0) {
      const part = pending.shift()!;
      if (part === '.') continue;
      if (part === '..') {
        resolved.pop();
        continue;
      }
      const candidate = [...resolved, part];
      const { stat, target } = await this.component(`/${candidate.join('/')}`);
      if (!stat) return null;
      if (target === null) {
        resolved = candidate;
        continue;
      }
      links += 1;
      if (links > MAX_SYMLINKS) {
        throw new NodeReadError(`${nodePath}: too many levels of symbolic links`, { hint: 'a symlink loop: fix the links under this path' });
      }
      if (target.startsWith('/')) resolved = [];
      pending = [...target.split('/').filter(Boolean), ...pending];
    }
    return `/${resolved.join('/')}`;
  }

  /** What one path component is (lstat, null when missing) and, for a symlink, where it leads; asked once. */
  private component(nodePath: string): Promise<{ stat: EntryStat | null; target: string | null }> {
    let known = this.components.get(nodePath);
    if (!known) {
      known = this.statOrNull(nodePath, 'lstat').then(async (stat) => ({
        stat,
        target: stat?.isSymbolicLink() ? await this.fs.readlink(this.host(nodePath)) : null,
      }));
      this.components.set(nodePath, known);
    }
    return known;
  }

  /** The target of a symlink at `nodePath`, or null when it is missing or not a symlink. */
  async linkTarget(nodePath: string): Promise<string | null> {
    return (await this.component(nodePath)).target;
  }

  async stat(nodePath: string): Promise<EntryStat | null> {
    // A component already looked at that is no symlink: its lstat is its stat.
    const known = this.components.get(nodePath);
    if (known) {
      const { stat } = await known;
      if (stat && !stat.isSymbolicLink()) return stat;
    }
    return this.statOrNull(nodePath, 'stat');
  }

  async lstat(nodePath: string, shown: string): Promise<EntryStat> {
    try {
      return await this.fs.lstat(this.host(nodePath));
    } catch (error) {
      throw unreadable(shown, error);
    }
  }

  async list(nodePath: string): Promise<string[]> {
    try {
      return await this.fs.readdir(this.host(nodePath));
    } catch (error) {
      throw unreadable(nodePath, error);
    }
  }

  /** A small text file at a node path, or null when it does not exist. */
  async readText(nodePath: string): Promise<string | null> {
    const resolved = await this.resolve(nodePath);
    if (!resolved) return null;
    const stat = await this.stat(resolved);
    if (!stat?.isFile()) return null;
    return this.readArgsFile(resolved, nodePath, stat);
  }

  /**
   * Reads a regular file (`stat`, its lstat, says it is one), refusing what cannot be an args file: too
   * large, a NUL byte, not UTF-8, or no longer a regular file when opened.
   */
  async readArgsFile(nodePath: string, shown: string, stat: EntryStat): Promise<string> {
    if (stat.size > MAX_FILE_BYTES) throw tooLarge(shown, stat.size);
    let bytes: Buffer;
    try {
      bytes = await regularBytes(this.fs, this.host(nodePath), MAX_FILE_BYTES);
    } catch (error) {
      if (errorCode(error) === TOO_LARGE) throw tooLarge(shown, `more than ${MAX_FILE_BYTES}`);
      throw unreadable(shown, error);
    }
    const nul = bytes.indexOf(0);
    if (nul !== -1) {
      throw new NodeReadError(`${shown} has a NUL byte at offset ${nul}: it is binary, not an args file`, {
        hint: 'restore the file from a backup or snapshot, or move it out of the args dir',
      });
    }
    try {
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
      throw new NodeReadError(`${shown} is not UTF-8 text`, { hint: 'restore the file from a backup or snapshot, or move it out of the args dir' });
    }
  }

  private async statOrNull(nodePath: string, kind: 'stat' | 'lstat'): Promise<EntryStat | null> {
    try {
      return await this.fs[kind](this.host(nodePath));
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return null;
      throw unreadable(nodePath, error);
    }
  }
}

function tooLarge(shown: string, size: number | string): NodeReadError {
  return new NodeReadError(`${shown} is ${size} bytes, over the 16 MiB limit for an args file`, {
    hint: 'an args file holds a few dozen flags: restore it from a backup or snapshot',
  });
}

function unreadable(shown: string, error: unknown): NodeReadError {
  const code = errorCode(error) ?? 'error';
  if (code === NOT_REGULAR) {
    return new NodeReadError(`cannot read ${shown}: it is no longer a regular file (it changed while harden read the node)`, {
      hint: 'nothing else should be changing the args dir: run harden again once it is done',
    });
  }
  return new NodeReadError(`cannot read ${shown} (${code})`, {
    hint: code === 'EACCES' || code === 'EPERM' ? 'run harden as root (sudo), as MicroK8s keeps these files private' : 'check the disk and the file’s permissions',
  });
}

/** `name:x:id:…` lines of /etc/passwd or /etc/group, as id -> name; id 0 is root on every Linux, file or not. */
function parseIds(text: string | null): Record<number, string> {
  const ids: Record<number, string> = {};
  for (const line of (text ?? '').split('\n')) {
    const [name, , id] = line.split(':');
    if (name && id !== undefined && /^\d+$/.test(id) && !(Number(id) in ids)) ids[Number(id)] = name;
  }
  if (!(0 in ids)) ids[0] = 'root';
  return ids;
}
