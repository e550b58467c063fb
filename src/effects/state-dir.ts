// harden's state dir is an input like any other: whoever can write in it can forge the snapshot a rollback
// writes onto the node as root. So, like sshd's StrictModes, the state dir, every directory above it and
// everything harden reads inside it must belong to root (or to the user harden runs as, for a user's own
// offline copy) and be writable by nobody else. A parent with the sticky bit (/tmp) is allowed: in it only an
// entry's owner can rename or remove the entry, and that entry's owner is checked in turn.
// Inside the state dir no link is followed and nothing but directories and regular files is opened.
import path from 'node:path';
import { HardenError } from '../errors.js';
import { errorCode, fileTypeOf, type EntryStat, type FileSystem } from './file-system.js';

/** What reading the state needs (FileOps has it, and so has the read-only FileSystem). */
export type StateReader = Pick<FileSystem, 'lstat' | 'readlink' | 'readdir' | 'readRegularFile'>;

const MAX_LINKS = 40;
const STICKY = 0o1000;
const WRITABLE_BY_OTHERS = 0o022;

function effectiveUid(): number {
  return process.geteuid?.() ?? 0;
}

/** Root, and the user harden runs as. */
export function trustedUid(uid: number): boolean {
  return uid === 0 || uid === effectiveUid();
}

export interface StateDirPath {
  /** The state dir with every link on the way resolved. */
  readonly real: string;
  /** The directories of `real` that do not exist yet, outermost first. */
  readonly missing: readonly string[];
  /** The links followed on the way: `link -> target`, host paths. */
  readonly links: readonly { readonly link: string; readonly target: string }[];
}

/**
 * Walks `dir` from `/`, every component lstat'ed and checked: owned by root or this user, and not writable by
 * group or others (a parent may be if it is sticky). A link is followed only when it is owned so too. The state
 * dir itself must be a directory. Refusals are HardenErrors; an errno other than ENOENT is thrown as it is.
 */
export async function checkStateDir(reader: StateReader, dir: string): Promise<StateDirPath> {
  const given = path.resolve(dir);
  let pending = given.split('/').filter(Boolean);
  let resolved: string[] = [];
  const links: { link: string; target: string }[] = [];
  const host = (parts: readonly string[]) => `/${parts.join('/')}`;
  await checkEntry(reader, given, '/', await reader.lstat('/'), pending.length === 0);
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = [...resolved, part];
    const shown = host(candidate);
    let stat: EntryStat;
    try {
      stat = await reader.lstat(shown);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT' || pending.includes('..')) throw error;
      const missing = [part, ...pending.filter((p) => p !== '.')];
      return { real: host([...candidate, ...missing.slice(1)]), missing: missing.map((_, i) => host([...resolved, ...missing.slice(0, i + 1)])), links };
    }
    if (stat.isSymbolicLink()) {
      await checkEntry(reader, given, shown, stat, false);
      if (links.length >= MAX_LINKS) throw new HardenError(`cannot use the state directory ${given} (ELOOP)`, { hint: 'a symlink loop: fix the links on the way to it, or choose another place with --state-dir' });
      const target = await reader.readlink(shown);
      links.push({ link: shown, target });
      if (target.startsWith('/')) resolved = [];
      pending = target.split('/').filter(Boolean).concat(pending);
      continue;
    }
    const last = pending.length === 0;
    if (!stat.isDirectory()) {
      throw new HardenError(last ? `cannot use the state directory ${given}: it is not a directory` : `cannot use the state directory ${given}: ${shown} is not a directory`, {
        hint: 'move it out of the way, or choose another place with --state-dir',
      });
    }
    await checkEntry(reader, given, shown, stat, last);
    resolved = candidate;
  }
  return { real: host(resolved), missing: [], links };
}

/** One component on the way to the state dir (or the state dir itself, `last`). */
async function checkEntry(reader: StateReader, stateDir: string, entry: string, stat: EntryStat, last: boolean): Promise<void> {
  const owner = trustedUid(stat.uid) ? null : await ownerProblem(reader, stat.uid);
  const sticky = !last && !stat.isSymbolicLink() && (stat.mode & STICKY) !== 0;
  const mode = stat.isSymbolicLink() || sticky ? null : modeProblem(stat.mode);
  if (owner === null && mode === null) return;
  const subject = last ? 'it' : `its parent ${entry}`;
  const problem = [owner, mode].filter(Boolean).join(', and ');
  const chown = effectiveUid() === 0 ? 'root:root' : String(effectiveUid());
  throw new HardenError(`will not use the state directory ${stateDir}: ${subject} ${problem}${last || stat.isSymbolicLink() ? '' : ' (and replace what it holds)'}`, {
    hint: `harden trusts only state no other user can write: check what ${entry} holds, then chown ${chown} ${entry}; chmod go-w ${entry}; or choose another place with --state-dir`,
  });
}

/** `is owned by nobody (uid 65534) rather than root`. */
async function ownerProblem(reader: StateReader, uid: number): Promise<string> {
  const euid = effectiveUid();
  const who = async (id: number) => {
    const name = await userName(reader, id);
    return name === null ? `uid ${id}` : `${name} (uid ${id})`;
  };
  return `is owned by ${await who(uid)} rather than ${euid === 0 ? 'root' : `root or ${await who(euid)}`}`;
}

/** `has mode 0777, which lets group and others write to it`, or null. */
function modeProblem(mode: number): string | null {
  if ((mode & WRITABLE_BY_OTHERS) === 0) return null;
  const who = [(mode & 0o020) !== 0 && 'group', (mode & 0o002) !== 0 && 'others'].filter(Boolean).join(' and ');
  return `has mode ${(mode & 0o7777).toString(8).padStart(4, '0')}, which lets ${who} write to it`;
}

/**
 * What is wrong with an entry inside the state dir, as lstat or fstat saw it, or null: it must be a directory or
 * a regular file as `want` says, owned by root or this user, and not writable by group or others.
 */
export async function stateEntryProblem(reader: StateReader, stat: EntryStat, want: 'directory' | 'file'): Promise<string | null> {
  if (stat.isSymbolicLink()) return 'is a symlink: harden never follows links in its state dir';
  if (want === 'directory' ? !stat.isDirectory() : !stat.isFile()) return `is ${fileTypeOf(stat.mode)}, not ${want === 'directory' ? 'a directory' : 'a regular file'}`;
  const owner = trustedUid(stat.uid) ? null : await ownerProblem(reader, stat.uid);
  const mode = modeProblem(stat.mode);
  return owner === null && mode === null ? null : [owner, mode].filter(Boolean).join(', and ');
}

/**
 * The state dir to use for `root`: `stateDir` with the links on its way resolved. A state dir inside the root
 * (the default `<root>/var/lib/harden`) must stay inside it: a link that leads out of the root is refused, as
 * harden writes nothing outside --root. A state dir given outside the root is the user's choice.
 */
export async function resolveStateDir(reader: StateReader, root: string, stateDir: string): Promise<string> {
  const base = path.resolve(root);
  const given = path.resolve(stateDir);
  const relative = path.relative(base, given);
  const inside = !relative.startsWith('..') && !path.isAbsolute(relative);
  const walked = await checkStateDir(reader, given);
  if (!inside) return walked.real;
  const realRoot = (await resolveLinks(reader, base)) ?? base;
  if (walked.real === realRoot || walked.real.startsWith(`${realRoot === '/' ? '' : realRoot}/`)) return walked.real;
  const through = walked.links.find((l) => l.link.startsWith(`${realRoot}/`) || l.link.startsWith(`${base}/`)) ?? walked.links[walked.links.length - 1];
  throw new HardenError(`will not use the state directory ${given}: it leads out of --root${through ? ` through the symlink ${through.link} -> ${through.target}` : ''}`, {
    hint: 'harden keeps its state inside the node it changes: make that path a real directory inside the root, or choose a place with --state-dir',
  });
}

/** An existing directory's path with every link resolved, or null when it cannot be. */
async function resolveLinks(reader: StateReader, dir: string): Promise<string | null> {
  let pending = dir.split('/').filter(Boolean);
  let resolved: string[] = [];
  for (let links = 0; pending.length > 0; ) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = `/${[...resolved, part].join('/')}`;
    const stat = await reader.lstat(candidate).catch(() => null);
    if (!stat) return null;
    if (stat.isSymbolicLink()) {
      if ((links += 1) > MAX_LINKS) return null;
      const target = await reader.readlink(candidate);
      if (target.startsWith('/')) resolved = [];
      pending = target.split('/').filter(Boolean).concat(pending);
      continue;
    }
    resolved.push(part);
  }
  return `/${resolved.join('/')}`;
}

const names = new Map<number, string>();

/** A uid's name in this machine's /etc/passwd (the state dir lives on this machine), or null. */
async function userName(reader: StateReader, uid: number): Promise<string | null> {
  if (names.size === 0) {
    try {
      const { content } = await reader.readRegularFile('/etc/passwd', 4 * 1024 * 1024);
      for (const line of (content ?? Buffer.alloc(0)).toString('utf8').split('\n')) {
        const fields = line.split(':');
        if (fields.length >= 3 && fields[0] && /^\d+$/.test(fields[2]) && !names.has(Number(fields[2]))) names.set(Number(fields[2]), fields[0]);
      }
    } catch {
      // no names: numbers only
    }
    if (names.size === 0) names.set(-1, '');
  }
  return names.get(uid) ?? null;
}
