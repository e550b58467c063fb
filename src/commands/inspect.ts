// `harden inspect`: what this node is and how each of its args files is read.
import type { CommandModule } from 'yargs';
import { describeNode } from '../core/node.js';
import { readNodeFacts } from '../effects/node-reader.js';
import { EXIT_CODES_HELP, ExitCode, HardenError } from '../errors.js';
import { inspectJson, inspectText, type InspectOutcome } from '../ui/inspect-view.js';
import { outputFormat, outputPalette, type CommandContext, type OutputOptions } from './context.js';
import { nodeTargets, withNodeOptions, withOutputOptions, type NodeOptions } from './options.js';
import { shown } from '../ui/terminal-text.js';

type InspectOptions = NodeOptions & OutputOptions;

export function inspectCommand(context: CommandContext): CommandModule<object, InspectOptions> {
  return {
    command: 'inspect',
    describe: 'Show the MicroK8s version, era, role, datastore, peers, and who reads each args file',
    builder: (yargs) =>
      withOutputOptions(withNodeOptions(yargs, true))
        .example('$0 inspect', 'this machine')
        .example('$0 --root ./examples/node-1.28 inspect', 'an offline copy of a node')
        .example('$0 --root /mnt/a --root /mnt/b inspect --json', 'several nodes, one JSON document keyed by root')
        .epilogue(EXIT_CODES_HELP) as never,
    handler: async (options) => {
      context.setExitCode(await runInspect(context, options));
    },
  };
}

export async function runInspect(context: CommandContext, options: InspectOptions): Promise<number> {
  const { io, fs } = context.effects;
  const outcomes: InspectOutcome[] = [];
  const targets = nodeTargets(options, true);
  for (const target of targets) {
    try {
      const facts = await readNodeFacts(fs, { root: target.root, argsDir: target.argsDir });
      outcomes.push({ root: target.root, report: describeNode(facts).report });
    } catch (error) {
      if (!(error instanceof HardenError)) throw error;
      // One root alone: the error is the whole answer, and the top level prints it.
      if (targets.length === 1) throw error;
      outcomes.push({ root: target.root, error });
    }
  }
  if (outputFormat(options) === 'json') {
    io.out(inspectJson(outcomes));
  } else {
    const color = outputPalette(options, io);
    io.out(outcomes.map((outcome) => inspectText(outcome, color)).join('\n'));
  }
  const failed = outcomes.filter((o): o is Extract<InspectOutcome, { error: HardenError }> => 'error' in o);
  for (const outcome of failed) io.err(`error: ${shown(outcome.root)}: ${shown(outcome.error.message)}\n`);
  return failed.length > 0 ? ExitCode.error : ExitCode.ok;
}
