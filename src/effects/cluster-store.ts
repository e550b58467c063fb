// Reading node facts and cluster facts from disk: a regular file of a sane size, JSON, held to its schema, and
// (cluster facts) not older than the limit; with the sha256 of the bytes read, which plans record.
import { CLUSTER_SCHEMA, NODE_FACTS_SCHEMA, ageProblem, type ClusterDocument, type ClusterFacts, type NodeFactsDocument } from '../core/cluster.js';
import { describePlanError, type PlanValidator } from '../core/plan-schema.js';
import { HardenError } from '../errors.js';
import { clusterValidator, nodeFactsValidator } from './cluster-validator.js';
import { errorCode, type FileSystem } from './file-system.js';
import { InputError } from './input.js';
import { sha256Of } from './snapshots.js';

const MAX_BYTES = 64 * 1024 * 1024;

const CLUSTER_HINT = 'make them again with harden cluster facts NODE.json… --out FILE';
const PIPE_HINT = 'pipe them in (harden plan --cluster - < cluster.json), or name the file: --cluster FILE';
const NODE_HINT = 'make it on the node with harden facts > NODE.json';

async function readBytes(fs: FileSystem, file: string, what: string, hint: string): Promise<Buffer> {
  try {
    const stat = await fs.stat(file);
    if (stat.isDirectory()) throw Object.assign(new Error('EISDIR'), { code: 'EISDIR' });
    if (!stat.isFile()) throw new HardenError(`cannot read the ${what} ${file}: not a regular file`, { hint });
    if (stat.size > MAX_BYTES) throw new HardenError(`${file} is not ${what}: it is larger than ${MAX_BYTES / 1024 / 1024} MiB`, { hint });
    return await fs.readFile(file);
  } catch (error) {
    if (error instanceof HardenError) throw error;
    const code = errorCode(error);
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (code ?? 'unreadable');
    throw new HardenError(`cannot read the ${what} ${file}: ${why}`, { hint });
  }
}

function parseChecked(bytes: Buffer, file: string, schema: string, validate: PlanValidator, hint: string): unknown {
  let data: unknown;
  try {
    data = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new HardenError(`${file} is not ${schema}: not JSON`, { hint });
  }
  return checked(data, file, schema, validate, hint);
}

function checked(data: unknown, file: string, schema: string, validate: PlanValidator, hint: string): unknown {
  if (data === null || typeof data !== 'object' || (data as { schema?: unknown }).schema !== schema) {
    const found = data !== null && typeof data === 'object' ? (data as { schema?: unknown }).schema : undefined;
    throw new HardenError(`${file} is not ${schema}${typeof found === 'string' ? ` (it says ${JSON.stringify(found).slice(0, 80)})` : ''}`, { hint });
  }
  if (!validate(data)) {
    const { where, what } = describePlanError(validate.errors![0]);
    throw new HardenError(`${file}: ${where}: ${what}`, { hint });
  }
  return data;
}

/**
 * Standard input read whole for `what` (`cluster facts`, `node facts`): nothing piped in, a terminal, more than
 * MAX_BYTES or a read error is one line naming standard input.
 */
function pipedBytes(input: ((max: number) => Buffer) | undefined, what: string, hint: string, tooLargeHint: string = hint): Buffer {
  if (!input) throw new HardenError(`cannot read the ${what} from standard input: nothing is piped in`, { hint });
  try {
    return input(MAX_BYTES);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    if (error.reason === 'too-large') throw new HardenError(`standard input is not ${what}: it is larger than ${MAX_BYTES / 1024 / 1024} MiB`, { hint: tooLargeHint });
    throw new HardenError(`cannot read the ${what} from standard input: ${error.reason === 'terminal' ? 'it is a terminal' : error.message}`, { hint });
  }
}

/**
 * Every node's facts piped in at once (`harden cluster facts --stdin`): one JSON array of harden.node-facts/v1
 * documents, each held to the schema and named `standard input[N]` in errors.
 */
export function readPipedNodeFacts(input: ((max: number) => Buffer) | undefined): { file: string; facts: NodeFactsDocument }[] {
  const hint = 'pipe in a JSON array of the nodes\' harden facts documents, or name one file per node';
  const bytes = pipedBytes(input, 'node facts', hint);
  let data: unknown;
  try {
    data = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new HardenError('standard input is not a JSON array of node facts: not JSON', { hint });
  }
  if (!Array.isArray(data)) throw new HardenError('standard input is not a JSON array of node facts', { hint });
  const validate = nodeFactsValidator();
  return data.map((item, index) => {
    const file = `standard input[${index}]`;
    return { file, facts: checked(item, file, NODE_FACTS_SCHEMA, validate, NODE_HINT) as NodeFactsDocument };
  });
}

export async function readNodeFactsFile(fs: FileSystem, file: string): Promise<NodeFactsDocument> {
  const bytes = await readBytes(fs, file, 'node facts', NODE_HINT);
  return parseChecked(bytes, file, NODE_FACTS_SCHEMA, nodeFactsValidator(), NODE_HINT) as NodeFactsDocument;
}

/** `-`: the cluster facts piped in on standard input. */
export const STANDARD_INPUT = '-';

/**
 * Cluster facts for a command: valid, for this profile, and not older than `maxAge` seconds (nor any node's).
 * `file` `-` reads them from standard input (`input`), named "standard input" in errors.
 */
export async function readClusterFacts(fs: FileSystem, given: string, options: { now: Date; maxAge: number; profile?: { name: string; sha256: string }; input?: (max: number) => Buffer }): Promise<ClusterFacts> {
  const piped = given === STANDARD_INPUT;
  const bytes = piped ? pipedBytes(options.input, 'cluster facts', PIPE_HINT, CLUSTER_HINT) : await readBytes(fs, given, 'cluster facts', CLUSTER_HINT);
  const file = piped ? 'standard input' : given;
  const document = parseChecked(bytes, file, CLUSTER_SCHEMA, clusterValidator(), CLUSTER_HINT) as ClusterDocument;
  const tooOld = ageProblem(document.createdAt, options.now, options.maxAge);
  if (tooOld) throw new HardenError(`${file} ${tooOld}`, { hint: `gather the facts again (harden facts on each node, then harden cluster facts), or allow older ones with --cluster-max-age SECONDS` });
  for (const node of document.nodes) {
    const stale = ageProblem(node.gatheredAt, options.now, options.maxAge);
    if (stale) throw new HardenError(`${file}: the facts of node ${node.name} ${stale.replace(/^was made /, 'were gathered ').replace(/^is dated /, 'are dated ')}`, { hint: `gather the facts again (harden facts on each node, then harden cluster facts), or allow older ones with --cluster-max-age SECONDS` });
  }
  if (options.profile && (options.profile.name !== document.profile.name || options.profile.sha256 !== document.profile.sha256)) {
    const short = (sha: string) => `sha256 ${sha.replace(/^sha256:/, '').slice(0, 16)}…`;
    throw new HardenError(`${file} holds facts for profile ${document.profile.name} (${short(document.profile.sha256)}), not ${options.profile.name} (${short(options.profile.sha256)})`, {
      hint: 'use the profile the facts were gathered with (--profile), or gather them again with this one',
    });
  }
  return { file: given, sha256: sha256Of(bytes), document };
}
