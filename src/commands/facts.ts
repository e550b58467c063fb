// `harden facts`: this node's facts for cluster facts (harden cluster facts), as one JSON document.
import os from 'node:os';
import path from 'node:path';
import type { CommandModule } from 'yargs';
import { nodeFactsDocument } from '../core/cluster.js';
import { buildPlan, type Plan } from '../core/plan.js';
import { compareStrings } from '../core/order.js';
import { readTemplates } from '../effects/plan-store.js';
import { NODE_NAME_PATTERN } from '../core/cluster-schema.js';
import { assessNode } from '../effects/assess.js';
import { RootedReader } from '../effects/node-reader.js';
import { loadProfile, profileIdentity } from '../effects/profile-store.js';
import { ExitCode, HardenError, UsageError } from '../errors.js';
import { jsonText } from '../ui/terminal-text.js';
import type { CommandContext } from './context.js';
import { DEFAULT_PROFILE, nodeTargets, withNodeOptions, type NodeOptions } from './options.js';

type FactsOptions = NodeOptions & { profile: string; nodeName?: string };

export function factsCommand(context: CommandContext): CommandModule<object, FactsOptions> {
  return {
    command: 'facts',
    describe: "Print this node's facts (name, role, version, rule results, settings that must agree) as JSON, for harden cluster facts",
    builder: (yargs) =>
      withNodeOptions(yargs, false)
        .option('profile', { type: 'string', default: DEFAULT_PROFILE, describe: 'a shipped profile name, or a profile file', requiresArg: true })
        .option('node-name', { type: 'string', describe: "the node's name (default: its hostname)", requiresArg: true })
        .example('$0 facts > $(hostname).json', 'on each node; then harden cluster facts *.json --out cluster.json') as never,
    handler: async (options) => {
      const { fs, io } = context.effects;
      const [target] = nodeTargets(options, false);
      const profile = await loadProfile(options.profile);
      const name = await nodeName(context, target.root, options.nodeName);
      const { facts, model, vars, answers, results } = await assessNode(fs, target, profile.rules);
      // What this node's own plan would fix: planned here, not yet applied (a worker's check counts it).
      const plan = buildPlan({ model, rules: profile.rules, results, facts: answers, vars, profile: profileIdentity(profile), templates: readTemplates(profile.rules), locks: facts.locks });
      const now = context.effects.change?.now?.() ?? new Date();
      io.out(`${jsonText(nodeFactsDocument({ gatheredAt: now.toISOString(), name, model, profile: profileIdentity(profile), results, planned: plannedRules(plan) }))}\n`);
      context.setExitCode(ExitCode.ok);
    },
  };
}

/** --node-name, or the node's hostname: the root's etc/hostname, or this machine's for the root `/`. */
async function nodeName(context: CommandContext, root: string, given: string | undefined): Promise<string> {
  const valid = (name: string) => new RegExp(NODE_NAME_PATTERN).test(name) && name.length <= 253;
  if (given !== undefined) {
    if (!valid(given)) throw new UsageError(`--node-name ${JSON.stringify(given)} is not a node name`, { hint: 'lowercase letters, digits, - and . as in a hostname' });
    return given;
  }
  let hostname: string | null = null;
  try {
    hostname = (await new RootedReader(context.effects.fs, path.resolve(root)).readText('/etc/hostname'))?.trim() ?? null;
  } catch {
    hostname = null;
  }
  if (!hostname && path.resolve(root) === '/') hostname = os.hostname();
  if (!hostname) throw new HardenError(`${root}: no etc/hostname to name the node by`, { hint: 'name it with --node-name NAME' });
  const lower = hostname.toLowerCase();
  if (!valid(lower)) throw new HardenError(`${root}: the hostname ${JSON.stringify(hostname)} is not a node name`, { hint: 'name it with --node-name NAME' });
  return lower;
}

/** The rules a plan carries out (each once, sorted), unless the plan has problems and cannot be applied. */
function plannedRules(plan: Plan): string[] {
  if (plan.problems.length > 0) return [];
  const ids = new Set<string>();
  for (const file of plan.files) for (const edit of file.edits) for (const id of edit.ruleIds) ids.add(id);
  for (const companion of plan.companions) ids.add(companion.ruleId);
  for (const mode of plan.modes) for (const id of mode.ruleIds) ids.add(id);
  return [...ids].sort(compareStrings);
}
