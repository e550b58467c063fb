// What every reader of an args file produces: the argv its consumer would be started with.
import type { Finding } from './finding.js';

export type ReaderName = 'bash' | 'kubelite';

/** The variables a reader expands, and what to do with any other variable. */
export interface ReaderEnv {
  readonly vars: Readonly<Record<string, string>>;
  /**
   * `empty`: an unknown variable expands to nothing, as in the real process where it is unset
   * (used by the differential test against real bash).
   * `keep`: its reference is kept as written (`${DEFAULT_INTERFACE_IP_ADDR}`), for display.
   * Either way each unknown variable is reported as an `unknown-variable` finding.
   */
  readonly unknownVariables: 'empty' | 'keep';
}

export interface ArgvWord {
  readonly value: string;
  /** 1-based line on which the word starts. */
  readonly line: number;
}

export interface ReadResult {
  readonly reader: ReaderName;
  readonly argv: readonly ArgvWord[];
  readonly findings: readonly Finding[];
  /** True when the real reader would refuse the file (a syntax error): the daemon would not start. */
  readonly fails: boolean;
}
