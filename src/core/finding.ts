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
