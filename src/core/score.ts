// The score of a check, per severity, defined once for every output (text, JSON, JUnit, SARIF): of the rules
// that can be decided and fixed, how many pass — passed / (passed + failed + blocked). MANUAL and NOT
// APPLICABLE rules are left out: nothing on the node decides them. Pure.
import type { RuleResult } from './evaluate.js';
import type { Severity } from './profile.js';

/** Most severe first: the order every output lists them in. */
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low'];

export interface SeverityScore {
  readonly severity: Severity;
  readonly passed: number;
  readonly failed: number;
  readonly blocked: number;
  /** passed / (passed + failed + blocked), from 0 to 1; null when no rule of this severity was scored. */
  readonly score: number | null;
}

export function scoreBySeverity(results: readonly RuleResult[]): SeverityScore[] {
  return SEVERITIES.map((severity) => {
    let passed = 0;
    let failed = 0;
    let blocked = 0;
    for (const result of results) {
      if (result.severity !== severity) continue;
      if (result.status === 'PASS') passed += 1;
      else if (result.status === 'FAIL') failed += 1;
      else if (result.status === 'BLOCKED') blocked += 1;
    }
    const scored = passed + failed + blocked;
    return { severity, passed, failed, blocked, score: scored === 0 ? null : passed / scored };
  });
}

/** `3/4`: passed of those scored, as every output writes one severity's score. */
export function scoreFraction(score: SeverityScore): string {
  return `${score.passed}/${score.passed + score.failed + score.blocked}`;
}
