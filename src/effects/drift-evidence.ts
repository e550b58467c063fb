// What `harden drift` reads on the node besides the rules: every file a setting of harden's lives in (text, mode,
// owner, when it last changed), the markers a join leaves, and the version's removed flags. Paths are resolved
// inside the root, the `current` link included (node-writer.ts), so a refreshed node is read at its new revision.
import path from 'node:path';
import type { DriftEvidence, FileNow } from '../core/drift.js';
import { octalMode } from '../core/evaluate.js';
import { flagSupport } from '../core/flag-catalogue.js';
import type { NodeModel } from '../core/node.js';
import type { NodeFacts } from '../core/node.js';
import type { FileOps } from './file-ops.js';
import { resolveNode } from './node-writer.js';
import { sha256Of } from './snapshots.js';
import { loadFlagCatalogue } from './profile-store.js';

const DATA = '/var/snap/microk8s/current';
/** Args files are at most 16 MiB (file-view.ts); anything larger is not read as text here either. */
const MAX_TEXT = 16 * 1024 * 1024;

const iso = (ms: number | undefined): string | null => (typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : null);

/** One node file as it is now; absent (or unreadable) is `exists: false`. */
async function fileNow(ops: FileOps, root: string, nodePath: string, names: Pick<NodeFacts, 'users' | 'groups'>): Promise<FileNow> {
  const gone: FileNow = { exists: false, text: null, sha256: null, mode: null, owner: null, changedAt: null };
  try {
    const resolved = await resolveNode(ops, root, nodePath);
    const stat = resolved.stat;
    if (!stat) return gone;
    const owner = `${names.users[stat.uid] ?? stat.uid}:${names.groups[stat.gid] ?? stat.gid}`;
    const read = stat.isFile() ? await ops.readRegularFile(resolved.hostPath, MAX_TEXT) : null;
    const content = read?.content ?? null;
    return { exists: true, text: content ? content.toString('utf8') : null, sha256: content ? sha256Of(content) : null, mode: octalMode(stat.mode), owner, changedAt: iso(stat.mtimeMs) };
  } catch {
    return gone;
  }
}

async function changedAt(ops: FileOps, root: string, nodePath: string): Promise<string | null> {
  try {
    const resolved = await resolveNode(ops, root, nodePath);
    return resolved.stat ? iso(resolved.stat.mtimeMs) : null;
  } catch {
    return null;
  }
}

/** The evidence for `detectDrift`: the files named (node paths through `current`) and the node's markers. */
export async function gatherDriftEvidence(ops: FileOps, root: string, model: NodeModel, facts: NodeFacts, files: readonly string[]): Promise<DriftEvidence> {
  const catalogue = loadFlagCatalogue();
  const entries = await Promise.all([...new Set(files)].map(async (file) => [file, await fileNow(ops, root, file, facts)] as const));
  const report = model.report;
  return {
    revision: report.revision,
    version: report.version,
    era: report.era === 'kubelite' ? 'kubelite' : 'daemons',
    locks: facts.locks,
    markers: {
      clusteredLock: await changedAt(ops, root, `${DATA}/var/lock/clustered.lock`),
      kubeletBackup: await changedAt(ops, root, `${DATA}/args/kubelet.backup`),
      clusterYaml: await changedAt(ops, root, path.posix.join(DATA, 'var/kubernetes/backend/cluster.yaml')),
    },
    files: Object.fromEntries(entries),
    removedFlag: (component, flag) => flagSupport(catalogue, { component, flag, version: model.version }).status === 'removed',
  };
}
