// Typed errors. Every expected failure is a HardenError with a one-line message, a hint and an exit code;
// only the CLI's top-level catch turns them into output and a status.

/** The exit codes of every command (documented in --help and the README). */
export const ExitCode = {
  ok: 0,
  error: 1,
  findings: 2,
  restored: 3,
  restoreFailed: 4,
  interrupted: 130,
} as const;

/** The same, for --help. */
export const EXIT_CODES_HELP = `Exit codes:
  0    success: compliant, or no changes
  1    error or refusal; nothing was written
  2    check found a failing rule, or plan --detailed-exitcode has changes
  3    an apply or rollback failed (a write, a restart or its health gate) or was interrupted after
       its first write, and the node was put back as it was
  4    the automatic put-back itself failed, or a third signal left it: the node needs a person
  130  interrupted before anything was written
With several --root, the exit code is the worst over all roots (1 over 2 over 0).`;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class HardenError extends Error {
  readonly hint: string | null;
  readonly exitCode: ExitCodeValue;
  /** Further one-line errors reported together with this one (all problems of a profile at once). */
  readonly more: readonly string[];

  constructor(message: string, options: { hint?: string; exitCode?: ExitCodeValue; more?: readonly string[] } = {}) {
    super(message);
    this.name = new.target.name;
    this.hint = options.hint ?? null;
    this.exitCode = options.exitCode ?? ExitCode.error;
    this.more = options.more ?? [];
  }
}

/** The command line itself is wrong: unknown command or option, conflicting options. */
export class UsageError extends HardenError {}

/** A node root cannot be read as a MicroK8s node: missing, unreadable, binary or oversized files, bad links. */
export class NodeReadError extends HardenError {}

/** A profile is invalid, or names rules that do not exist. */
export class ProfileError extends HardenError {}
