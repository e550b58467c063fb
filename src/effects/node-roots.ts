// Finds the node roots a fleet directory holds (`harden check --roots DIR`): each subdirectory that looks
// like a MicroK8s node root, that is one with a `var/snap/microk8s` inside.
import path from 'node:path';
import { UsageError } from '../errors.js';
import { errorCode, type FileSystem } from './file-system.js';

/** What marks a subdirectory as a node root. */
export const NODE_ROOT_MARK = 'var/snap/microk8s';

/** The node roots in `dir`, sorted by name, as `dir/<name>`; an error when there is none. */
export async function findNodeRoots(fs: FileSystem, dir: string): Promise<string[]> {
  let names: string[];
  try {
    if (!(await fs.stat(dir)).isDirectory()) {
      throw new UsageError(`--roots ${dir} is not a directory`, { hint: 'pass a directory whose subdirectories are node roots; --root takes one node' });
    }
    names = await fs.readdir(dir);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = errorCode(error) ?? 'error';
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new UsageError(`--roots ${dir} does not exist`, { hint: 'pass a directory whose subdirectories are node roots' });
    }
    throw new UsageError(`cannot read --roots ${dir} (${code})`, {
      hint: code === 'EACCES' || code === 'EPERM' ? 'run harden as a user who may read the directory' : 'check the disk and the directory’s permissions',
    });
  }
  const roots: string[] = [];
  for (const name of names.filter((entry) => !entry.startsWith('.')).sort()) {
    const root = path.join(dir, name);
    if (await isNodeRoot(fs, root)) roots.push(root);
  }
  if (roots.length === 0) {
    throw new UsageError(`--roots ${dir} holds no node root`, { hint: `each node root is a subdirectory with ${NODE_ROOT_MARK} inside (a copy of a node's /)` });
  }
  return roots;
}

async function isNodeRoot(fs: FileSystem, root: string): Promise<boolean> {
  try {
    return (await fs.stat(root)).isDirectory() && (await fs.stat(path.join(root, NODE_ROOT_MARK))).isDirectory();
  } catch {
    return false;
  }
}
