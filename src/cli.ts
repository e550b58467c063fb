// The command line: a yargs factory with an explicit list of commands, and the one place that turns
// outcomes and errors into an exit code.
import { readFileSync } from 'node:fs';
import yargs, { type Argv } from 'yargs';
import { checkCommand } from './commands/check.js';
import { inspectCommand } from './commands/inspect.js';
import { planCommand } from './commands/plan.js';
import { applyCommand } from './commands/apply.js';
import { rollbackCommand, snapshotsCommand } from './commands/rollback.js';
import { portsCommand } from './commands/ports.js';
import { profilesCommand } from './commands/profiles.js';
import type { CommandContext, Effects } from './commands/context.js';
import { embeddedFiles } from './effects/embedded-files.js';
import { realFileSystem } from './effects/file-system.js';
import { descriptorWriter, isTerminal } from './effects/output.js';
import { EXIT_CODES_HELP, ExitCode, HardenError, UsageError } from './errors.js';
import { shown, terminalSafe } from './ui/terminal-text.js';


export function version(): string {
  if (embeddedFiles) return embeddedFiles.version;
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Builds the CLI for one run. Tests call it in-process with their own effects. */
export function buildCli(args: readonly string[], context: CommandContext): Argv {
  let cli = yargs([...args])
    .scriptName('harden')
    .usage('Harden MicroK8s nodes: read the args files as MicroK8s does, plan, apply, verify, roll back.\n\nUsage: $0 [--root DIR] <command> [options]')
    .version(version())
    .help()
    .alias('help', 'h')
    .strict()
    .demandCommand(1, 'name a command')
    .exitProcess(false)
    .wrap(100)
    .epilogue(EXIT_CODES_HELP)
    .fail((message, error) => {
      if (error) throw error;
      throw usageError(message, args);
    });
  const commands = [inspectCommand(context), checkCommand(context, version()), planCommand(context, version()), applyCommand(context, version()), rollbackCommand(context, version()), snapshotsCommand(context), portsCommand(context), profilesCommand(context)];
  for (const command of commands) cli = cli.command(command as never);
  // `harden completion` prints yargs' completion script: bash's, or zsh's when $SHELL or $ZSH_NAME names zsh.
  return cli.completion('completion', 'Print the shell completion script: bash, or zsh when $SHELL names zsh (harden completion >> ~/.bashrc)');
}

/** Runs the CLI and returns the exit code. Nothing else decides it, and nothing calls process.exit. */
export async function main(args: readonly string[], given: Effects = processEffects()): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const effects = withSafeOutput(given);
  const context: CommandContext = { effects, setExitCode: (code) => { exitCode = code; } };
  try {
    await new Promise<void>((resolve, reject) => {
      buildCli(args, context)
        .parseAsync([...args], {}, (error, _argv, output) => {
          if (output) effects.io.out(output.endsWith('\n') ? output : `${output}\n`);
          if (error) reject(error);
        })
        .then(() => resolve(), reject);
    });
    return exitCode;
  } catch (error) {
    return reportError(error, effects);
  }
}

/**
 * The same effects, with whatever is written to stdout and stderr passed through `terminalSafe`: every view and
 * message escapes the node's text itself, and this keeps any control character one of them missed (other than
 * harden's own colour codes) from reaching a terminal raw. JSON output holds none, so it passes unchanged.
 */
function withSafeOutput(effects: Effects): Effects {
  const { io } = effects;
  const safeIo = Object.create(io) as Effects['io'];
  Object.defineProperties(safeIo, {
    out: { value: (text: string) => io.out(terminalSafe(text)), enumerable: true },
    err: { value: (text: string) => io.err(terminalSafe(text)), enumerable: true },
  });
  return { ...effects, io: safeIo };
}

function reportError(error: unknown, effects: Effects): number {
  const { io } = effects;
  if (error instanceof HardenError) {
    // Messages quote paths and values from the node: each line is one line, escaped once here.
    io.err(`error: ${shown(error.message)}\n`);
    for (const line of error.more) io.err(`error: ${shown(line)}\n`);
    if (error.hint) io.err(`hint: ${shown(error.hint)}\n`);
    return error.exitCode;
  }
  const detail = error instanceof Error ? error.stack ?? error.message : String(error);
  io.err(`harden: internal error (a bug): ${detail}\nPlease report it with the command you ran.\n`);
  return ExitCode.error;
}

const COMMAND_NAMES = ['inspect', 'check', 'plan', 'apply', 'rollback', 'snapshots', 'ports', 'profiles', 'completion'];

/** yargs' message, plus a suggestion for a mistyped option or command. */
function usageError(message: string, args: readonly string[]): UsageError {
  const unknown = /^Unknown arguments?: (.+)$/.exec(message);
  if (unknown) {
    // yargs names unknown options without their dashes: look for each word as written. A word not written as an
    // option is the command (with an unknown command, every option before it is unknown too): name that first.
    const words = unknown[1].split(', ');
    // yargs also names an unknown `--foo-bar` as `fooBar`.
    const kebab = (word: string) => word.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    const writtenAs = (word: string) => args.find((arg) => arg.startsWith('-') && [word, kebab(word)].includes(arg.replace(/^-+/, '').split('=')[0]));
    const command = words.find((word) => writtenAs(word) === undefined);
    if (command !== undefined && !COMMAND_NAMES.includes(command)) {
      const guess = closest(command, COMMAND_NAMES);
      return new UsageError(`unknown command '${command}'`, { hint: `${guess ? `did you mean ${guess}? ` : ''}see harden --help` });
    }
    const option = words.find((word) => writtenAs(word) !== undefined);
    if (option === undefined) return new UsageError(`unexpected argument '${words[0]}'`, { hint: 'see harden --help' });
    const guess = closest(option, KNOWN_OPTIONS);
    return new UsageError(`unknown option ${writtenAs(option)!.split('=')[0]}`, { hint: `${guess ? `did you mean --${guess}? ` : ''}see harden --help` });
  }
  if (/^Not enough non-option arguments/.test(message)) return new UsageError('name a command', { hint: 'see harden --help' });
  return new UsageError(message.replace(/\s*\n\s*/g, ' '), { hint: 'see harden --help' });
}

const KNOWN_OPTIONS = ['root', 'args-dir', 'state-dir', 'format', 'json', 'no-color', 'help', 'version', 'profile', 'only', 'skip', 'detailed-exitcode', 'out', 'in', 'yes', 'no-restart', 'health-timeout', 'health-window', 'force', 'keep'];

function closest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : null;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

function processEffects(): Effects {
  return {
    fs: realFileSystem,
    io: {
      out: descriptorWriter(1),
      err: descriptorWriter(2),
      // Asked on use, and of the descriptors: creating process.stdin costs a stream (and its modules) that only
      // apply's questions need.
      get isTTY() {
        return isTerminal(1);
      },
      get interactive() {
        return isTerminal(0) && isTerminal(1);
      },
      get errColumns() {
        return isTerminal(2) ? process.stderr.columns || 80 : null;
      },
      env: process.env,
    },
  };
}
