// `harden check`: where each node stands against a profile, for people and CI.
import path from 'node:path';
import type { CommandModule } from 'yargs';
import { summarize } from '../core/evaluate.js';
import { sharedViewer } from '../core/file-view.js';
import { assessNode, warnOwedRestarts } from '../effects/assess.js';
import { warnInterruptedChange } from '../effects/interrupted-apply.js';
import { warnChangeInProgress } from '../effects/lock.js';
import { loadProfile, profileIdentity } from '../effects/profile-store.js';
import { EXIT_CODES_HELP, ExitCode, HardenError, UsageError } from '../errors.js';
import { assessReport, reportNames } from '../effects/inspect-tarball.js';
import { checkJson, checkJunit, checkSarif, checkText } from '../ui/check-view.js';
import { outputFormat, outputPalette, type CommandContext, type OutputOptions } from './context.js';
import { agreementResults } from '../core/cluster.js';
import { optionalClusterFacts } from './cluster.js';
import { DEFAULT_PROFILE, fleetTargets, ruleIds, withClusterOptions, withFleetOption, withNodeOptions, withOutputOptions, withRuleOptions, withWaiverOption, type ClusterOptions, type FleetOptions, type NodeTarget, type WaiverOptions } from './options.js';
import { nodeWaivers, readWaivers, reportWaivers } from './waivers.js';
import { shown } from '../ui/terminal-text.js';
import { shellWord } from '../ui/shell-word.js';
import { checkHtml, type ReportedNode } from '../ui/check-html.js';
import { ruleFixes } from '../ui/rule-fix.js';
import { readTemplates } from '../effects/plan-store.js';

type CheckOptions = FleetOptions & OutputOptions & ClusterOptions & WaiverOptions & { profile: string; only?: string[]; skip?: string[]; verbose?: boolean; failed?: boolean; report?: string[] };

export function checkCommand(context: CommandContext, toolVersion: string): CommandModule<object, CheckOptions> {
  return {
    command: 'check',
    describe: 'Audit nodes against a profile: PASS, FAIL, MANUAL, BLOCKED or NOT APPLICABLE per rule, with CIS ids',
    builder: (yargs) =>
      withWaiverOption(withClusterOptions(withRuleOptions(withOutputOptions(withFleetOption(withNodeOptions(yargs, true)), ['text', 'json', 'junit', 'sarif', 'html']))))
        .option('failed', { type: 'boolean', describe: 'text: show only what needs work (FAIL and BLOCKED)' })
        .option('verbose', { type: 'boolean', describe: 'text: list the NOT APPLICABLE rules too (counted in one line otherwise)' })
        .option('report', { type: 'string', array: true, requiresArg: true, describe: 'audit microk8s inspect tarballs (inspection-report-*.tar.gz) instead of node roots, read in memory' })
        .example('$0 check', 'this machine against the baseline profile')
        .example('$0 --root ./examples/node-1.28 check --format junit', 'JUnit XML for CI')
        .example('$0 check --profile ./mine.yaml --skip kubelet.read-only-port', 'your own profile, one rule skipped')
        .example('$0 check --roots ./fleet --format json', 'every node root under ./fleet, in one document')
        .example('$0 check --roots ./fleet --profile cis --format html > fleet.html', 'one page to file and print: a summary, the rules × nodes matrix, each rule with its fix')
        .example('$0 check --cluster cluster.json', "a worker's control-plane requirements decided from the control planes, and the settings they disagree on")
        .example('$0 check --report inspection-report-*.tar.gz', 'nodes you cannot log in to, from the reports `microk8s inspect` made there')
        .example('$0 check --failed', 'only the rules that need work, each with the plan command that shows its fix')
        .example('$0 check --waivers waivers.yaml', 'failing rules the waivers excuse are WAIVED, with their justification')
        .epilogue(EXIT_CODES_HELP) as never,
    handler: async (options) => {
      context.setExitCode(await runCheck(context, options, toolVersion));
    },
  };
}

export async function runCheck(context: CommandContext, options: CheckOptions, toolVersion: string): Promise<number> {
  const { io, fs } = context.effects;
  const profile = await loadProfile(options.profile, { only: ruleIds(options.only), skip: ruleIds(options.skip) });
  const cluster = await optionalClusterFacts(context, options, profileIdentity(profile));
  // With cluster facts, the control-plane settings that must agree are results of every node's check.
  // (Not under --only, which names the profile's rules to look at.)
  const agreement = cluster && ruleIds(options.only).length === 0 ? agreementResults(cluster.document) : [];
  const targets: CheckTarget[] = options.report !== undefined ? reportTargets(options) : await fleetTargets(fs, options);
  const waivers = await readWaivers(context, options);
  const outcomes: ReportedNode[] = [];
  let worst: number = ExitCode.ok;
  // Nodes are read several at a time (most of a node's reading is waiting on the disk), and reported in the
  // order given, with their warnings and errors.
  // Only what the report needs is kept of each node: a fleet's args files are not all held at once.
  const viewFlags = sharedViewer();
  // The HTML report shows each failing rule's fix as `plan --only` would; the other formats name that command.
  const fixInputs = outputFormat(options) === 'html' ? { profile: profileIdentity(profile), templates: readTemplates(profile.rules) } : null;
  const assessments = settledInOrder(targets, NODES_AT_ONCE, async (target) => {
    // A report is known by its name (a waiver's `nodes` glob matches it); a node root by its paths and hostname.
    // A report has no fix to show: what harden would change is planned on the node itself.
    if (target.report !== undefined) {
      const { model, results } = await assessReport(fs, target.report, profile.rules, viewFlags, { facts: cluster, mode: 'check', allRules: profile.allRules }, waivers.waivers.length > 0 ? { waivers: waivers.waivers, names: [target.root], now: waivers.now } : undefined);
      return { version: model.report.version, results: [...results, ...agreement], fixes: undefined };
    }
    const { facts, model, vars, answers, results } = await assessNode(fs, target, profile.rules, viewFlags, { facts: cluster, mode: 'check', allRules: profile.allRules }, await nodeWaivers(fs, target, waivers));
    const fixes = fixInputs ? ruleFixes({ ...fixInputs, model, rules: profile.rules, results, facts: answers, vars, locks: facts.locks, root: target.root }) : undefined;
    return { version: model.report.version, results: [...results, ...agreement], fixes };
  });
  // A profile file is named by its file and its own name, so that it never reads as a shipped profile.
  const label = profile.shipped ? profile.name : `${path.basename(profile.file ?? profile.source)} "${profile.name}"`;
  const shownProfile = { name: profile.name, source: profile.source, label };
  let bug = false;
  for (const [index, target] of targets.entries()) {
    try {
      const settled = await assessments[index];
      if (settled.status === 'rejected') throw settled.reason;
      const { version, results, fixes } = settled.value;
      if (target.report === undefined) {
        await warnOwedRestarts(context, target.stateDir);
        await warnInterruptedChange(context, target.stateDir);
        await warnChangeInProgress(context, target.stateDir);
      }
      outcomes.push({ root: target.root, profile: shownProfile, version, results, ...(fixes && { fixes }) });
      if (!summarize(results).compliant && worst === ExitCode.ok) worst = ExitCode.findings;
    } catch (error) {
      // One node alone: its error is the run's. In a fleet, a node that cannot be checked, for any reason,
      // is reported in its own place and the others are still checked; the run then exits 1.
      if (targets.length === 1) throw target.report !== undefined ? namedError(target.root, error) : error;
      const failure = nodeFailure(error);
      bug ||= failure.internal;
      io.err(`error: ${shown(target.root)}: ${shown(failure.message)}\n`);
      if (failure.internal) io.err(`${failure.detail}\n`);
      else if (failure.hint) io.err(`hint: ${shown(failure.hint)}\n`);
      outcomes.push({ root: target.root, profile: shownProfile, version: null, results: [], error: { message: failure.message, hint: failure.hint } });
      worst = ExitCode.error;
    }
  }
  reportWaivers(context, waivers, profile, outcomes);
  if (bug) io.err('Please report the internal error with the command you ran.\n');
  const format = outputFormat(options);
  if (format === 'json') io.out(checkJson(outcomes));
  else if (format === 'junit') io.out(checkJunit(outcomes));
  else if (format === 'sarif') io.out(checkSarif(outcomes, toolVersion));
  else if (format === 'html') io.out(checkHtml({ nodes: outcomes, rules: profile.allRules, toolVersion, selection: isSelection(options), cluster: options.cluster }));
  else {
    const planCommand = options.report !== undefined ? (_root: string, ruleId: string) => `on the node: harden plan --only ${ruleId}` : planCommandFor(options);
    const view = { verbose: options.verbose, failedOnly: options.failed, selection: isSelection(options), planCommand };
    io.out(outcomes.map((outcome) => checkText(outcome, outputPalette(options, io), view)).join('\n'));
  }
  return worst;
}

/** A node root, or a `microk8s inspect` report (`report`: its path; `root`: its name in every output). */
type CheckTarget = NodeTarget & { readonly report?: string };

/** --report: one target per tarball, named by its file name; refused with the options that name node roots. */
function reportTargets(options: CheckOptions): CheckTarget[] {
  const files = [...new Set((options.report ?? []).map(String).filter((value) => value !== ''))];
  if (files.length === 0) throw new UsageError('--report needs a microk8s inspect tarball', { hint: 'name one or more inspection-report-*.tar.gz files' });
  const rooted = ['root', 'roots', 'argsDir', 'stateDir'].filter((key) => options[key as keyof CheckOptions] !== undefined);
  if (rooted.length > 0) {
    const names = rooted.map((key) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ');
    throw new UsageError(`--report reads microk8s inspect tarballs, not node roots: it does not go with ${names}`, { hint: 'run one check for the tarballs and another for the roots' });
  }
  const names = reportNames(files);
  return files.map((file, index) => ({ root: names[index], report: file, argsDir: undefined, stateDir: '' }));
}

/** A report's refusal, named by the report (one report alone reports its error as the run's). */
function namedError(name: string, error: unknown): unknown {
  if (!(error instanceof HardenError)) return error;
  return new HardenError(`${name}: ${error.message}`, { hint: error.hint ?? undefined, exitCode: error.exitCode });
}

/** Whether --only or --skip chose the rules (the verdict is then about them, not about the profile). */
function isSelection(options: CheckOptions): boolean {
  return ruleIds(options.only).length + ruleIds(options.skip).length > 0;
}

/**
 * The command that shows one failing rule's fix on a node, as it must be typed: the node's root (unless `/`),
 * the --args-dir and the profile (unless the default) this check was given.
 */
function planCommandFor(options: CheckOptions): (root: string, ruleId: string) => string {
  return (root, ruleId) => {
    const words = ['harden'];
    if (path.resolve(root) !== '/') words.push('--root', shellWord(root));
    if (options.argsDir !== undefined) words.push('--args-dir', shellWord(options.argsDir));
    words.push('plan');
    if (options.profile !== DEFAULT_PROFILE) words.push('--profile', shellWord(options.profile));
    words.push('--only', ruleId);
    if (options.cluster !== undefined) words.push('--cluster', shellWord(options.cluster));
    return words.join(' ');
  };
}

/** Why a node of a fleet could not be checked: a typed refusal, or a bug (with its stack for stderr). */
function nodeFailure(error: unknown): { message: string; hint: string | null; internal: boolean; detail: string } {
  if (error instanceof HardenError) return { message: error.message, hint: error.hint, internal: false, detail: '' };
  const message = `internal error (a bug): ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
  const detail = error instanceof Error ? error.stack ?? message : message;
  return { message, hint: 'please report it with the command you ran', internal: true, detail };
}

/** How many nodes `check` reads at once. */
const NODES_AT_ONCE = 16;

/** Runs `work` on every item, at most `limit` at a time; one settled result per item, in the items' order. */
function settledInOrder<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>>[] {
  const settle: ((result: PromiseSettledResult<R>) => void)[] = [];
  const results = items.map(() => new Promise<PromiseSettledResult<R>>((resolve) => { settle.push(resolve); }));
  let next = 0;
  const startNext = (): void => {
    if (next >= items.length) return;
    const index = next++;
    work(items[index])
      .then((value) => ({ status: 'fulfilled', value }) as const, (reason: unknown) => ({ status: 'rejected', reason }) as const)
      .then((result) => {
        settle[index](result);
        startNext();
      });
  };
  for (let started = 0; started < Math.min(limit, items.length); started += 1) startNext();
  return results;
}
