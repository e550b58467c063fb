// Answers the questions rules ask about a node (does this file exist, with which mode; a sysctl; how a
// kubeconfig authenticates), read inside the node root.
import path from 'node:path';
import type { NodeFactAnswers, PathFact } from '../core/evaluate.js';
import type { NodeFacts } from '../core/node.js';
import { SNAP_DATA_CURRENT } from '../core/node-env.js';
import type { FileSystem } from './file-system.js';
import { RootedReader } from './node-reader.js';

export async function answerFacts(
  fs: FileSystem,
  root: string,
  node: Pick<NodeFacts, 'users' | 'groups'>,
  queries: { paths: readonly string[]; listings?: readonly string[]; sysctls: readonly string[]; kubeconfigs: readonly string[] },
  reader = new RootedReader(fs, path.resolve(root)),
): Promise<NodeFactAnswers> {
  const describe = async (nodePath: string): Promise<PathFact | null> => {
    const resolved = await reader.resolve(nodePath);
    const stat = resolved ? await reader.stat(resolved) : null;
    return stat
      ? {
          type: stat.isFile() ? 'file' : stat.isDirectory() ? 'directory' : 'other',
          mode: stat.mode,
          owner: `${node.users[stat.uid] ?? stat.uid}:${node.groups[stat.gid] ?? stat.gid}`,
          writable: (stat.mode & 0o200) !== 0,
        }
      : null;
  };
  const paths: Record<string, PathFact | null> = {};
  for (const nodePath of queries.paths) paths[nodePath] = await describe(nodePath);
  const listings: Record<string, (PathFact & { name: string })[] | null> = {};
  for (const dir of queries.listings ?? []) {
    const resolved = paths[dir]?.type === 'directory' ? await reader.resolve(dir) : null;
    const names = resolved ? await reader.list(resolved) : null;
    if (names === null) {
      listings[dir] = null;
      continue;
    }
    const entries: (PathFact & { name: string })[] = [];
    for (const name of names.sort()) {
      const fact = await describe(`${dir}/${name}`);
      if (fact) entries.push({ name, ...fact });
    }
    listings[dir] = entries;
  }
  const sysctls: Record<string, string | null> = {};
  for (const key of queries.sysctls) {
    const text = await reader.readText(`/proc/sys/${key.replace(/\./g, '/')}`);
    sysctls[key] = text === null ? null : text.trim();
  }
  const kubeconfigs: Record<string, 'token' | 'certificate' | 'unknown' | null> = {};
  for (const name of queries.kubeconfigs) {
    const text = await reader.readText(`${SNAP_DATA_CURRENT}/credentials/${name}`);
    kubeconfigs[name] = text === null ? null : /^\s*token:/m.test(text) ? 'token' : /^\s*client-certificate(-data)?:/m.test(text) ? 'certificate' : 'unknown';
  }
  return { paths, listings, sysctls, kubeconfigs };
}
