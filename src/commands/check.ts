// `harden check`: where each node stands against a profile, for people and CI.
import type { CommandModule } from 'yargs';
import { summarize } from '../core/evaluate.js';
import { assessNode, warnOwedRestarts } from '../effects/assess.js';
import { loadProfile } from '../effects/profile-store.js';
import { EXIT_CODES_HELP, ExitCode, HardenError } from '../errors.js';
import { checkJson, checkJunit, checkSarif, checkText, type CheckOutcome } from '../ui/check-view.js';
import { outputFormat, outputPalette, type CommandContext, type OutputOptions } from './context.js';
import { nodeTargets, ruleIds, withNodeOptions, withOutputOptions, withRuleOptions, type NodeOptions } from './options.js';

type CheckOptions = NodeOptions & OutputOptions & { profile: string; only?: string[]; skip?: string[] };

export function checkCommand(context: CommandContext, toolVersion: string): CommandModule<object, CheckOptions> {
  return {
    command: 'check',
    describe: 'Audit nodes against a profile: PASS, FAIL, MANUAL, BLOCKED or NOT APPLICABLE per rule, with CIS ids',
    builder: (yargs) =>
      withRuleOptions(withOutputOptions(withNodeOptions(yargs, true), ['text', 'json', 'junit', 'sarif']))
        .example('$0 check', 'this machine against the baseline profile')
        .example('$0 --root ./examples/node-1.28 check --format junit', 'JUnit XML for CI')
        .example('$0 check --profile ./mine.yaml --skip kubelet.read-only-port', 'your own profile, one rule skipped')
        .epilogue(EXIT_CODES_HELP) as never,
    handler: async (options) => {
      context.setExitCode(await runCheck(context, options, toolVersion));
    },
  };
}

export async function runCheck(context: CommandContext, options: CheckOptions, toolVersion: string): Promise<number> {
  const { io, fs } = context.effects;
  const profile = loadProfile(options.profile, { only: ruleIds(options.only), skip: ruleIds(options.skip) });
  const targets = nodeTargets(options, true);
  const outcomes: CheckOutcome[] = [];
  let worst: number = ExitCode.ok;
  for (const target of targets) {
    try {
      const { model, results } = await assessNode(fs, target, profile.rules);
      await warnOwedRestarts(context, target.stateDir);
      outcomes.push({ root: target.root, profile: { name: profile.name, source: profile.source }, version: model.report.version, results });
      if (!summarize(results).compliant && worst === ExitCode.ok) worst = ExitCode.findings;
    } catch (error) {
      if (!(error instanceof HardenError) || targets.length === 1) throw error;
      io.err(`error: ${target.root}: ${error.message}\n`);
      worst = ExitCode.error;
    }
  }
  const format = outputFormat(options);
  if (format === 'json') io.out(checkJson(outcomes));
  else if (format === 'junit') io.out(checkJunit(outcomes));
  else if (format === 'sarif') io.out(checkSarif(outcomes, toolVersion));
  else io.out(outcomes.map((outcome) => checkText(outcome, outputPalette(options, io))).join('\n'));
  return worst;
}
