import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RuleResult, Status } from '../../src/core/evaluate.js';
import type { Severity } from '../../src/core/profile.js';
import { scoreBySeverity, scoreFraction } from '../../src/core/score.js';

const result = (severity: Severity, status: Status): RuleResult => ({
  id: `r.${severity}.${status}`, title: 't', severity, component: 'kubelet', status, found: '-', reason: '-', cis: [], file: null, line: null,
});

test('passed / (passed + failed + blocked) per severity, most severe first; manual and not applicable left out', () => {
  const scores = scoreBySeverity([
    result('critical', 'PASS'),
    result('critical', 'FAIL'),
    result('critical', 'BLOCKED'),
    result('critical', 'MANUAL'),
    result('critical', 'NOT APPLICABLE'),
    result('high', 'PASS'),
    result('low', 'FAIL'),
    result('low', 'MANUAL'),
  ]);
  assert.equal(scores, [
    { severity: 'critical', passed: 1, failed: 1, blocked: 1, score: 1 / 3 },
    { severity: 'high', passed: 1, failed: 0, blocked: 0, score: 1 },
    // Nothing decided: no score, rather than 0 or 100%.
    { severity: 'medium', passed: 0, failed: 0, blocked: 0, score: null },
    { severity: 'low', passed: 0, failed: 1, blocked: 0, score: 0 },
  ]);
  assert.equal(scores.map(scoreFraction), ['1/3', '1/1', '0/0', '0/1']);
});

test('no results: every severity unscored', () => {
  assert.ok(scoreBySeverity([]).every((score) => score.score === null));
});

test.run();
