// Answers the questions rules ask about a node (does this file exist, with which mode; a sysctl; how a
// kubeconfig authenticates), read inside the node root.
import path from 'node:path';
import type { NodeFactAnswers } from '../core/evaluate.js';
import type { NodeFacts } from '../core/node.js';
import { SNAP_DATA_CURRENT } from '../core/node-env.js';
import type { FileSystem } from './file-system.js';
import { RootedReader } from './node-reader.js';

export async function answerFacts(
  fs: FileSystem,
  root: string,
  node: Pick<NodeFacts, 'users' | 'groups'>,
  queries: { paths: readonly string[]; sysctls: readonly string[]; kubeconfigs: readonly string[] },
): Promise<NodeFactAnswers> {
  const reader = new RootedReader(fs, path.resolve(root));
  const paths: Record<string, NodeFactAnswers['paths'][string]> = {};
  for (const nodePath of queries.paths) {
    const resolved = await reader.resolve(nodePath);
    const stat = resolved ? await reader.stat(resolved) : null;
    paths[nodePath] = stat
      ? {
          type: stat.isFile() ? 'file' : stat.isDirectory() ? 'directory' : 'other',
          mode: stat.mode,
          owner: `${node.users[stat.uid] ?? stat.uid}:${node.groups[stat.gid] ?? stat.gid}`,
          writable: (stat.mode & 0o200) !== 0,
        }
      : null;
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
  return { paths, sysctls, kubeconfigs };
}
