// Where a node stands against a set of rules: read the node, describe it, answer the facts the rules ask
// about, and evaluate. `check` reports this; `plan` builds on it.
import path from 'node:path';
import { clusterRequirement, type ClusterFacts, type ClusterMode } from '../core/cluster.js';
import { blockUnmetRequirements, evaluateRules, factQueries, type NodeFactAnswers, type RuleResult } from '../core/evaluate.js';
import { applyWaivers, type Waiver } from '../core/waivers.js';
import { viewFlagsFile, type FlagsViewer } from '../core/file-view.js';
import { describeNode, type NodeFacts, type NodeModel } from '../core/node.js';
import { snapVars } from '../core/node-env.js';
import type { Rule } from '../core/profile.js';
import type { FileOps } from './file-ops.js';
import type { FileSystem } from './file-system.js';
import { owedRestarts } from './snapshots.js';
import { readExposure } from './exposure-reader.js';
import { readListeners } from './listeners.js';
import { answerFacts } from './node-facts.js';
import { readNodeFacts, RootedReader } from './node-reader.js';
import { loadFlagCatalogue } from './profile-store.js';
import { shown } from '../ui/terminal-text.js';

export interface Assessment {
  readonly facts: NodeFacts;
  readonly model: NodeModel;
  readonly vars: Readonly<Record<string, string>>;
  readonly answers: NodeFactAnswers;
  readonly results: readonly RuleResult[];
}

/** `viewFlags`: how flag files are viewed; `check` shares one viewer between the nodes of a fleet. */
export async function assessNode(
  fs: FileSystem,
  target: { readonly root: string; readonly argsDir: string | undefined },
  rules: readonly Rule[],
  viewFlags: FlagsViewer = viewFlagsFile,
  /**
   * Cluster facts, how they count (check or change), and every rule of the profile (before --only and --skip):
   * a requirement left out is still known by its component.
   */
  cluster?: { readonly facts: ClusterFacts | null; readonly mode: ClusterMode; readonly allRules: readonly Rule[] },
  /** --waivers: what waives failing rules on this node (known by `names`), as of `now`. */
  waivers?: { readonly waivers: readonly Waiver[]; readonly names: readonly string[]; readonly now: Date },
): Promise<Assessment> {
  // One reader for the whole reading: each path component under the root is looked at once.
  const reader = new RootedReader(fs, path.resolve(target.root));
  const facts = await readNodeFacts(fs, { root: target.root, argsDir: target.argsDir }, reader);
  const model = describeNode(facts, viewFlags);
  const vars = snapVars(model.report.revision);
  const queries = factQueries(rules, vars);
  let answers = await answerFacts(fs, target.root, facts, queries, reader);
  if (queries.exposure) {
    // Probe rules: what the node exposes, or null where the root has no proc/net data (an offline copy, where
    // the configured side is not worked out at all).
    const listeners = await readListeners(fs, target.root, undefined, reader);
    answers = { ...answers, exposure: listeners.available ? (await readExposure(fs, target.root, model, listeners)).rows : null };
  }
  const decide = cluster?.facts ? clusterRequirement(cluster.facts.document, model.report.role, cluster.mode, new Map(cluster.allRules.map((rule) => [rule.id, rule.component]))) : undefined;
  let results = evaluateRules(model, rules, answers, vars, loadFlagCatalogue(), decide);
  // A waived rule is not fixed: the rules that need it are blocked by it, so blocking is decided again.
  if (waivers && waivers.waivers.length > 0) results = blockUnmetRequirements(applyWaivers(results, waivers.waivers, waivers.names, waivers.now), rules, answers, vars, decide);
  return { facts, model, vars, answers, results };
}

/** Says on stderr when the running services do not use the files yet (an apply or rollback with --no-restart). */
export async function warnOwedRestarts(context: { effects: { fs: FileSystem; io: { err(text: string): void }; change?: { ops?: FileOps } } }, stateDir: string): Promise<void> {
  const owed = await owedRestarts(context.effects.change?.ops ?? context.effects.fs, stateDir);
  if (!owed) return;
  const commands = owed.restarts.map((service) => `snap restart ${service.replace(/^snap\./, '')}`).join(', ');
  context.effects.io.err(`warning: the running services do not use these files yet: ${shown(owed.id)} was applied with --no-restart; run ${shown(commands)}\n`);
}
