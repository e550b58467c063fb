// `harden cluster facts NODE.json… [--out FILE]` gathers every node's facts into cluster facts;
// `harden cluster check FILE` shows them: a row per node and the control-plane settings that differ.
import type { CommandModule } from 'yargs';
import { ageProblem, agreementResults, clusterDocument, clusterProblem, type ClusterFacts } from '../core/cluster.js';
import { readClusterFacts, readNodeFactsFile, readPipedNodeFacts } from '../effects/cluster-store.js';
import { atomicWrite } from '../effects/plan-store.js';
import { ExitCode, HardenError, UsageError } from '../errors.js';
import { clusterCompliant, clusterJson, clusterJunit, clusterSarif, clusterText, clusterView } from '../ui/cluster-view.js';
import { jsonText, shown } from '../ui/terminal-text.js';
import { outputFormat, outputPalette, type CommandContext, type OutputOptions } from './context.js';
import { clusterMaxAge, withOutputOptions, type ClusterOptions } from './options.js';

type ClusterCommandOptions = OutputOptions & { action: string; files?: string[]; out?: string; stdin?: boolean; clusterMaxAge?: unknown };

export function clusterCommand(context: CommandContext, toolVersion: string): CommandModule<object, ClusterCommandOptions> {
  return {
    command: 'cluster <action> [files..]',
    describe: "Gather every node's facts into cluster facts (facts), or show cluster facts: each node and the control-plane settings that differ (check)",
    builder: (yargs) =>
      withOutputOptions(yargs, ['text', 'json', 'junit', 'sarif'])
        .positional('action', { choices: ['facts', 'check'], describe: 'what to do' })
        .positional('files', { type: 'string', array: true, describe: 'facts: one harden facts file per node; check: one cluster facts file' })
        .option('out', { type: 'string', describe: 'facts: write the cluster facts to this file (stdout otherwise)', requiresArg: true })
        .option('stdin', { type: 'boolean', describe: "facts: read every node's facts from standard input, as one JSON array, instead of files" })
        .option('cluster-max-age', { type: 'string', defaultDescription: '3600', describe: 'seconds the facts may be old', requiresArg: true })
        .example('$0 cluster facts cp-1.json cp-2.json w-1.json --out cluster.json', 'every node, gathered with harden facts on each')
        .example("jq -s . *.json | $0 cluster facts --stdin", 'the same, the nodes\' facts piped in as one array')
        .example('$0 cluster check cluster.json', 'a row per node, and the control-plane settings that differ') as never,
    handler: async (options) => {
      context.setExitCode(options.action === 'facts' ? await runClusterFacts(context, options) : await runClusterCheck(context, options, toolVersion));
    },
  };
}

function now(context: CommandContext): Date {
  return context.effects.change?.now?.() ?? new Date();
}

async function runClusterFacts(context: CommandContext, options: ClusterCommandOptions): Promise<number> {
  const files = options.files ?? [];
  if (options.stdin && files.length > 0) throw new UsageError('cluster facts takes the nodes\' facts from files or from --stdin, not both', { hint: 'name the files, or pipe them all in as one JSON array' });
  if (files.length === 0 && !options.stdin) throw new UsageError('cluster facts needs one harden facts file per node', { hint: 'on each node: harden facts > NODE.json; then harden cluster facts *.json --out cluster.json' });
  const maxAge = clusterMaxAge(options);
  const at = now(context);
  const nodes = [];
  const given = options.stdin ? readPipedNodeFacts(context.effects.io.readInput) : [];
  // One file after another: the first bad one (in the order given) is the one named.
  for (const file of files) given.push({ file, facts: await readNodeFactsFile(context.effects.fs, file) });
  for (const { file, facts } of given) {
    const stale = ageProblem(facts.gatheredAt, at, maxAge);
    if (stale) throw new HardenError(`${file} ${stale.replace(/^was made /, 'was gathered ')}`, { hint: 'gather it again with harden facts, or allow older facts with --cluster-max-age SECONDS' });
    nodes.push({ file, facts });
  }
  const problem = clusterProblem(nodes);
  if (problem) throw new HardenError(problem.message, { hint: problem.hint });
  const text = `${jsonText(clusterDocument(at.toISOString(), nodes.map((node) => node.facts)))}\n`;
  if (options.out === undefined) context.effects.io.out(text);
  else {
    await atomicWrite(options.out, text);
    context.effects.io.err(`Wrote cluster facts for ${nodes.length} nodes to ${shown(options.out)}\n`);
  }
  return ExitCode.ok;
}

async function runClusterCheck(context: CommandContext, options: ClusterCommandOptions, toolVersion: string): Promise<number> {
  const files = options.files ?? [];
  if (options.stdin) throw new UsageError('--stdin goes with cluster facts', { hint: 'harden cluster check cluster.json' });
  if (files.length !== 1) throw new UsageError('cluster check takes one cluster facts file', { hint: 'harden cluster check cluster.json' });
  const facts = await readClusterFacts(context.effects.fs, files[0], { now: now(context), maxAge: clusterMaxAge(options) });
  const view = clusterView(facts, agreementResults(facts.document));
  const format = outputFormat(options);
  const { io } = context.effects;
  if (format === 'json') io.out(clusterJson(view));
  else if (format === 'junit') io.out(clusterJunit(view));
  else if (format === 'sarif') io.out(clusterSarif(view, toolVersion));
  else io.out(clusterText(view, outputPalette(options, io)));
  return clusterCompliant(view) ? ExitCode.ok : ExitCode.findings;
}

/** The cluster facts --cluster names, read and checked for this profile; null without --cluster. */
export async function optionalClusterFacts(context: CommandContext, options: ClusterOptions, profile: { name: string; sha256: string }): Promise<ClusterFacts | null> {
  if (options.cluster === undefined) {
    if (options.clusterMaxAge !== undefined) throw new UsageError('--cluster-max-age goes with --cluster', { hint: 'name the cluster facts with --cluster FILE' });
    return null;
  }
  return readClusterFacts(context.effects.fs, options.cluster, { now: now(context), maxAge: clusterMaxAge(options), profile, input: context.effects.io.readInput });
}
