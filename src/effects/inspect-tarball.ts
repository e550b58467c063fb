// Audits a `microk8s inspect` report (inspection-report-YYYYMMDD_HHMMSS.tar.gz) in memory: the file is read
// whole (bounded), gunzipped as a stream and walked by core/tar-reader.ts, which keeps only the members a
// check reads. Nothing is unpacked to disk, no link is followed, no name leaves the archive.
import path from 'node:path';
import { clusterRequirement, type ClusterFacts, type ClusterMode } from '../core/cluster.js';
import { evaluateRules, factQueries, type EntryFact, type NodeFactAnswers, type RuleResult } from '../core/evaluate.js';
import { exposure } from '../core/exposure.js';
import { viewFlagsFile, type FlagsViewer } from '../core/file-view.js';
import { inspectionFacts, InspectionError, keepRule, type Inspection } from '../core/inspection.js';
import { describeNode, type NodeModel } from '../core/node.js';
import { ARGS_DIR, snapVars } from '../core/node-env.js';
import { configuredPorts } from '../core/ports.js';
import type { Rule } from '../core/profile.js';
import { TarError, TarReader, type TarMember } from '../core/tar-reader.js';
import { HardenError } from '../errors.js';
import { builtin } from '../lazy.js';
import { errorCode, regularBytes, TOO_LARGE, NOT_REGULAR, type FileSystem } from './file-system.js';
import { applyWaivers, type Waiver } from '../core/waivers.js';
import { loadFlagCatalogue } from './profile-store.js';

/** The compressed file: reports are a few MiB; one of hundreds is not a report. */
export const MAX_TARBALL_BYTES = 512 * 1024 * 1024;
/** What the archive may unpack to, passed over or kept: a 100,000-line journal per service fits many times. */
export const MAX_UNPACKED_BYTES = 2 * 1024 * 1024 * 1024;
/** What is kept of one report (args files, service logs, socket tables). */
export const MAX_KEPT_BYTES = 128 * 1024 * 1024;

const HINT = 'make the report again with `sudo microk8s inspect` on the node, or audit the node itself with --root';

/** The members a check reads, from the report at `file` (a path on this machine). */
export async function readInspectionReport(fs: FileSystem, file: string): Promise<TarMember[]> {
  const bytes = await reportBytes(fs, file);
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) {
    throw new HardenError('is not gzip-compressed: a microk8s inspect report is a .tar.gz', { hint: HINT });
  }
  let kept = 0;
  const reader = new TarReader((name, size) => {
    const rule = keepRule(name);
    if (!rule) return null;
    kept += Math.min(size, rule.limit);
    if (kept > MAX_KEPT_BYTES) throw new TarError(`the members harden reads come to more than ${MAX_KEPT_BYTES} bytes`);
    return rule;
  });
  try {
    await gunzipInto(bytes, reader);
  } catch (error) {
    if (error instanceof TarError) throw new HardenError(error.message, { hint: HINT });
    throw error;
  }
  return reader.members;
}

async function reportBytes(fs: FileSystem, file: string): Promise<Buffer> {
  try {
    // The file named, wherever a link to it points: nothing inside the archive is ever followed.
    return await regularBytes(fs, await fs.realpath(file), MAX_TARBALL_BYTES);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new HardenError('does not exist', { hint: 'name the inspection-report-*.tar.gz that `microk8s inspect` printed' });
    if (code === TOO_LARGE) throw new HardenError(`is more than ${MAX_TARBALL_BYTES} bytes: not a microk8s inspect report`, { hint: HINT });
    if (code === NOT_REGULAR) throw new HardenError(`is not a regular file (${(error as Error).message.replace(/^[A-Z]+: .* is /, '')})`, { hint: 'name the report file itself' });
    if (code === 'EACCES' || code === 'EPERM') throw new HardenError('cannot be read (permission denied)', { hint: 'run as a user who can read it' });
    throw error;
  }
}

/** Gunzips `bytes` as a stream into the tar reader, refusing more than MAX_UNPACKED_BYTES. */
function gunzipInto(bytes: Buffer, reader: TarReader): Promise<void> {
  const zlib = builtin('node:zlib');
  return new Promise((resolve, reject) => {
    const gunzip = zlib.createGunzip({ chunkSize: 1024 * 1024 });
    let total = 0;
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      gunzip.destroy();
      reject(error);
    };
    gunzip.on('data', (chunk: Buffer) => {
      if (settled) return;
      total += chunk.length;
      if (total > MAX_UNPACKED_BYTES) return fail(new TarError(`unpacks to more than ${MAX_UNPACKED_BYTES} bytes: not a microk8s inspect report`));
      try {
        reader.push(chunk);
        // The end-of-archive blocks: whatever follows (padding, another gzip member) is not looked at.
        if (reader.done) {
          settled = true;
          gunzip.destroy();
          resolve();
        }
      } catch (error) {
        fail(error);
      }
    });
    gunzip.on('error', (error: Error) => fail(new TarError(`the gzip stream is damaged or truncated (${error.message})`)));
    gunzip.on('end', () => {
      if (settled) return;
      try {
        reader.end();
        settled = true;
        resolve();
      } catch (error) {
        fail(error);
      }
    });
    gunzip.end(bytes);
  });
}

export interface ReportAssessment {
  readonly inspection: Inspection;
  readonly model: NodeModel;
  readonly results: readonly RuleResult[];
}

/** A check of the report at `file`: the node as the report shows it, and NOT ASSESSED where it cannot tell. */
export async function assessReport(
  fs: FileSystem,
  file: string,
  rules: readonly Rule[],
  viewFlags: FlagsViewer = viewFlagsFile,
  cluster?: { readonly facts: ClusterFacts | null; readonly mode: ClusterMode; readonly allRules: readonly Rule[] },
  /** --waivers: what waives failing rules of this report (known by `names`), as of `now`. */
  waivers?: { readonly waivers: readonly Waiver[]; readonly names: readonly string[]; readonly now: Date },
): Promise<ReportAssessment> {
  const members = await readInspectionReport(fs, file);
  let inspection: Inspection;
  try {
    inspection = inspectionFacts(members);
  } catch (error) {
    if (error instanceof InspectionError) throw new HardenError(error.message, { hint: error.hint });
    throw error;
  }
  const model = describeNode(inspection.facts, viewFlags);
  const vars = snapVars(model.report.revision);
  const argsDirs = [...new Set([ARGS_DIR, `${vars.SNAP_DATA}/args`])];
  const queries = factQueries(rules, vars);
  const answers: NodeFactAnswers = {
    paths: {},
    entries: argsEntryFacts(model, queries.entries, argsDirs),
    listings: {},
    sysctls: {},
    kubeconfigs: {},
    exposure: queries.exposure && inspection.listeners !== null ? exposure(configuredPorts(model, { dqliteAddress: inspection.dqliteAddress }), inspection.listeners).rows : null,
  };
  const decide = cluster?.facts ? clusterRequirement(cluster.facts.document, model.report.role, cluster.mode, new Map(cluster.allRules.map((rule) => [rule.id, rule.component]))) : undefined;
  const evaluated = evaluateRules(model, rules, answers, vars, loadFlagCatalogue(), decide, { ...inspection.gaps, argsDirs });
  // Requirements are not looked at in a report (evaluateRules): waiving needs no blocking again here.
  const results = waivers && waivers.waivers.length > 0 ? applyWaivers(evaluated, waivers.waivers, waivers.names, waivers.now) : evaluated;
  return { inspection, model, results };
}

/** The args dir's own entries that rules ask about (companion files): there or not, nothing more is known. */
function argsEntryFacts(model: NodeModel, paths: readonly string[], argsDirs: readonly string[]): Record<string, EntryFact | null> {
  const facts: Record<string, EntryFact | null> = {};
  for (const nodePath of paths) {
    const dir = argsDirs.find((candidate) => nodePath.startsWith(`${candidate}/`));
    if (!dir) continue;
    const name = nodePath.slice(dir.length + 1);
    const file = name.includes('/') ? undefined : model.report.files.find((entry) => entry.name === name);
    facts[nodePath] = file
      ? { type: file.kind === 'directory' ? 'directory' : 'file', mode: Number.parseInt(file.mode, 8), owner: file.owner, writable: true, realPath: nodePath, uid: 0, gid: 0, dev: 0, ino: 0, nlink: 1, target: null }
      : null;
  }
  return facts;
}

/** How reports are named in every output: the file's own name, or the path as given when two share a name. */
export function reportNames(files: readonly string[]): string[] {
  const names = files.map((file) => path.basename(file));
  return names.map((name, index) => (names.indexOf(name) !== names.lastIndexOf(name) ? files[index] : name));
}
