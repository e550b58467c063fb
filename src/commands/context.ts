// What every command gets: the effects it may use, and one place to record its exit code.
import type { FileOps } from '../effects/file-ops.js';
import type { FileSystem } from '../effects/file-system.js';
import type { Prompt } from '../effects/prompt.js';
import type { Services } from '../effects/services.js';
import { colorEnabled, palette, type Palette } from '../ui/color.js';

export interface Io {
  /** Results: one JSON document with --json, the report otherwise. */
  out(text: string): void;
  /** Diagnostics: errors, warnings, progress. */
  err(text: string): void;
  readonly isTTY: boolean;
  /** stderr's width when stderr is a terminal (progress is rewritten in place there); null or absent otherwise. */
  readonly errColumns?: number | null;
  /** Whether questions can be asked: a terminal on both stdin and stdout. */
  readonly interactive: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The terminal's width in columns, or null without a terminal: asked by --help alone. */
  readonly columns?: () => number | null;
  /** Standard input read whole, at most `max` bytes (`--cluster -`); throws an InputError. Absent: nothing piped. */
  readonly readInput?: (max: number) => Buffer;
}

export interface Effects {
  readonly fs: FileSystem;
  readonly io: Io;
  /** What changing a node needs (apply, rollback); the real ones when a test does not supply its own. */
  readonly change?: Partial<ChangeEffects>;
}

export interface ChangeEffects {
  readonly ops: FileOps;
  readonly services: Services;
  readonly prompt: Prompt;
  readonly now: () => Date;
}

export interface CommandContext {
  readonly effects: Effects;
  /** Commands report their outcome here; the CLI's top level turns it into the process status. */
  setExitCode(code: number): void;
}

export type OutputFormat = 'text' | 'json' | 'junit' | 'sarif' | 'html';

/** Options every printing command shares, after yargs. */
export interface OutputOptions {
  readonly format: OutputFormat;
  readonly json: boolean | undefined;
  readonly color: boolean | undefined;
}

export function outputFormat(options: OutputOptions): OutputFormat {
  return options.json ? 'json' : options.format;
}

export function outputPalette(options: OutputOptions, io: Io): Palette {
  return palette(colorEnabled({ flag: options.color, env: io.env, isTTY: io.isTTY }));
}
