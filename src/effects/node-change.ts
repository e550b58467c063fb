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

export interface NodeChange {
  readonly writes: readonly FileWrite[];
  /** Node paths of files to remove (files an earlier change created). */
  readonly removals: readonly string[];
  readonly modes: readonly ModeWrite[];
}

export interface PutBackResult {
  /** What was put back: node paths, and `path (mode …, owner …)` for modes. */
  readonly restored: string[];
  /** One line per thing that could not be put back; empty when the node is as it was. */
  readonly failures: string[];
}

export interface StagedChange {
  /** Renames, unlinks, chowns and chmods only. Throws the first failure; putBack then undoes what was done. */
  commit(): Promise<void>;
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
  const staged = stagedChange(ops, root, targets, modes);
  let current = '';
  // Whatever is staged is in `targets` before it is made, so that a failure part-way removes all of it.
  try {
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

/** The original under a second name next to it: the same inode, so no copy of its bytes, mode or owner. */
async function secondName(ops: FileOps, target: Target): Promise<void> {
  target.keep = tempPath(target.hostPath);
  await ops.link(target.hostPath, target.keep);
}

function stagedChange(ops: FileOps, root: string, targets: Target[], modes: StagedMode[]): StagedChange {
  const dirs = () => [...new Set(targets.map((t) => path.dirname(t.hostPath)))];
  return {
    async commit() {
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
      for (const mode of modes) {
        mode.started = true;
        await setOwnerAndMode(ops, root, mode.path, { ...mode.to, inode: mode.inode, onlyRemove: mode.onlyRemove });
      }
    },

    async putBack() {
      const back = new Set<unknown>();
      const failures: string[] = [];
      const attempt = async (item: Target | StagedMode, what: string, step: () => Promise<void>) => {
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
      const restored = [...targets.filter((t) => back.has(t)).map((t) => t.nodePath), ...modes.filter((m) => back.has(m)).map((m) => m.label)];
      return { restored, failures };
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
