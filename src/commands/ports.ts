// `harden ports`: what a node exposes, port by port: what its args files configure, what really listens, the
// access restriction, and a verdict. It reports; `check` (the probe rules) judges.
import type { CommandModule } from 'yargs';
import { listenerText, portsClosedBy, stillOpen, type ClosedPort } from '../core/exposure.js';
import { describeNode, type NodeModel } from '../core/node.js';
import { configuredPorts } from '../core/ports.js';
import { dqliteAddress, readExposure } from '../effects/exposure-reader.js';
import { readListeners } from '../effects/listeners.js';
import { readNodeFacts } from '../effects/node-reader.js';
import { EXIT_CODES_HELP, ExitCode, HardenError } from '../errors.js';
import { portsJson, portsText } from '../ui/ports-view.js';
import { outputFormat, outputPalette, type CommandContext, type OutputOptions } from './context.js';
import { nodeTargets, withNodeOptions, withOutputOptions, type NodeOptions } from './options.js';
import { shown as escaped } from '../ui/terminal-text.js';

type PortsOptions = NodeOptions & OutputOptions;

export function portsCommand(context: CommandContext): CommandModule<object, PortsOptions> {
  return {
    command: 'ports',
    describe: 'Show each port MicroK8s uses: configured bind, what really listens (proc/net), access restriction, verdict',
    builder: (yargs) =>
      withOutputOptions(withNodeOptions(yargs, false))
        .example('$0 ports', 'this machine')
        .example('$0 --root ./examples/node-1.28 ports --json', 'an offline copy of a node, as JSON')
        .epilogue(EXIT_CODES_HELP) as never,
    handler: async (options) => {
      context.setExitCode(await runPorts(context, options));
    },
  };
}

export async function runPorts(context: CommandContext, options: PortsOptions): Promise<number> {
  const { io, fs } = context.effects;
  const [target] = nodeTargets(options, false);
  let model: NodeModel | null = null;
  let unknown: HardenError | null = null;
  try {
    model = describeNode(await readNodeFacts(fs, { root: target.root, argsDir: target.argsDir }));
  } catch (error) {
    // Without MicroK8s' args files the listeners are still worth showing: say why the configuration is unknown.
    if (!(error instanceof HardenError)) throw error;
    unknown = error;
  }
  const found = await readExposure(fs, target.root, model);
  // Neither a configuration nor listeners (a missing root, a copy without MicroK8s): nothing to show.
  if (unknown !== null && !found.listeners.available) throw unknown;
  const unknownBecause = unknown?.message ?? null;
  for (const problem of found.listeners.problems) io.err(`warning: ${escaped(problem)}\n`);
  const shown = { root: target.root, model, unknownBecause, exposure: found, listenersAvailable: found.listeners.available };
  io.out(outputFormat(options) === 'json' ? portsJson(shown) : portsText(shown, outputPalette(options, io)));
  return ExitCode.ok;
}

/**
 * After an apply restarted its services: the ports the change closes (off, or moved to localhost) are looked up
 * in what listens now, and each is confirmed closed or said plainly to be still open.
 */
export async function confirmClosedPorts(context: CommandContext, root: string, before: NodeModel, after: NodeModel): Promise<void> {
  const { io, fs } = context.effects;
  const dqlite = await dqliteAddress(fs, root);
  const closed = portsClosedBy(configuredPorts(before, { dqliteAddress: dqlite }), configuredPorts(after, { dqliteAddress: dqlite }));
  if (closed.length === 0) return;
  const name = ({ row, expect }: ClosedPort) => `${row.port} (${row.what}${expect === 'local' ? ', now localhost only' : ''})`;
  const listeners = await readListeners(fs, root);
  if (!listeners.available) {
    io.out(`Ports the change closes: ${closed.map(name).join(', ')}; not confirmed: no proc/net on this root.\n`);
    return;
  }
  const open = stillOpen(closed, listeners.listeners);
  const confirmed = closed.filter((c) => !open.some((o) => o.row.id === c.row.id));
  if (confirmed.length > 0) io.out(`Ports closed as planned: ${confirmed.map(name).join(', ')}.\n`);
  for (const { row, expect, listening } of open) {
    io.err(
      `warning: port ${row.port} (${row.what}) is still listening on ${listening.map(listenerText).join(', ')} although the change ${expect === 'closed' ? 'turns it off' : 'keeps it on localhost'}: check that ${row.service} restarted on the new files (journalctl -u ${row.service})\n`,
    );
  }
}
