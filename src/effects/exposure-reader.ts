// A node's exposure as the effects see it: its configured ports (from the model of its args files), what
// listens (from <root>/proc/net), and the dqlite address MicroK8s recorded for it, joined by the pure code.
import path from 'node:path';
import { exposure, type Exposure } from '../core/exposure.js';
import type { NodeModel } from '../core/node.js';
import { SNAP_DATA_CURRENT } from '../core/node-env.js';
import { configuredPorts } from '../core/ports.js';
import type { FileSystem } from './file-system.js';
import { readListeners, type NodeListeners } from './listeners.js';
import { RootedReader } from './node-reader.js';

export interface NodeExposure extends Exposure {
  readonly listeners: NodeListeners;
}

/** dqlite's `Address:` in var/kubernetes/backend/info.yaml, or null. */
export async function dqliteAddress(fs: FileSystem, root: string): Promise<string | null> {
  const text = await new RootedReader(fs, path.resolve(root)).readText(`${SNAP_DATA_CURRENT}/var/kubernetes/backend/info.yaml`).catch(() => null);
  const match = text === null ? null : /^Address:\s*["']?([^"'\s]+)["']?\s*$/m.exec(text);
  return match ? match[1] : null;
}

/**
 * The exposure of a node whose model is known, or (model null) of whatever listens on MicroK8s' port numbers.
 * `read`: its listeners, when the caller has read them already.
 */
export async function readExposure(fs: FileSystem, root: string, model: NodeModel | null, read?: NodeListeners): Promise<NodeExposure> {
  const listeners = read ?? (await readListeners(fs, root));
  const configured = model === null ? null : configuredPorts(model, { dqliteAddress: await dqliteAddress(fs, root) });
  return { ...exposure(configured, listeners.available ? listeners.listeners : null), listeners };
}
