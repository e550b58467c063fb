// Writes to a node inside a root, the way a power cut cannot tear: a temp file next to the real file
// (through `current` into the revision dir, so a symlink is never replaced by a file), fsync, the original's
// mode and owner, rename, fsync of the directory. Node paths are resolved as the node resolves them, and a
// link that climbs out of the root is refused. Every error names the node path and the errno.
import path from 'node:path';
import { permittedNodePath, permittedText } from '../core/rule-paths.js';
import { HardenError } from '../errors.js';
import { EntryChanged, errorHint, realFileOps, tempPath, type FileOps, type OwnerAndMode } from './file-ops.js';
import { errorCode, type EntryStat } from './file-system.js';

const MAX_SYMLINKS = 40;

export interface ResolvedNodePath {
  /** The node path once every symlink is followed: `/var/snap/microk8s/6089/args/kubelet`. */
  readonly nodePath: string;
  /** The same on this machine: `<root>/var/snap/microk8s/6089/args/kubelet`. */
  readonly hostPath: string;
  /** lstat of the real path (never a symlink); null when the last component does not exist. */
  readonly stat: EntryStat | null;
}

/**
 * The real host path behind a node path: every symlink followed (absolute targets taken inside the root),
 * never a symlink itself, never outside the root. The last component may be missing (a file to create).
 */
export async function resolveNodePath(ops: FileOps, root: string, nodePath: string): Promise<string> {
  return (await resolveNode(ops, root, nodePath)).hostPath;
}

/** The same, with the resolved node path and the lstat of what is there. */
export async function resolveNode(ops: FileOps, root: string, nodePath: string): Promise<ResolvedNodePath> {
  if (!nodePath.startsWith('/')) throw new HardenError(`${nodePath} is not an absolute node path`, { hint: 'this is a bug in harden: please report it' });
  const base = path.resolve(root);
  const host = (parts: readonly string[]) => path.join(base, parts.join('/'));
  let pending = nodePath.split('/').filter(Boolean);
  let resolved: string[] = [];
  let links = 0;
  let lastLink: string | null = null;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      if (resolved.length === 0) {
        throw new HardenError(`${nodePath} leads outside the node root${lastLink ? ` (through the symlink ${lastLink})` : ''}`, {
          hint: 'fix the symlink so that it stays inside the node; harden never writes outside --root',
        });
      }
      resolved.pop();
      continue;
    }
    const candidate = [...resolved, part];
    const shown = `/${candidate.join('/')}`;
    let stat: EntryStat;
    try {
      stat = await ops.lstat(host(candidate));
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT' && pending.length === 0) return { nodePath: shown, hostPath: host(candidate), stat: null };
      throw new HardenError(`cannot resolve ${nodePath}: ${shown} (${code ?? 'error'})`, { hint: errorHint(code) });
    }
    if (stat.isSymbolicLink()) {
      links += 1;
      if (links > MAX_SYMLINKS) throw new HardenError(`cannot resolve ${nodePath} (ELOOP)`, { hint: 'a symlink loop: fix the links under this path' });
      const target = await ops.readlink(host(candidate));
      lastLink = `${shown} -> ${target}`;
      if (target.startsWith('/')) resolved = [];
      pending = [...target.split('/').filter(Boolean), ...pending];
      continue;
    }
    if (pending.length > 0 && !stat.isDirectory()) {
      throw new HardenError(`cannot resolve ${nodePath}: ${shown} (ENOTDIR)`, { hint: errorHint('ENOTDIR') });
    }
    resolved = candidate;
  }
  return { nodePath: `/${resolved.join('/')}`, hostPath: host(resolved), stat: await ops.lstat(host(resolved)) };
}

/**
 * The entry a node path names, itself: its directory resolved as the node resolves it (symlinks followed inside
 * the root), its last component never followed. `stat` is the lstat of that entry (a symlink is a symlink);
 * null when there is nothing there.
 */
export async function resolveEntry(ops: FileOps, root: string, nodePath: string): Promise<ResolvedNodePath> {
  const name = path.posix.basename(nodePath);
  if (!nodePath.startsWith('/') || name === '' || name === '.' || name === '..') {
    throw new HardenError(`${nodePath} is not a node path of a file`, { hint: 'this is a bug in harden: please report it' });
  }
  const dir = await resolveNode(ops, root, path.posix.dirname(nodePath));
  if (!dir.stat || !dir.stat.isDirectory()) {
    const code = dir.stat ? 'ENOTDIR' : 'ENOENT';
    throw new HardenError(`cannot resolve ${nodePath}: ${dir.nodePath} (${code})`, { hint: errorHint(code) });
  }
  const hostPath = path.join(dir.hostPath, name);
  const real = `${dir.nodePath === '/' ? '' : dir.nodePath}/${name}`;
  try {
    return { nodePath: real, hostPath, stat: await ops.lstat(hostPath) };
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT') return { nodePath: real, hostPath, stat: null };
    throw new HardenError(`cannot resolve ${nodePath}: ${real} (${code ?? 'error'})`, { hint: errorHint(code) });
  }
}

export interface NodeFileState {
  readonly path: string;
  readonly realPath: string;
  readonly content: Buffer;
  /** Permission bits, `0660`. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/** The real file behind a node path, with its bytes, mode and owner; null when it does not exist. */
export async function readNodeFile(ops: FileOps, root: string, nodePath: string): Promise<NodeFileState | null> {
  const real = await resolveNode(ops, root, nodePath);
  if (!real.stat) return null;
  if (!real.stat.isFile()) throw notAFile(nodePath, real);
  try {
    const content = await ops.readFile(real.hostPath);
    return { path: nodePath, realPath: real.nodePath, content, mode: real.stat.mode & 0o7777, uid: real.stat.uid, gid: real.stat.gid };
  } catch (error) {
    throw new HardenError(`cannot read ${nodePath} (${errorCode(error) ?? 'error'})`, { hint: errorHint(errorCode(error)) });
  }
}

export interface CreateOptions {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/**
 * The temp file, complete and durable with its final mode and owner before it is renamed over the real file:
 * without the fsync after chown and chmod, a power cut could leave the new content with the temp's 0600 root.
 */
export async function writeTemp(ops: FileOps, temp: string, content: Buffer | string, meta: CreateOptions): Promise<void> {
  await ops.writeNew(temp, content, 0o600);
  await ops.chown(temp, meta.uid, meta.gid);
  await ops.chmod(temp, meta.mode);
  await ops.fsync(temp);
}

/**
 * chown and chmod, made durable, of the file or directory a node path names, itself: never through a symlink
 * (the last component is opened with O_NOFOLLOW), never outside the places rules may reach, never a file with
 * a second name (a hard link), and with `change.inode` only the inode seen when the change was planned. A
 * change that is not a restore (`onlyRemove`) may only take bits away from the mode the entry has.
 */
export async function setOwnerAndMode(ops: FileOps, root: string, nodePath: string, change: OwnerAndMode): Promise<void> {
  const what = `change ${nodePath}`;
  const entry = await resolveEntry(ops, root, nodePath);
  if (!entry.stat) throw new HardenError(`cannot change ${nodePath}: it does not exist`, { hint: 'the node changed since the plan was made: run harden plan again' });
  refuseOutside(nodePath, what, entry);
  if (entry.stat.isSymbolicLink()) throw throughLink(nodePath, what, await ops.readlink(entry.hostPath).catch(() => '?'));
  try {
    await ops.setOwnerAndMode(entry.hostPath, change);
  } catch (error) {
    if (error instanceof EntryChanged) throw new HardenError(`cannot change ${nodePath}: ${error.why}`, { hint: 'nothing was changed on it: look at what is there now, then run harden plan again' });
    if (errorCode(error) === 'ELOOP') throw throughLink(nodePath, what, await ops.readlink(entry.hostPath).catch(() => '?'));
    throw writeError(nodePath, error);
  }
}

export function refuseOutside(nodePath: string, what: string, entry: ResolvedNodePath): void {
  if (permittedNodePath(entry.nodePath)) return;
  const shown = entry.nodePath === nodePath ? nodePath : `${nodePath}, which is really ${entry.nodePath},`;
  throw new HardenError(`cannot ${what}: ${shown} is not under ${permittedText()}`, {
    hint: 'harden changes nothing elsewhere: fix the symlinks on the way, or the profile',
  });
}

export function throughLink(nodePath: string, what: string, target: string): HardenError {
  return new HardenError(`cannot ${what}: it is a symlink (to ${target}), and harden never writes through one`, {
    hint: 'remove the link (whoever can write that directory may have planted it), then run harden plan again',
  });
}

/**
 * `user:group` (names or numbers) as the node's own /etc/passwd and /etc/group map them. Numbers and root (id 0
 * on every Linux) need no lookup, so a node root without /etc serves an owner of root:root; a file that must be
 * read and is missing is said plainly, before anything is written.
 */
export async function ownerIds(root: string, owner: string, ops: FileOps = realFileOps): Promise<{ uid: number; gid: number }> {
  const [user, group] = owner.split(':');
  const known = (name: string) => (/^\d+$/.test(name) ? Number(name) : name === 'root' ? 0 : null);
  const passwd = () => readIdFile(ops, root, '/etc/passwd', `the user ${user} of the owner ${owner}`);
  let uid = known(user);
  if (uid === null) {
    uid = idOf(user, await passwd());
    if (uid === null) throw unknownOwner(owner, `user ${user}`, '/etc/passwd');
  }
  if (group === undefined || group === '') {
    if (user === 'root') return { uid, gid: 0 };
    const primary = (await passwd()).find((entry) => /^\d+$/.test(user) ? entry.id === uid : entry.name === user)?.fields[3];
    if (primary !== undefined && /^\d+$/.test(primary)) return { uid, gid: Number(primary) };
    throw unknownOwner(owner, `the primary group of ${user}`, '/etc/passwd');
  }
  let gid = known(group);
  if (gid === null) {
    gid = idOf(group, await readIdFile(ops, root, '/etc/group', `the group ${group} of the owner ${owner}`));
    if (gid === null) throw unknownOwner(owner, `group ${group}`, '/etc/group');
  }
  return { uid, gid };
}

interface IdEntry {
  readonly name: string;
  readonly id: number;
  readonly fields: readonly string[];
}

/** The entries of the node's /etc/passwd or /etc/group, which `needed` (what is looked up there) requires. */
async function readIdFile(ops: FileOps, root: string, nodePath: string, needed: string): Promise<IdEntry[]> {
  const missing = () => new HardenError(`${nodePath}: missing in the node root ${root}; ${needed} is looked up there`, {
    hint: `check --root (the node's own ${nodePath} must be inside it), or give the owner as numbers (uid:gid) in the profile`,
  });
  let real: ResolvedNodePath;
  try {
    real = await resolveNode(ops, root, nodePath);
  } catch (error) {
    if (error instanceof HardenError && /\((ENOENT|ENOTDIR)\)$/.test(error.message)) throw missing();
    throw error;
  }
  if (!real.stat) throw missing();
  if (!real.stat.isFile()) {
    throw new HardenError(`${nodePath}: not a regular file in the node root ${root}; ${needed} is looked up there`, {
      hint: `check --root, or give the owner as numbers (uid:gid) in the profile`,
    });
  }
  let text: string;
  try {
    text = (await ops.readFile(real.hostPath)).toString('utf8');
  } catch (error) {
    const code = errorCode(error);
    throw new HardenError(`cannot read ${nodePath} (${code ?? 'error'}); ${needed} is looked up there`, { hint: errorHint(code) });
  }
  return text.split('\n').flatMap((line) => {
    const fields = line.split(':');
    return fields.length >= 3 && fields[0] && /^\d+$/.test(fields[2]) ? [{ name: fields[0], id: Number(fields[2]), fields }] : [];
  });
}

function idOf(name: string, entries: readonly IdEntry[]): number | null {
  if (/^\d+$/.test(name)) return Number(name);
  return entries.find((entry) => entry.name === name)?.id ?? null;
}

function unknownOwner(owner: string, what: string, file: string): HardenError {
  return new HardenError(`cannot set the owner ${owner}: the node has no ${what} in ${file}`, {
    hint: 'name a user and group that exist on the node, or fix the profile',
  });
}

export function notAFile(nodePath: string, real: ResolvedNodePath): HardenError {
  const shown = real.nodePath === nodePath ? nodePath : `${nodePath} (${real.nodePath})`;
  return new HardenError(`cannot write ${shown}: it is not a regular file`, { hint: 'move whatever is there out of the way, then run harden again' });
}

export function writeError(nodePath: string, error: unknown): HardenError {
  if (error instanceof HardenError) return error;
  const code = errorCode(error);
  return new HardenError(`cannot write ${nodePath} (${code ?? (error instanceof Error ? error.message : String(error))})`, { hint: errorHint(code) });
}
