// `harden drift`: the node compared with what harden last left on it (src/core/drift.ts), each setting that no
// longer holds with its most likely cause; `--reapply` puts back what drifted through the apply flow itself
// (plan shown, confirm or --yes, snapshot, gates, put-back), restricted to those rules; `--watch` lets the
// automatic re-apply policy decide (harden watch). A change in progress (the lock held by a live run) is not
// drift: drift says so and compares nothing.
import type { CommandModule } from 'yargs';
import { detectDrift, settingsLeft, standingApplies, type DriftReport } from '../core/drift.js';
import type { Rule } from '../core/profile.js';
import type { SnapshotManifest } from '../core/snapshot-manifest.js';
import { assessNode } from '../effects/assess.js';
import { gatherDriftEvidence } from '../effects/drift-evidence.js';
import { noInterrupts, watchInterrupts, type Interrupts } from '../effects/interrupts.js';
import { holderText, liveHolder } from '../effects/lock.js';
import { loadProfile } from '../effects/profile-store.js';
import { listSnapshots } from '../effects/snapshots.js';
import { watchPolicy } from '../effects/watch-state.js';
import { EXIT_CODES_HELP, ExitCode, HardenError } from '../errors.js';
import { colorEnabled, palette } from '../ui/color.js';
import { driftJson, driftLines, driftText, type DriftContext } from '../ui/drift-view.js';
import { shellWord } from '../ui/shell-word.js';
import { shown } from '../ui/terminal-text.js';
import { runApply, changeEffects, type ApplyOptions } from './apply.js';
import type { CommandContext } from './context.js';
import { stateTarget, withGateOptions, withNodeOptions, type NodeOptions, type NodeTarget } from './options.js';

type DriftOptions = NodeOptions & {
  format: 'text' | 'json' | 'jsonl';
  json?: boolean;
  color?: boolean;
  reapply?: boolean;
  watch?: boolean;
  yes?: boolean;
  healthTimeout?: string;
  healthWindow?: string;
};

export function driftCommand(context: CommandContext, toolVersion: string): CommandModule<object, DriftOptions> {
  return {
    command: 'drift',
    describe: 'Compare the node with what harden last left on it: each setting that no longer holds, and what most likely undid it',
    builder: (yargs) =>
      withGateOptions(withNodeOptions(yargs, false))
        .option('format', { choices: ['text', 'json', 'jsonl'], default: 'text', describe: 'output format (jsonl: one JSON line per drift, for a journal)' })
        .option('json', { type: 'boolean', describe: 'shorthand for --format json' })
        .option('color', { type: 'boolean', describe: 'colour the text output (--no-color turns it off; NO_COLOR is honoured)' })
        .option('reapply', { type: 'boolean', describe: 'put back what drifted: the apply flow, restricted to the rules that drifted' })
        .option('yes', { type: 'boolean', describe: 'with --reapply: apply without asking (needed without a terminal)' })
        .option('watch', { type: 'boolean', describe: "as harden-drift.service runs it: re-apply by itself when the policy allows (harden watch enable-auto)" })
        .example('$0 drift', 'what no longer holds, and why')
        .example('$0 drift --reapply', 'put it back: plan shown, confirm, snapshot, gates, put-back on failure')
        .example('$0 drift --format jsonl', 'one JSON line per drift')
        .epilogue(`${EXIT_CODES_HELP}\nharden drift exits 0 when nothing drifted and 2 when something did; with --reapply, as harden apply does.`) as never,
    handler: async (options) => {
      // A re-apply (asked for, or by the policy) is an apply: a signal never ends it half-made.
      const interrupts = options.reapply || options.watch ? watchInterrupts() : noInterrupts();
      try {
        context.setExitCode(await runDrift(context, options, toolVersion, interrupts));
      } finally {
        interrupts.dispose();
      }
    },
  };
}

/** How the profile a snapshot names is loaded again: a shipped one by name, a file by its path. */
function profileReference(manifest: SnapshotManifest): string | null {
  const profile = manifest.profile;
  if (!profile) return null;
  if (profile.source === 'file') return typeof profile.file === 'string' ? profile.file : null;
  return profile.name;
}

/** The rules of every profile the standing applies used (a later one wins on the same id), and the newest profile's reference. */
async function rulesOf(context: CommandContext, applies: readonly SnapshotManifest[]): Promise<{ rules: Rule[]; newest: string | null; byRule: Map<string, string> }> {
  const rules = new Map<string, Rule>();
  const byRule = new Map<string, string>();
  let newest: string | null = null;
  for (const reference of [...new Set(applies.map(profileReference).filter((r): r is string => r !== null))]) {
    try {
      const profile = await loadProfile(reference);
      for (const rule of profile.rules) {
        rules.set(rule.id, rule);
        byRule.set(rule.id, reference);
      }
      newest = reference;
    } catch (error) {
      if (!(error instanceof HardenError)) throw error;
      context.effects.io.err(`warning: the profile ${reference} an apply used cannot be loaded (${error.message}): its rules are compared by the settings harden wrote only\n`);
    }
  }
  return { rules: [...rules.values()], newest, byRule };
}

export async function runDrift(context: CommandContext, options: DriftOptions, toolVersion: string, interrupts: Interrupts = noInterrupts()): Promise<number> {
  const { io, fs } = context.effects;
  const change = changeEffects(context);
  const target = await stateTarget(change.ops, options);
  const format = options.json ? 'json' : options.format;
  if (options.yes && !options.reapply) throw new HardenError('--yes goes with --reapply', { hint: 'harden drift --reapply --yes puts back what drifted without asking' });
  if (options.watch && options.reapply) throw new HardenError('--watch and --reapply do not go together', { hint: '--watch re-applies only as the policy allows (harden watch status); --reapply always does' });

  const holder = await liveHolder(fs, target.stateDir);
  if (holder) {
    io.err(`A change is in progress (${holderText(holder)}): it is not drift, and nothing was compared.\n`);
    return ExitCode.ok;
  }
  const manifests = await listSnapshots(change.ops, target.stateDir);
  const applies = standingApplies(manifests);
  const checkedAt = change.now().toISOString();
  if (applies.length === 0) {
    if (format === 'json') io.out(`${JSON.stringify({ schema: 'harden.drift/v1', root: target.root, checkedAt, revision: null, applies: [], compared: 0, drifted: 0, drifts: [], held: [] }, null, 2)}\n`);
    else if (format === 'text') io.out(`No drift on ${shown(target.root)}: no change of harden's stands on this node (none was applied, or each was rolled back or put back).\n`);
    return ExitCode.ok;
  }

  const { rules, newest, byRule } = await rulesOf(context, applies);
  const assessment = await assessNode(fs, target, rules);
  const files = [...settingsLeft(applies).map((s) => s.file), ...assessment.results.flatMap((r) => (r.file ? [r.file] : []))];
  const evidence = await gatherDriftEvidence(change.ops, target.root, assessment.model, assessment.facts, files);
  const flags = new Map(rules.flatMap((rule) => (rule.flag ? [[rule.id, rule.flag] as const] : [])));
  const report = detectDrift(manifests, assessment.results, evidence, flags);
  const view: DriftContext = { root: target.root, revision: assessment.model.report.revision, reapply: reapplyCommand(target, options) };

  if (format === 'json') io.out(driftJson(report, view, checkedAt));
  else if (format === 'jsonl') io.out(driftLines(report, view, checkedAt));
  else io.out(driftText(report, palette(colorEnabled({ flag: options.color, env: io.env, isTTY: io.isTTY })), view));
  if (options.watch) return watched(context, options, toolVersion, interrupts, target, report, newest, byRule, rules);
  if (!options.reapply) return report.drifts.length === 0 ? ExitCode.ok : ExitCode.findings;
  return reapply(context, options, toolVersion, interrupts, report, newest, byRule, rules);
}

/**
 * Run by harden-drift.service: the drift is reported (stdout, one JSON line each), then the automatic re-apply
 * policy decides (src/effects/watch-state.ts). A re-apply runs as `--reapply --yes`, its own report going to
 * stderr so that stdout stays JSON lines; the exit code is its, or 2 (drift) when none ran.
 */
async function watched(context: CommandContext, options: DriftOptions, toolVersion: string, interrupts: Interrupts, target: NodeTarget, report: DriftReport, newest: string | null, byRule: Map<string, string>, rules: readonly Rule[]): Promise<number> {
  const ids = reapplicableRules(report);
  if (report.drifts.length === 0) return ExitCode.ok;
  if (ids.length === 0) return ExitCode.findings;
  const { io } = context.effects;
  // The same io (its getters and its prototype included), with stdout sent to stderr.
  const toErr = Object.create(io) as typeof io;
  Object.defineProperty(toErr, 'out', { value: (text: string) => io.err(text), enumerable: true });
  const quiet: CommandContext = { ...context, effects: { ...context.effects, io: toErr } };
  const outcome = await watchPolicy(context, target.stateDir, ids, () => reapply(quiet, { ...options, reapply: true, yes: true }, toolVersion, interrupts, report, newest, byRule, rules));
  io.err(`harden drift --watch: ${outcome.reason}\n`);
  return outcome.exitCode ?? ExitCode.findings;
}

/**
 * The rules to apply: the drifted ones and every rule they need, transitively. The needed ones pass (or they are
 * what drifted): selected, they let the drifted rules be decided, and change nothing themselves.
 */
function withRequirements(ids: readonly string[], rules: readonly Rule[]): string[] {
  const byId = new Map(rules.map((rule) => [rule.id, rule]));
  const selected = new Set<string>();
  const visit = (id: string) => {
    if (selected.has(id) || !byId.has(id)) return;
    selected.add(id);
    for (const requirement of byId.get(id)!.requires ?? []) if ('rule' in requirement) visit(requirement.rule);
  };
  for (const id of ids) visit(id);
  return [...selected];
}

/** The rules of the drifts a re-apply can put back (their rules still apply here), each once. */
function reapplicableRules(report: DriftReport): string[] {
  return [...new Set(report.drifts.filter((d) => d.reapplicable).flatMap((d) => d.ruleIds))];
}

/** The command that puts it back, as typed on this node. */
function reapplyCommand(target: NodeTarget, options: DriftOptions): string {
  const words = ['harden'];
  if (options.root !== undefined) words.push('--root', shellWord(target.root));
  if (options.stateDir !== undefined) words.push('--state-dir', shellWord(options.stateDir));
  words.push('drift', '--reapply');
  return words.join(' ');
}

/**
 * The apply flow, restricted to the rules that drifted and still apply here, with the profile the newest apply
 * used (a rule only another profile has is left, and said so). Nothing drifted: nothing to do, exit 0.
 */
async function reapply(context: CommandContext, options: DriftOptions, toolVersion: string, interrupts: Interrupts, report: DriftReport, newest: string | null, byRule: Map<string, string>, rules: readonly Rule[]): Promise<number> {
  const ids = reapplicableRules(report);
  if (ids.length === 0) {
    context.effects.io.err(report.drifts.length === 0 ? 'Nothing drifted: nothing to put back.\n' : 'Nothing to put back: the rules that drifted do not apply to this node now.\n');
    return ExitCode.ok;
  }
  if (newest === null) throw new HardenError('cannot put it back: no profile an apply used can be loaded', { hint: 'restore the profile file the snapshots name, or apply a profile again with harden apply' });
  const here = ids.filter((id) => byRule.get(id) === newest);
  const elsewhere = ids.filter((id) => byRule.get(id) !== newest);
  if (elsewhere.length > 0) context.effects.io.err(`warning: ${elsewhere.join(', ')} ${elsewhere.length === 1 ? 'is' : 'are'} not in the profile ${newest} the newest apply used: put ${elsewhere.length === 1 ? 'it' : 'them'} back with harden apply --profile\n`);
  if (here.length === 0) return ExitCode.findings;
  const applyOptions: ApplyOptions = {
    root: options.root,
    stateDir: options.stateDir,
    argsDir: options.argsDir,
    profile: newest,
    only: withRequirements(here, rules),
    yes: options.yes,
    restart: true,
    healthTimeout: options.healthTimeout,
    healthWindow: options.healthWindow,
    color: options.color,
  } as ApplyOptions;
  return runApply(context, applyOptions, toolVersion, interrupts);
}
