// Saved plans on disk: the digests of what a plan read, the templates it ships, writing a plan file
// atomically (a temp file in the same directory, fsync, rename) and reading one back.
import path from 'node:path';
import type { NodeFacts } from '../core/node.js';
import { compareStrings } from '../core/order.js';
import { machineIdOf, type RootIdentity } from '../core/root-identity.js';
import type { Rule } from '../core/profile.js';
import { HardenError } from '../errors.js';
import { parsePlanDocument, type PlanDocument } from '../ui/plan-view.js';
import { realFileOps, replaceFile, type FileOps } from './file-ops.js';
import { errorCode, type FileSystem } from './file-system.js';
import { RootedReader } from './node-reader.js';
import { planValidator } from './plan-validator.js';
import { readShippedTemplate } from './profile-store.js';
import { sha256Of } from './snapshots.js';

/** Every args-dir entry the plan was built from, by node path, with the digest of its content. */
export function inputDigests(facts: NodeFacts): Record<string, string> {
  const digests: Record<string, string> = {};
  for (const entry of [...facts.entries].sort((a, b) => compareStrings(a.name, b.name))) {
    if (entry.content !== null) digests[`${facts.argsDir.replace(/\/$/, '')}/${entry.name}`] = sha256Of(entry.content);
  }
  return digests;
}

/**
 * Which node this root is, for a saved plan: its real path, the revision it runs (as the node was read), and
 * its /etc/machine-id, read inside the root as the node would (one that cannot be read as text is none).
 */
export async function rootIdentity(fs: FileSystem, root: string, revision: string | null): Promise<RootIdentity> {
  const real = await fs.realpath(path.resolve(root));
  let machineId: string | null;
  try {
    machineId = machineIdOf(await new RootedReader(fs, real).readText('/etc/machine-id'));
  } catch {
    machineId = null;
  }
  return { path: real, revision, machineId };
}

/** The texts of the templates these rules install, by their name under profiles/. */
export function readTemplates(rules: readonly Rule[]): Record<string, string> {
  const templates: Record<string, string> = {};
  for (const rule of rules) {
    if (rule.template === undefined || rule.template in templates) continue;
    const text = readShippedTemplate(rule.template);
    // Left out when missing: the plan reports the rule as a problem ("not shipped with the profiles").
    if (text !== null) templates[rule.template] = text;
  }
  return templates;
}

/** Writes `text` to `file` so that a crash leaves either the old file or the new one, never a torn one. */
export async function atomicWrite(file: string, text: string, ops: FileOps = realFileOps): Promise<void> {
  try {
    await replaceFile(ops, file, text, 0o600);
  } catch (error) {
    throw new HardenError(`cannot write the plan to ${file}: ${errorCode(error) ?? (error instanceof Error ? error.message : String(error))}`, {
      hint: 'choose a file in a directory you can write to',
    });
  }
}

/** Larger than any plan of a real node (args files are at most 16 MiB each): refused before it is read. */
export const MAX_PLAN_BYTES = 256 * 1024 * 1024;

/** Reads a plan saved by `harden plan --out`. */
export async function readPlanFile(fs: FileSystem, file: string): Promise<PlanDocument> {
  let bytes: Buffer;
  try {
    // A FIFO would never end and a device never be a plan: only a regular file of a plan's size is read.
    const stat = await fs.stat(file);
    if (stat.isDirectory()) throw Object.assign(new Error('EISDIR'), { code: 'EISDIR' });
    if (!stat.isFile()) throw new HardenError(`cannot read the plan ${file}: not a regular file`, { hint: 'give the file that harden plan --out FILE wrote' });
    if (stat.size > MAX_PLAN_BYTES) throw new HardenError(`${file} is not a harden plan: it is larger than ${MAX_PLAN_BYTES / 1024 / 1024} MiB`, { hint: 'give the file that harden plan --out FILE wrote' });
    bytes = await fs.readFile(file);
  } catch (error) {
    if (error instanceof HardenError) throw error;
    const code = errorCode(error);
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (code ?? 'unreadable');
    throw new HardenError(`cannot read the plan ${file}: ${why}`, { hint: 'give the file that harden plan --out FILE wrote' });
  }
  const parsed = parsePlanDocument(bytes.toString('utf8'), planValidator());
  if (!parsed.ok && parsed.where !== undefined) {
    throw new HardenError(`${file}: ${parsed.where}: ${parsed.problem}`, {
      hint: 'this is not a plan harden wrote, though its sha256 was made again to match: make a new one with harden plan --out FILE',
    });
  }
  if (!parsed.ok && parsed.edited) {
    throw new HardenError(`${file} was edited after harden plan wrote it: ${parsed.problem}`, {
      hint: 'a saved plan is applied only as it was reviewed: make a new one with harden plan --out FILE',
    });
  }
  if (!parsed.ok) throw new HardenError(`${file} is not a harden plan: ${parsed.problem}`, { hint: 'make one with harden plan --out FILE' });
  return parsed.document;
}
