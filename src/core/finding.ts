// Findings: what a reading of a node or a file turned up, with the line it is about.
import { compareStrings } from './order.js';

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  /** Stable identifier shown to users, e.g. `unsupported-construct`, `reader-fails`, `readers-differ`. */
  readonly code: string;
  readonly severity: Severity;
  /** 1-based line in the file; 0 when the finding is about the whole file. */
  readonly line: number;
  readonly message: string;
  /**
   * Only on the finding that stands for the findings of its code a file had beyond FINDINGS_PER_CODE: how
   * many more there were (that finding's line is the first of theirs).
   */
  readonly omitted?: number;
}

/**
 * A value from the node inside a message: between double quotes, as it is. Messages carry node text raw; whoever
 * shows them escapes it once (ui/terminal-text for a terminal, JSON for a document).
 */
export function quoted(value: string): string {
  return `"${value}"`;
}

/** Words as a reader splits them: `["--a","b"]`. */
export function quotedWords(words: readonly string[]): string {
  return `[${words.map(quoted).join(',')}]`;
}

const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Findings ordered by line, then severity, then code: the order every report uses. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) => a.line - b.line || SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || compareStrings(a.code, b.code),
  );
}

/**
 * How many findings of one code one file reports. A hostile file can make one finding per word (16 MiB of
 * `x ` is eight million stray arguments): beyond this many, the rest are counted, not kept.
 */
export const FINDINGS_PER_CODE = 20;

/**
 * A file's findings as a reader turns them up: the first FINDINGS_PER_CODE of each code are kept, and each
 * code with more is summed up by one finding saying how many more there were. With `dedupe`, a finding equal
 * to a kept one, or to the one just added for its code (same code, line and message), is dropped as a repeat.
 */
export class FindingList {
  private readonly kept: Finding[] = [];
  private readonly keptKeys = new Set<string>();
  private readonly byCode = new Map<string, { kept: number; last: string; omitted: number; firstLine: number; severity: Severity }>();

  private readonly limit: number;
  private readonly dedupe: boolean;

  constructor(options: { readonly limit?: number; readonly dedupe?: boolean } = {}) {
    this.limit = options.limit ?? FINDINGS_PER_CODE;
    this.dedupe = options.dedupe ?? false;
  }

  /**
   * Whether a finding of `code` would be kept. Producers that build a costly message ask first, and call
   * `count` instead of `add` when it would not.
   */
  admits(code: string): boolean {
    return (this.byCode.get(code)?.kept ?? 0) < this.limit;
  }

  add(finding: Finding): void {
    const key = this.dedupe ? `${finding.code}\0${finding.line}\0${finding.message}` : '';
    let seen = this.byCode.get(finding.code);
    if (this.dedupe && (seen?.last === key || this.keptKeys.has(key))) return;
    if (!seen) {
      seen = { kept: 0, last: key, omitted: 0, firstLine: 0, severity: finding.severity };
      this.byCode.set(finding.code, seen);
    }
    seen.last = key;
    if (seen.kept < this.limit) {
      seen.kept += 1;
      this.kept.push(finding);
      if (this.dedupe) this.keptKeys.add(key);
      return;
    }
    this.countOmitted(seen, finding.line, finding.severity);
  }

  /** A finding of `code` beyond the limit (`admits` said no), counted without being made (never a repeat). */
  count(code: string, severity: Severity, line: number): void {
    const seen = this.byCode.get(code);
    if (!seen || seen.kept < this.limit) throw new Error(`FindingList.count(${code}) before the limit: add it instead`);
    seen.last = '';
    this.countOmitted(seen, line, severity);
  }

  /** The findings kept, then one per code over the limit, in report order. */
  list(): Finding[] {
    const out = this.kept.slice();
    for (const [code, seen] of this.byCode) {
      if (seen.omitted === 0) continue;
      out.push({
        code,
        severity: seen.severity,
        line: seen.firstLine,
        message: `and ${seen.omitted} more in this file, from line ${seen.firstLine} on (the first ${this.limit} of each code are shown)`,
        omitted: seen.omitted,
      });
    }
    return sortFindings(out);
  }

  private countOmitted(seen: { omitted: number; firstLine: number; severity: Severity }, line: number, severity: Severity): void {
    if (seen.omitted === 0 || line < seen.firstLine) seen.firstLine = line;
    if (seen.omitted === 0 || SEVERITY_RANK[severity] < SEVERITY_RANK[seen.severity]) seen.severity = severity;
    seen.omitted += 1;
  }
}
