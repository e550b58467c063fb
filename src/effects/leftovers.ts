// What a harden run killed part-way leaves behind, removed by the next apply or rollback once it holds the
// lock: temp files of harden processes that no longer run (`.<name>.harden-<pid>-<hex>.tmp`) in the
// directories harden writes, and snapshot dirs without a manifest (taken part-way: they guard nothing, since no
// node file is written before a snapshot's manifest is durable). Each removal is made durable and reported.
import path from 'node:path';
import { tempFilePid, type FileOps } from './file-ops.js';
import { pidIsAlive } from './lock.js';
import { resolveNode } from './node-writer.js';
import { incompleteSnapshots, listSnapshots, removeIncompleteSnapshot, snapshotsDir } from './snapshots.js';

export type Leftover =
  | { readonly kind: 'temp'; readonly hostPath: string; readonly pid: number }
  | { readonly kind: 'snapshot'; readonly hostPath: string; readonly id: string };

/**
 * Removes the leftovers in the state dir, its snapshots and `dirs` (host paths of the node directories harden
 * writes in). Only for a run that holds the lock. A temp file of a pid that runs (this one included) is kept.
 */
export async function removeLeftovers(ops: FileOps, stateDir: string, dirs: readonly string[], isAlive: (pid: number) => boolean = pidIsAlive): Promise<Leftover[]> {
  const removed: Leftover[] = [];
  // A leftover that cannot be removed is left for the next run: it harms nothing, and this run has work to do.
  for (const id of await incompleteSnapshots(ops, stateDir).catch(() => [] as string[])) {
    const ok = await removeIncompleteSnapshot(ops, stateDir, id).then(() => true, () => false);
    if (ok) removed.push({ kind: 'snapshot', hostPath: path.join(snapshotsDir(stateDir), id), id });
  }
  // Only real directories in the state dir: a link there is never followed (nor what it points to cleaned).
  const snapshots: string[] = [];
  for (const name of (await ops.readdir(snapshotsDir(stateDir)).catch(() => [] as string[])).sort()) {
    const dir = path.join(snapshotsDir(stateDir), name);
    if ((await ops.lstat(dir).catch(() => null))?.isDirectory()) snapshots.push(dir);
  }
  const all = [stateDir, snapshotsDir(stateDir), ...snapshots, ...dirs];
  for (const dir of [...new Set(all.map((d) => path.resolve(d)))]) {
    let names: string[];
    try {
      names = await ops.readdir(dir);
    } catch {
      continue;
    }
    let removedHere = false;
    for (const name of names.sort()) {
      const pid = tempFilePid(name);
      if (pid === null || pid === process.pid || isAlive(pid)) continue;
      const file = path.join(dir, name);
      const stat = await ops.lstat(file).catch(() => null);
      // A temp file, or a directory staged and never renamed into place (still empty: rmdir removes nothing else).
      const remove = stat?.isFile() ? () => ops.unlink(file) : stat?.isDirectory() ? () => ops.rmdir(file) : null;
      if (remove === null || !(await remove().then(() => true, () => false))) continue;
      removedHere = true;
      removed.push({ kind: 'temp', hostPath: file, pid });
    }
    if (removedHere) await ops.fsyncDir(dir).catch(() => undefined);
  }
  return removed;
}

/**
 * The node directories harden writes in, as host paths: those of every file the complete snapshots name (every
 * node file harden ever wrote is in one) and of `nodePaths` (the files a plan is about to write).
 */
export async function writtenDirs(ops: FileOps, root: string, stateDir: string, nodePaths: readonly string[]): Promise<string[]> {
  const paths = new Set(nodePaths);
  for (const snapshot of await listSnapshots(ops, stateDir).catch(() => [])) {
    for (const file of snapshot.files) paths.add(file.realPath);
    for (const directory of snapshot.directories ?? []) paths.add(directory.realPath);
  }
  const dirs = new Set<string>();
  for (const nodePath of paths) {
    const resolved = await resolveNode(ops, root, nodePath).catch(() => null);
    if (resolved) dirs.add(path.dirname(resolved.hostPath));
  }
  return [...dirs].sort();
}

/** `note: removed …` lines for the leftovers removed: node paths inside the root, the state dir as it is. */
export function leftoverNotes(removed: readonly Leftover[], root: string, stateDir: string): string[] {
  const shown = (hostPath: string) => {
    const relative = path.relative(path.resolve(root), hostPath);
    const inState = !path.relative(path.resolve(stateDir), hostPath).startsWith('..');
    return inState || relative.startsWith('..') ? hostPath : `/${relative}`;
  };
  return removed.map((item) =>
    item.kind === 'temp'
      ? `note: removed ${shown(item.hostPath)}, left by harden pid ${item.pid}, which no longer runs`
      : `note: removed the incomplete snapshot ${item.id} (${item.hostPath}), left by a run stopped while taking it`,
  );
}
