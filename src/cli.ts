// The command line: a yargs factory with an explicit list of commands, and the one place that turns
// outcomes and errors into an exit code.
import { readFileSync } from 'node:fs';
import yargs, { type Argv, type CommandModule } from 'yargs';
import { checkCommand } from './commands/check.js';
import { inspectCommand } from './commands/inspect.js';
import { planCommand } from './commands/plan.js';
import { applyCommand } from './commands/apply.js';
import { rollbackCommand, snapshotsCommand } from './commands/rollback.js';
import { driftCommand } from './commands/drift.js';
import { portsCommand } from './commands/ports.js';
import { profilesCommand } from './commands/profiles.js';
import { factsCommand } from './commands/facts.js';
import { clusterCommand } from './commands/cluster.js';
import { watchCommand } from './commands/watch.js';
import { completeWords } from './commands/completion.js';
import type { CommandContext, Effects } from './commands/context.js';
import { embeddedFiles } from './effects/embedded-files.js';
import { realFileSystem } from './effects/file-system.js';
import { readStandardInput } from './effects/input.js';
import { descriptorWriter, isTerminal, terminalColumns } from './effects/output.js';
import { EXIT_CODES_HELP, ExitCode, HardenError, UsageError } from './errors.js';
import { shown, terminalSafe } from './ui/terminal-text.js';
import { closest, listInWords } from './core/closest.js';
import { DEFAULT_HELP_WIDTH, wrapHelp } from './ui/help-text.js';


export function version(): string {
  if (embeddedFiles) return embeddedFiles.version;
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** The commands, in the order --help lists them. */
function commandModules(context: CommandContext): CommandModule<object, never>[] {
  const version_ = version();
  return [
    inspectCommand(context), checkCommand(context, version_), planCommand(context, version_), applyCommand(context, version_),
    rollbackCommand(context, version_), snapshotsCommand(context), portsCommand(context), profilesCommand(context),
    factsCommand(context), clusterCommand(context, version_), driftCommand(context, version_),
    watchCommand(context),
  ] as unknown as CommandModule<object, never>[];
}

/** Builds the CLI for one run. Tests call it in-process with their own effects. */
export function buildCli(args: readonly string[], context: CommandContext): Argv {
  const commands = commandModules(context);
  let cli = yargs([...args])
    .scriptName('harden')
    .usage('Harden MicroK8s nodes: read the args files as MicroK8s does, plan, apply, verify, roll back.\n\nUsage: $0 [--root DIR] <command> [options]')
    .version(version())
    .help()
    .alias('help', 'h')
    .strict()
    .demandCommand(1, 'name a command')
    .exitProcess(false)
    .wrap(null)
    .epilogue(EXIT_CODES_HELP)
    .fail((message, error) => {
      // yargs' own complaints about the command line (an option without its value) come as a YError.
      if (error && error.name !== 'YError') throw error;
      throw usageError(message || error?.message || 'the command line is not understood', args, () => optionsByCommand(commands));
    });
  for (const command of commands) cli = cli.command(command);
  // `harden completion` prints yargs' completion script: bash's, or zsh's when $SHELL or $ZSH_NAME names zsh. yargs
  // prints the script for `completion --help` too (it looks for the command before it looks for --help): asked
  // for help, the command is registered as a plain one, whose help yargs shows.
  const describe = 'Print the shell completion script: bash, or zsh when $SHELL names zsh (harden completion >> ~/.bashrc)';
  if (args.includes('completion') && asksForHelp(args)) {
    return cli.command('completion', describe, (y) => y.example('$0 completion >> ~/.bashrc', 'complete commands, options, profiles, rule ids and snapshot ids in bash'));
  }
  return cli.completion('completion', describe);
}

function asksForHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}

/** Runs the CLI and returns the exit code. Nothing else decides it, and nothing calls process.exit. */
export async function main(args: readonly string[], given: Effects = processEffects()): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const effects = withSafeOutput(given);
  const context: CommandContext = { effects, setExitCode: (code) => { exitCode = code; } };
  try {
    // The shell asks for completions: profile names, rule ids and snapshot ids are harden's to find; commands and
    // options are yargs'.
    if (args[0] === '--get-yargs-completions') {
      const found = await completeWords(args.slice(2), valueOptions(commandModules(context)));
      if (found !== null) {
        effects.io.out(found.map((word) => `${word}\n`).join(''));
        return ExitCode.ok;
      }
    }
    await new Promise<void>((resolve, reject) => {
      buildCli(args, context)
        .parseAsync([...args], {}, (error, _argv, output) => {
          if (output) {
            // Only --help asks for the terminal's width: every other command starts without it.
            const text = asksForHelp(args) ? wrapHelp(output, effects.io.columns?.() ?? DEFAULT_HELP_WIDTH) : output;
            effects.io.out(text.endsWith('\n') ? text : `${text}\n`);
          }
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

/**
 * Each command's options, by command name, read from the commands' own builders: asked only when an option is
 * not known, so a run that parses does not build every command.
 */
function optionsByCommand(commands: readonly CommandModule<object, never>[]): Map<string, Set<string>> {
  const options = new Map<string, Set<string>>();
  for (const command of commands) {
    const [name, ...positionals] = String(command.command).split(' ').map((word) => word.replace(/^[<[]|[>\]]$/g, ''));
    options.set(name, new Set(Object.keys(builtOptions(command).key).filter((key) => !['help', 'version', ...positionals].includes(key))));
  }
  options.set('completion', new Set());
  return options;
}

/** The options of any command that take a value (the word after them is not a positional). */
function valueOptions(commands: readonly CommandModule<object, never>[]): Set<string> {
  const found = new Set<string>();
  for (const command of commands) {
    const options = builtOptions(command);
    for (const key of [...options.string, ...options.number]) found.add(key);
  }
  return found;
}

function builtOptions(command: CommandModule<object, never>): { key: Record<string, unknown>; string: string[]; number: string[] } {
  const built = typeof command.builder === 'function' ? command.builder(yargs([]) as never) : yargs([]).options(command.builder ?? {});
  return (built as unknown as { getOptions(): { key: Record<string, unknown>; string: string[]; number: string[] } }).getOptions();
}

/** yargs' message, plus a suggestion for a mistyped option or command, or the commands an option belongs to. */
function usageError(message: string, args: readonly string[], commandOptions: () => Map<string, Set<string>>): UsageError {
  const unknown = /^Unknown arguments?: (.+)$/.exec(message);
  if (unknown) {
    const options = commandOptions();
    const commandNames = [...options.keys()];
    // yargs names unknown options without their dashes: look for each word as written. A word not written as an
    // option is the command (with an unknown command, every option before it is unknown too): name that first.
    const words = unknown[1].split(', ');
    // yargs also names an unknown `--foo-bar` as `fooBar`, and `--no-foo` as `foo`.
    const kebab = (word: string) => word.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    const writtenAs = (word: string) => args.find((arg) => arg.startsWith('-') && [word, kebab(word), `no-${kebab(word)}`].includes(arg.replace(/^-+/, '').split('=')[0]));
    const command = words.find((word) => writtenAs(word) === undefined);
    if (command !== undefined && !commandNames.includes(command)) {
      const guess = closest(command, commandNames);
      return new UsageError(`unknown command '${command}'`, { hint: `${guess ? `did you mean ${guess}? ` : ''}see harden --help` });
    }
    const option = words.find((word) => writtenAs(word) !== undefined);
    if (option === undefined) return new UsageError(`unexpected argument '${words[0]}'`, { hint: 'see harden --help' });
    const written = writtenAs(option)!.split('=')[0];
    const name = kebab(option);
    const current = args.find((arg) => commandNames.includes(arg));
    const help = current ? `harden ${current} --help` : 'harden --help';
    // Valid, but on other commands: say which (yargs would suggest the very option given).
    const takers = commandNames.filter((command) => options.get(command)!.has(name));
    if (takers.length > 0) {
      const by = `(${listInWords(takers)} ${takers.length === 1 ? 'does' : 'do'})`;
      return current
        ? new UsageError(`${current} takes no ${written} ${by}`, { hint: `see ${help}` })
        : new UsageError(`${written} goes after a command ${by}`, { hint: `for example harden ${takers[0]} ${written}; see harden --help` });
    }
    // A typo: the nearest option of this command (of any command before one is named).
    const guess = closest(name, current ? options.get(current)! : new Set([...options.values()].flatMap((set) => [...set])));
    return new UsageError(`unknown option ${written}`, { hint: `${guess ? `did you mean --${guess}? ` : ''}see ${help}` });
  }
  if (/^Not enough non-option arguments/.test(message)) return new UsageError('name a command', { hint: 'see harden --help' });
  const noValue = /^Not enough arguments following: (.+)$/.exec(message);
  if (noValue) return new UsageError(`--${noValue[1]} needs a value`, { hint: 'see harden --help' });
  return new UsageError(message.replace(/\s*\n\s*/g, ' '), { hint: 'see harden --help' });
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
      columns: () => terminalColumns(1),
      readInput: (max) => readStandardInput(max),
    },
  };
}
