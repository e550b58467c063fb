// `harden plan`: what applying a profile would change on one node, as diffs and one summary line (or one
// JSON document); `--out` saves it for `harden apply`, `--in` shows a saved plan again. Never writes a node.
import path from 'node:path';
import type { CommandModule } from 'yargs';
import { buildPlan, entryInputs, type Plan } from '../core/plan.js';
import { assessNode, warnOwedRestarts } from '../effects/assess.js';
import { warnInterruptedChange } from '../effects/interrupted-apply.js';
import { warnChangeInProgress } from '../effects/lock.js';
import { atomicWrite, inputDigests, readPlanFile, readTemplates, rootIdentity } from '../effects/plan-store.js';
import { loadProfile, profileIdentity } from '../effects/profile-store.js';
import { EXIT_CODES_HELP, ExitCode, HardenError, UsageError } from '../errors.js';
import { planJson, planText, type PlanOrigin, type PlanTextOptions } from '../ui/plan-view.js';
import { shellWord } from '../ui/shell-word.js';
import { outputFormat, outputPalette, type CommandContext, type OutputOptions } from './context.js';
import { DEFAULT_PROFILE, nodeTargets, ruleIds, withClusterOptions, withNodeOptions, withOutputOptions, withRuleOptions, withWaiverOption, type ClusterOptions, type NodeOptions, type WaiverOptions } from './options.js';
import { nodeWaivers, planWaivers, readWaivers, waivedRules, warnWaivers } from './waivers.js';
import { optionalClusterFacts } from './cluster.js';
import { STANDARD_INPUT } from '../effects/cluster-store.js';

type PlanOptions = NodeOptions & ClusterOptions & WaiverOptions &
  OutputOptions & {
    profile?: string;
    only?: string[];
    skip?: string[];
    detailedExitcode?: boolean;
    out?: string;
    in?: string;
    assumePlanned?: boolean;
  };

export function planCommand(context: CommandContext, toolVersion: string): CommandModule<object, PlanOptions> {
  return {
    command: 'plan',
    describe: 'Show what applying a profile would change on one node: diffs per args file, files to create, modes, restarts',
    builder: (yargs) =>
      withWaiverOption(withClusterOptions(withRuleOptions(withOutputOptions(withNodeOptions(yargs, false)))))
        // No default here, so that --in can tell a --profile given from none (the default is still baseline).
        .option('profile', { type: 'string', default: undefined, defaultDescription: DEFAULT_PROFILE, describe: 'a shipped profile name, or a profile file', requiresArg: true })
        .option('detailed-exitcode', { type: 'boolean', describe: 'exit 0 with no changes, 2 with changes (1 on error)' })
        .option('out', { type: 'string', describe: 'save the plan as JSON to FILE, for harden apply', requiresArg: true })
        .option('in', { type: 'string', describe: 'show a plan saved with --out instead of reading a node', requiresArg: true })
        .option('assume-planned', {
          type: 'boolean',
          describe: "with --cluster: count a control-plane rule as met where that node's own plan fixes it (a preview of a rollout, as check does; not for --out)",
        })
        .example('$0 --root ./examples/node-1.28 plan', 'what the baseline profile would change on the example node')
        .example('$0 plan --profile cis --out cis.plan.json', 'save the plan, to review it and apply it later')
        .example('$0 plan --in cis.plan.json', 'show a saved plan again')
        .example('$0 plan --detailed-exitcode', 'exit 2 when there is something to change')
        .example('$0 plan --waivers waivers.yaml', 'leave the rules the waivers excuse alone (shown under Waived)')
        .epilogue(EXIT_CODES_HELP) as never,
    handler: async (options) => {
      context.setExitCode(await runPlan(context, options, toolVersion));
    },
  };
}

export async function runPlan(context: CommandContext, options: PlanOptions, toolVersion: string): Promise<number> {
  const { io } = context.effects;
  const format = outputFormat(options);
  const selection = ruleIds(options.only).length + ruleIds(options.skip).length > 0;
  const text = (plan: Plan, origin: Made['origin']) =>
    format === 'json' ? planJson(plan, origin.full()) : planText(plan, outputPalette(options, io), { root: origin.root, reasons: origin.reasons, selection, waived: origin.waived });

  if (options.in !== undefined) {
    const given = (['out', 'profile', 'only', 'skip', 'cluster', 'assumePlanned', 'waivers'] as const).filter((name) => options[name] !== undefined);
    if (given.length > 0) {
      throw new UsageError(`--in shows a saved plan and does not take ${given.map((name) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}`, {
        hint: 'the plan file already says what it changes; to make a new plan, leave out --in',
      });
    }
    const document = await readPlanFile(context.effects.fs, options.in);
    io.out(text(document, { ...document, waived: document.waivers?.waived, full: () => document }));
    return exitCode(document, options);
  }

  if (options.assumePlanned && options.cluster === undefined) {
    throw new UsageError('--assume-planned goes with --cluster', { hint: 'name the cluster facts with --cluster FILE: what the control planes plan is in them' });
  }
  if (options.assumePlanned && options.out !== undefined) {
    throw new UsageError('--assume-planned does not go with --out: that plan counts changes the control planes have not made yet', {
      hint: 'save the plan once the control planes are hardened, without --assume-planned',
    });
  }
  const { plan, origin } = await makePlan(context, options, toolVersion);
  if (plan.problems.length > 0) {
    const [first, ...more] = plan.problems.map((problem) => {
      const ids = problem.ruleId.split(',');
      return `plan refused: ${ids.length === 1 ? 'rule' : 'rules'} ${ids.join(', ')}: ${problem.text}`;
    });
    const fixes = [...new Set(plan.problems.flatMap((p) => (p.hint ? [p.hint] : [])))];
    throw new HardenError(first, {
      more,
      hint: `nothing was written; ${fixes.length > 0 ? fixes.join('; ') : 'fix what is named'}, or leave a rule out with --skip RULE (${[...new Set(plan.problems.flatMap((p) => p.ruleId.split(',')))].join(', ')})`,
    });
  }
  if (options.out !== undefined) await atomicWrite(options.out, planJson(plan, origin.full()));
  io.out(text(plan, origin));
  if (options.out !== undefined) {
    // The command to run as it must be typed: the plan applies to the root it was made on.
    const where = path.resolve(origin.root) === '/' ? '' : `--root ${shellWord(origin.root)} `;
    const cluster = options.cluster === undefined ? '' : ` --cluster ${shellWord(options.cluster)}`;
    const waivers = [...new Set(options.waivers ?? [])].map((file) => ` --waivers ${shellWord(file)}`).join('');
    const saved = `Saved the plan to ${options.out}: apply it with harden ${where}apply ${shellWord(options.out)}${cluster}${waivers}\n`;
    if (format === 'json') io.err(saved);
    else io.out(`\n${saved}`);
  }
  return exitCode(plan, options);
}

interface Made {
  readonly plan: Plan;
  /** The text view needs only the root and the reasons; `full()` hashes every input, for --out and --json. */
  readonly origin: Pick<PlanOrigin, 'root' | 'reasons'> & { readonly waived?: PlanTextOptions['waived']; full(): PlanOrigin };
}

/** Facts gathered exactly as `check` gathers them, then the plan and what it was made from. */
async function makePlan(context: CommandContext, options: PlanOptions, toolVersion: string): Promise<Made> {
  const { fs } = context.effects;
  const [target] = nodeTargets(options, false);
  const profile = await loadProfile(options.profile ?? DEFAULT_PROFILE, { only: ruleIds(options.only), skip: ruleIds(options.skip) });
  const cluster = await optionalClusterFacts(context, options, profileIdentity(profile));
  const waivers = await readWaivers(context, options);
  const { facts, model, vars, answers, results } = await assessNode(fs, target, profile.rules, undefined, { facts: cluster, mode: options.assumePlanned ? 'check' : 'change', allRules: profile.allRules }, await nodeWaivers(fs, target, waivers));
  if (waivers.files.length > 0) warnWaivers(context, waivers, profile, results);
  await warnOwedRestarts(context, target.stateDir);
  await warnInterruptedChange(context, target.stateDir);
  await warnChangeInProgress(context, target.stateDir);
  const plan = buildPlan({
    model,
    rules: profile.rules,
    results,
    facts: answers,
    vars,
    profile: profileIdentity(profile),
    cluster: cluster && { file: cluster.file === STANDARD_INPUT ? STANDARD_INPUT : path.resolve(cluster.file), sha256: cluster.sha256 },
    templates: readTemplates(profile.rules),
    locks: facts.locks,
  });
  const reasons = Object.fromEntries(results.filter((result) => result.status === 'FAIL').map((result) => [result.id, result.reason]));
  const createdAt = new Date().toISOString();
  const identity = await rootIdentity(fs, target.root, model.report.revision);
  let full: PlanOrigin | undefined;
  return {
    plan,
    origin: {
      root: target.root,
      reasons,
      waived: waivedRules(results),
      full: () => {
        const inputs = { ...inputDigests(facts), ...entryInputs(profile.rules, answers, vars) };
        const recorded = planWaivers(waivers, results);
        full ??= { root: target.root, identity, toolVersion, createdAt, inputs, reasons, rules: profile.rules.map((rule) => rule.id), ...(recorded ? { waivers: recorded } : {}) };
        return full;
      },
    },
  };
}

function exitCode(plan: Plan, options: PlanOptions): number {
  if (!options.detailedExitcode) return ExitCode.ok;
  const { add, change, remove } = plan.summary;
  return add + change + remove > 0 ? ExitCode.findings : ExitCode.ok;
}
