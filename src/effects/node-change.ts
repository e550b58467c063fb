// A change to a node's files that a full disk cannot leave half-made. Everything that takes space happens
// first, while the node is still untouched (staging): every new content is written to a temp file next to its
// target, complete with its final mode and owner and fsynced, and every file to be replaced or removed is given
// a second name next to it (a hard link: the original itself, kept without copying a byte). If staging fails,
// the temps are removed and nothing on the node has changed. The commit is then renames, unlinks, chowns and
// chmods only, and so is the put-back: remove what the change created, rename every original back, restore
// modes and owners, fsync the directories. Neither needs a free inode or block.
// Every temp and second name is named like any harden temp file (`.<name>.harden-<pid>-<hex>.tmp`), so that
// what a killed run leaves behind is found and removed by leftovers.ts.
import path from 'node:path';
import { HardenError } from '../errors.js';
import { errorHint, tempPath, type FileOps } from './file-ops.js';
import { errorCode } from './file-system.js';
import { sameSysctlValue } from '../core/sysctl.js';
import { notAFile, refuseOutside, resolveEntry, resolveNode, setOwnerAndMode, throughLink, writeError, writeTemp, type CreateOptions } from './node-writer.js';

/** New content for a node file: it replaces the file (keeping its mode and owner), or creates it with `create`. */
export interface FileWrite {
  readonly path: string;
  readonly content: Buffer | string;
  readonly create?: CreateOptions;
}

export interface Ownership {
  readonly uid: number;
  readonly gid: number;
  /** Permission bits. */
  readonly mode: number;
}

/** A mode and owner change; what it changes from is read when it is staged, and is what a put-back restores. */
export interface ModeWrite {
  readonly path: string;
  readonly to: Ownership;
  /** The inode the plan saw: the entry must still be that one (null for a file the change itself rewrites). */
  readonly inode?: { readonly dev: number; readonly ino: number } | null;
  /** A change made on a plan only takes bits away; a restore may give them back. */
  readonly onlyRemove?: boolean;
  /** How a put-back names it: `<path> (mode 0660, owner root:microk8s)`; made from the numbers by default. */
  readonly label?: string;
}

/** A directory to create, empty, with this mode and owner. */
export interface DirectoryWrite {
  readonly path: string;
  readonly to: Ownership;
}

/**
 * A kernel parameter's running value, written in place into its existing file under /proc/sys (procfs files
 * cannot be replaced by a rename) and read back. `from`: what the plan saw there, which must still be there
 * (null for a restore, which puts `to` back whatever runs now).
 */
export interface RunningWrite {
  readonly key: string;
  /** `/proc/sys/vm/overcommit_memory`. */
  readonly path: string;
  readonly from: string | null;
  readonly to: string;
}

export interface NodeChange {
  readonly writes: readonly FileWrite[];
  /** Node paths of files to remove (files an earlier change created). */
  readonly removals: readonly string[];
  readonly modes: readonly ModeWrite[];
  /** Directories to create, before anything else is written. */
  readonly directories?: readonly DirectoryWrite[];
  /** Node paths of directories an earlier change created, removed last, and only when they are empty. */
  readonly directoryRemovals?: readonly string[];
  readonly running?: readonly RunningWrite[];
}

export interface PutBackResult {
  /** What was put back: node paths, and `path (mode …, owner …)` for modes. */
  readonly restored: string[];
  /** One line per thing that could not be put back; empty when the node is as it was. */
  readonly failures: string[];
  /** Directories the change created that now hold files (an audit log): left in place, each with why. */
  readonly kept: string[];
}

export interface StagedChange {
  /**
   * Renames, unlinks, chowns and chmods only, and the in-place writes of running kernel parameters. Throws the
   * first failure; putBack then undoes what was done. Resolves to the directories it was to remove and kept,
   * because they hold files now.
   */
  commit(): Promise<string[]>;
  /** Undoes what commit did, by rename, unlink, chown and chmod: nothing that needs space. Never throws. */
  putBack(): Promise<PutBackResult>;
  /** Removes the temps and second names still there (after a commit kept, or a put-back). Never throws. */
  finish(): Promise<void>;
}

interface StagedMode {
  readonly path: string;
  readonly to: Ownership;
  readonly inode: { readonly dev: number; readonly ino: number } | null;
  readonly onlyRemove: boolean;
  readonly from: Ownership;
  readonly label: string;
  started: boolean;
}

interface StagedDirectory {
  readonly nodePath: string;
  readonly hostPath: string;
  /** The new directory under its temp name, until the commit renames it into place. */
  temp: string | null;
  committed: boolean;
}

interface StagedRunning {
  readonly key: string;
  readonly nodePath: string;
  readonly hostPath: string;
  /** What runs now, read when staged: what a put-back writes again. */
  readonly before: string;
  readonly to: string;
  written: boolean;
}

interface Target {
  readonly nodePath: string;
  readonly hostPath: string;
  /** The new content, staged; null for a removal. */
  temp: string | null;
  /** The original's second name; null when the file did not exist. */
  keep: string | null;
  committed: boolean;
}

/**
 * Stages a change: every new content in a temp file and every original under a second name, next to its target.
 * On failure, removes what it staged and throws an error that says nothing was changed.
 */
export async function stageChange(ops: FileOps, root: string, change: NodeChange): Promise<StagedChange> {
  const targets: Target[] = [];
  const modes: StagedMode[] = [];
  const directories: StagedDirectory[] = [];
  const running: StagedRunning[] = [];
  const removedDirectories: { nodePath: string; hostPath: string }[] = [];
  const staged = stagedChange(ops, root, { targets, modes, directories, running, removedDirectories });
  let current = '';
  // Whatever is staged is in `targets` before it is made, so that a failure part-way removes all of it.
  try {
    for (const directory of change.directories ?? []) {
      current = directory.path;
      // Made where its path itself names it, in a parent resolved inside the root and where rules may reach.
      const real = await resolveEntry(ops, root, directory.path);
      refuseOutside(directory.path, `create ${directory.path}`, real);
      if (real.stat?.isSymbolicLink()) throw throughLink(directory.path, `create ${directory.path}`, await ops.readlink(real.hostPath).catch(() => '?'));
      if (real.stat) throw new HardenError(`cannot create ${directory.path}: it exists now`, { hint: 'the node changed since the plan was made: run harden plan again' });
      const entry: StagedDirectory = { nodePath: directory.path, hostPath: real.hostPath, temp: tempPath(real.hostPath), committed: false };
      directories.push(entry);
      await ops.mkdir(entry.temp!, directory.to.mode);
      await ops.chown(entry.temp!, directory.to.uid, directory.to.gid);
      await ops.chmod(entry.temp!, directory.to.mode);
      await ops.fsync(entry.temp!);
    }
    for (const value of change.running ?? []) {
      current = value.path;
      running.push(await stageRunning(ops, root, value));
    }
    for (const removal of change.directoryRemovals ?? []) {
      current = removal;
      const real = await resolveEntry(ops, root, removal);
      if (!real.stat) continue;
      refuseOutside(removal, `remove ${removal}`, real);
      if (!real.stat.isDirectory()) throw new HardenError(`cannot remove ${removal}: it is not a directory now`, { hint: 'move whatever is there out of the way, then run harden again' });
      removedDirectories.push({ nodePath: removal, hostPath: real.hostPath });
    }
    for (const mode of change.modes) {
      current = mode.path;
      // The entry itself, never what a link there points to.
      const real = await resolveEntry(ops, root, mode.path);
      if (!real.stat) throw new HardenError(`cannot change ${mode.path}: it does not exist`, { hint: 'the node changed since the plan was made: run harden plan again' });
      refuseOutside(mode.path, `change ${mode.path}`, real);
      if (real.stat.isSymbolicLink()) throw throughLink(mode.path, `change ${mode.path}`, await ops.readlink(real.hostPath).catch(() => '?'));
      const from = { mode: real.stat.mode & 0o7777, uid: real.stat.uid, gid: real.stat.gid };
      modes.push({
        path: mode.path,
        to: mode.to,
        inode: mode.inode ?? null,
        onlyRemove: mode.onlyRemove ?? false,
        from,
        label: mode.label ?? `${mode.path} (mode ${octal(from.mode)}, owner ${from.uid}:${from.gid})`,
        started: false,
      });
    }
    for (const write of change.writes) {
      current = write.path;
      let real = await resolveNode(ops, root, write.path);
      if (real.stat && !real.stat.isFile()) throw notAFile(write.path, real);
      if (!real.stat && !write.create) throw new HardenError(`cannot write ${write.path}: it does not exist`, { hint: 'the node changed since the plan was made: run harden plan again' });
      if (!real.stat) {
        // A new file is created where its path itself names it, never where a dangling link there points.
        real = await resolveEntry(ops, root, write.path);
        refuseOutside(write.path, `create ${write.path}`, real);
        if (real.stat?.isSymbolicLink()) throw throughLink(write.path, `create ${write.path}`, await ops.readlink(real.hostPath).catch(() => '?'));
        if (real.stat) throw new HardenError(`cannot create ${write.path}: it exists now`, { hint: 'the node changed since the plan was made: run harden plan again' });
      }
      const meta = real.stat ? { mode: real.stat.mode & 0o7777, uid: real.stat.uid, gid: real.stat.gid } : write.create!;
      const target: Target = { nodePath: write.path, hostPath: real.hostPath, temp: null, keep: null, committed: false };
      targets.push(target);
      target.temp = tempPath(real.hostPath);
      await writeTemp(ops, target.temp, write.content, meta);
      if (real.stat) await secondName(ops, target);
    }
    for (const removal of change.removals) {
      current = removal;
      // The entry itself: a link planted where the file was is never followed to remove what it points to.
      const real = await resolveEntry(ops, root, removal);
      if (!real.stat) continue;
      if (!real.stat.isFile()) throw notAFile(removal, real);
      const target: Target = { nodePath: removal, hostPath: real.hostPath, temp: null, keep: null, committed: false };
      targets.push(target);
      await secondName(ops, target);
    }
  } catch (error) {
    await staged.finish();
    throw nothingChanged(current, error);
  }
  return staged;
}

/**
 * A running value to write: its file under /proc/sys, itself (no link on the way or at the end), a regular file
 * that exists, holding what the plan saw (when it says).
 */
async function stageRunning(ops: FileOps, root: string, value: RunningWrite): Promise<StagedRunning> {
  const real = await resolveEntry(ops, root, value.path).catch(() => null);
  const changed = (why: string) => new HardenError(`cannot set ${value.key}: ${value.path} ${why}`, { hint: 'the node changed since the plan was made: run harden plan again' });
  if (!real?.stat) throw changed('does not exist (harden writes only the kernel parameters it finds)');
  if (real.nodePath !== value.path || !/^\/proc\/sys\/[a-z0-9_]+(\/[a-z0-9_]+)+$/.test(value.path)) throw changed(`is really ${real.nodePath}: harden never writes a kernel parameter through a link`);
  if (!real.stat.isFile()) throw changed('is not a regular file');
  const before = await readRunning(ops, real.hostPath);
  if (value.from !== null && !sameSysctlValue(before, value.from)) throw changed(`reads ${before} now, ${value.from} when planned`);
  return { key: value.key, nodePath: value.path, hostPath: real.hostPath, before, to: value.to, written: false };
}

/** A kernel parameter's running value, as its procfs file (a host path) reads now, without its newline. */
export async function readRunning(ops: FileOps, hostPath: string): Promise<string> {
  return (await ops.readFile(hostPath)).toString('utf8').trim();
}

/** Writes a running value in place and reads it back: the kernel may refuse or clamp what it is given. */
async function writeRunning(ops: FileOps, item: { nodePath: string; hostPath: string; key: string }, value: string): Promise<void> {
  try {
    await ops.writeInPlace(item.hostPath, `${value}\n`);
  } catch (error) {
    const code = errorCode(error);
    const hint = code === 'EACCES' || code === 'EROFS' || code === 'EPERM' ? 'the kernel parameters cannot be set here (a read-only /proc/sys, as in an LXD container): leave the rule out with --skip, and set them on the host' : errorHint(code);
    throw new HardenError(`cannot write ${item.nodePath} (${code ?? (error instanceof Error ? error.message : String(error))})`, { hint });
  }
  const back = await readRunning(ops, item.hostPath);
  if (!sameSysctlValue(back, value)) throw new HardenError(`${item.nodePath} reads ${back} after harden wrote ${value}: the kernel did not take it`, { hint: 'set it by hand to see why (sysctl -w), or leave the rule out with --skip' });
}

/** The original under a second name next to it: the same inode, so no copy of its bytes, mode or owner. */
async function secondName(ops: FileOps, target: Target): Promise<void> {
  target.keep = tempPath(target.hostPath);
  await ops.link(target.hostPath, target.keep);
}

interface Staged {
  readonly targets: Target[];
  readonly modes: StagedMode[];
  readonly directories: StagedDirectory[];
  readonly running: StagedRunning[];
  readonly removedDirectories: { nodePath: string; hostPath: string }[];
}

function stagedChange(ops: FileOps, root: string, staged: Staged): StagedChange {
  const { targets, modes, directories, running, removedDirectories } = staged;
  const dirs = () => [...new Set(targets.map((t) => path.dirname(t.hostPath)))];
  return {
    async commit() {
      // The directories first: what is written next may go into them.
      for (const directory of directories) {
        try {
          if ((await ops.lstat(directory.hostPath).then(() => true, () => false))) throw new HardenError(`cannot create ${directory.nodePath}: it exists now`, { hint: 'the node changed since the plan was made: run harden plan again' });
          await ops.rename(directory.temp!, directory.hostPath);
          directory.temp = null;
          directory.committed = true;
          await ops.fsyncDir(path.dirname(directory.hostPath));
        } catch (error) {
          throw writeError(directory.nodePath, error);
        }
      }
      for (const target of targets) {
        try {
          if (target.temp !== null) {
            try {
              await ops.rename(target.temp, target.hostPath);
            } catch (error) {
              // A rename that reports a failure may still have happened: the temp is gone if it did.
              if (await exists(ops, target.temp)) throw error;
            }
            target.temp = null;
          } else {
            await ops.unlink(target.hostPath);
          }
          target.committed = true;
          await ops.fsyncDir(path.dirname(target.hostPath));
        } catch (error) {
          throw writeError(target.nodePath, error);
        }
      }
      for (const value of running) {
        value.written = true;
        await writeRunning(ops, value, value.to);
      }
      for (const mode of modes) {
        mode.started = true;
        await setOwnerAndMode(ops, root, mode.path, { ...mode.to, inode: mode.inode, onlyRemove: mode.onlyRemove });
      }
      // Last, and only when empty: a directory that holds files now (an audit log) is kept, and said so.
      const kept: string[] = [];
      for (const directory of removedDirectories) {
        try {
          await ops.rmdir(directory.hostPath);
          await ops.fsyncDir(path.dirname(directory.hostPath));
        } catch (error) {
          const code = errorCode(error);
          if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw writeError(directory.nodePath, error);
          kept.push(directory.nodePath);
        }
      }
      return kept;
    },

    async putBack() {
      const back = new Set<unknown>();
      const failures: string[] = [];
      const attempt = async (item: Target | StagedMode | StagedRunning, what: string, step: () => Promise<void>) => {
        try {
          await step();
          back.add(item);
        } catch (error) {
          failures.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
        }
      };
      // What the change created goes first: that frees space, and nothing after it needs any.
      for (const target of [...targets].reverse().filter((t) => t.committed && t.keep === null)) {
        await attempt(target, target.nodePath, async () => {
          await ops.unlink(target.hostPath);
          target.committed = false;
        });
      }
      for (const target of [...targets].reverse().filter((t) => t.committed && t.keep !== null)) {
        await attempt(target, target.nodePath, async () => {
          await ops.rename(target.keep!, target.hostPath);
          target.keep = null;
          target.committed = false;
        });
      }
      for (const dir of dirs()) await ops.fsyncDir(dir).catch((error) => failures.push(`${dir}: fsync (${errorCode(error) ?? 'error'})`));
      for (const mode of [...modes].reverse().filter((m) => m.started)) {
        await attempt(mode, mode.label, async () => {
          await setOwnerAndMode(ops, root, mode.path, { ...mode.from, inode: mode.inode, onlyRemove: false });
          mode.started = false;
        });
      }
      for (const value of [...running].reverse().filter((v) => v.written)) {
        await attempt(value, `${value.nodePath} (${value.before})`, async () => {
          // A write the kernel refused left the value as it was: nothing to put back, nor to fail at again.
          const now = await readRunning(ops, value.hostPath);
          if (!sameSysctlValue(now, value.before)) await writeRunning(ops, value, value.before);
          value.written = false;
        });
      }
      // What the change created goes when it is still empty; a directory something wrote into since is kept.
      const kept: string[] = [];
      for (const directory of [...directories].reverse().filter((d) => d.committed)) {
        try {
          await ops.rmdir(directory.hostPath);
          await ops.fsyncDir(path.dirname(directory.hostPath)).catch(() => undefined);
          directory.committed = false;
          back.add(directory);
        } catch (error) {
          const code = errorCode(error);
          if (code === 'ENOTEMPTY' || code === 'EEXIST') kept.push(`${directory.nodePath} (it holds files now: left in place)`);
          else failures.push(`${directory.nodePath}: ${code ?? (error instanceof Error ? error.message : String(error))}`);
        }
      }
      const restored = [
        ...directories.filter((d) => back.has(d)).map((d) => d.nodePath),
        ...targets.filter((t) => back.has(t)).map((t) => t.nodePath),
        ...modes.filter((m) => back.has(m)).map((m) => m.label),
        ...running.filter((v) => back.has(v)).map((v) => `${v.nodePath} (${v.before})`),
      ];
      return { restored, failures, kept };
    },

    async finish() {
      const touched = new Set<string>();
      for (const target of targets) {
        // A kept change no longer needs the original; an uncommitted one leaves the original where it was.
        for (const name of [target.temp, target.keep]) {
          if (name !== null && (await ops.unlink(name).then(() => true, () => false))) touched.add(path.dirname(name));
        }
        target.temp = null;
        target.keep = null;
      }
      // A directory staged and never committed: its temp name, still empty.
      for (const directory of directories) {
        if (directory.temp !== null && (await ops.rmdir(directory.temp).then(() => true, () => false))) touched.add(path.dirname(directory.temp));
        directory.temp = null;
      }
      for (const dir of touched) await ops.fsyncDir(dir).catch(() => undefined);
    },
  };
}

async function exists(ops: FileOps, file: string): Promise<boolean> {
  return ops.lstat(file).then(
    () => true,
    (error) => errorCode(error) !== 'ENOENT',
  );
}

const octal = (mode: number) => mode.toString(8).padStart(4, '0');

/** Staging failed: the node is as it was, and the error says so. */
function nothingChanged(nodePath: string, error: unknown): HardenError {
  if (error instanceof HardenError) return new HardenError(`${error.message}; nothing was changed`, { hint: error.hint ?? undefined, more: error.more });
  const code = errorCode(error);
  const what = code === 'ENOSPC' || code === 'EDQUOT' ? `no space left on device to stage ${nodePath}` : `cannot stage ${nodePath}`;
  return new HardenError(`${what} (${code ?? (error instanceof Error ? error.message : String(error))}); nothing was changed`, { hint: errorHint(code) });
}
