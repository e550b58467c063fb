// What every command gets: the effects it may use, and one place to record its exit code.
import type { FileSystem } from '../effects/file-system.js';
import { colorEnabled, palette, type Palette } from '../ui/color.js';

export interface Io {
  /** Results: one JSON document with --json, the report otherwise. */
  out(text: string): void;
  /** Diagnostics: errors, warnings, progress. */
  err(text: string): void;
  readonly isTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface Effects {
  readonly fs: FileSystem;
  readonly io: Io;
}

export interface CommandContext {
  readonly effects: Effects;
  /** Commands report their outcome here; the CLI's top level turns it into the process status. */
  setExitCode(code: number): void;
}

export type OutputFormat = 'text' | 'json' | 'junit' | 'sarif';

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
