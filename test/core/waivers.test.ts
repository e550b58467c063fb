import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { blockUnmetRequirements, type NodeFactAnswers, type RuleResult, type Status } from '../../src/core/evaluate.js';
import type { Rule } from '../../src/core/profile.js';
import { applyWaivers, parseWaivers, strayWaivers, unusedWaivers, waiverExpired, type Waiver } from '../../src/core/waivers.js';
import { waiverValidator } from '../../src/effects/waiver-validator.js';

const HEAD = 'apiVersion: harden/v1\nkind: Waivers\nwaivers:\n';
const parse = (text: string) => parseWaivers(text, 'w.yaml', waiverValidator());
const problems = async (text: string) => {
  const parsed = await parse(text);
  return parsed.ok ? [] : parsed.problems;
};

const result = (id: string, status: Status): RuleResult => ({
  id, title: 't', severity: 'high', component: 'kubelet', status, found: '-', reason: 'r', cis: [], file: null, line: null,
});
const waiver = (rule: string, extra: Partial<Waiver> = {}): Waiver => ({
  rule, nodes: null, justification: 'because', owner: null, expires: null, file: 'w.yaml', line: 4, number: 1, ...extra,
});
const NOW = new Date('2026-12-07T12:00:00Z');

test('a waiver file parses into waivers with their file, line and number; text trimmed, optional fields null', async () => {
  const parsed = await parse(`${HEAD}  - rule: apiserver.profiling\n    justification: " lab only "\n    owner: ops@example.com\n    expires: 2026-12-31\n  - rule: "files.*"\n    nodes: [node-1]\n    justification: later\n`);
  assert.equal(parsed, {
    ok: true,
    waivers: [
      { rule: 'apiserver.profiling', nodes: null, justification: 'lab only', owner: 'ops@example.com', expires: '2026-12-31', file: 'w.yaml', line: 4, number: 1 },
      { rule: 'files.*', nodes: ['node-1'], justification: 'later', owner: null, expires: null, file: 'w.yaml', line: 8, number: 2 },
    ],
  });
});

test('every problem of a waiver file on its own line, FILE:LINE: waiver N: message, in line order', async () => {
  assert.equal(await problems(`${HEAD}  - rule: a.b\n    justificaton: x\n  - rule: Bad Rule\n    justification: "  "\n    expires: tomorrow\n`), [
    'w.yaml:4: waiver 1: missing field "justification"',
    'w.yaml:5: waiver 1: unknown field "justificaton"; did you mean "justification"?',
    'w.yaml:6: waiver 2: rule: must be a rule id or a glob of them (a-z, 0-9, -, . and *), as harden profiles show lists them',
    'w.yaml:7: waiver 2: justification: must not be empty',
    'w.yaml:8: waiver 2: expires: must be a date, YYYY-MM-DD (the waiver holds to the end of that day, UTC)',
  ]);
});

test('a date that is no day of the calendar is refused; 29 February of a leap year is one', async () => {
  assert.equal(await problems(`${HEAD}  - rule: a.b\n    justification: x\n    expires: 2026-02-29\n`), ['w.yaml:6: waiver 1: expires: 2026-02-29 is not a real date']);
  assert.equal(await problems(`${HEAD}  - rule: a.b\n    justification: x\n    expires: 2028-02-29\n`), []);
});

test('the document itself: its kind, an unknown top-level field, YAML that does not parse', async () => {
  assert.equal(await problems('apiVersion: harden/v1\nkind: Profile\nwaiver: []\n'), [
    'w.yaml:1: missing field "waivers"',
    'w.yaml:2: kind: must be "Waivers"',
    'w.yaml:3: unknown field "waiver"; did you mean "waivers"?',
  ]);
  assert.equal(await problems(`${HEAD}  - rule: [a.b\n`), ['w.yaml:5: not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]']);
});

test('a waiver holds to the end of its day, UTC', () => {
  const w = waiver('a.b', { expires: '2026-12-07' });
  assert.is(waiverExpired(w, new Date('2026-12-07T23:59:59.999Z')), false);
  assert.is(waiverExpired(w, new Date('2026-12-08T00:00:00.000Z')), true);
  assert.is(waiverExpired(waiver('a.b'), new Date('2999-01-01T00:00:00Z')), false);
});

test('FAIL and BLOCKED become WAIVED with the waiver and the status before; PASS, MANUAL, NOT APPLICABLE and NOT ASSESSED never', () => {
  const results = [result('a.fail', 'FAIL'), result('a.blocked', 'BLOCKED'), result('a.pass', 'PASS'), result('a.manual', 'MANUAL'), result('a.na', 'NOT APPLICABLE'), result('a.nass', 'NOT ASSESSED')];
  const waived = applyWaivers(results, [waiver('a.*', { owner: 'ops', expires: '2026-12-31' })], ['/n'], NOW);
  assert.equal(waived.map((r) => r.status), ['WAIVED', 'WAIVED', 'PASS', 'MANUAL', 'NOT APPLICABLE', 'NOT ASSESSED']);
  assert.equal(waived[1].waiver, { justification: 'because', owner: 'ops', expires: '2026-12-31', file: 'w.yaml', line: 4, status: 'BLOCKED', expired: false });
  assert.is(waived[2].waiver, undefined);
});

test('an expired waiver leaves the result as it was, with the waiver marked expired; a valid one given later wins', () => {
  const old = waiver('a.b', { expires: '2026-12-06', line: 4 });
  const [failed, blocked] = applyWaivers([result('a.b', 'FAIL'), { ...result('a.b', 'BLOCKED'), id: 'a.b' }], [old], ['/n'], NOW);
  assert.equal([failed.status, failed.waiver?.expired, blocked.status, blocked.waiver?.expired], ['FAIL', true, 'BLOCKED', true]);
  const [renewed] = applyWaivers([result('a.b', 'FAIL')], [old, waiver('a.b', { expires: '2027-01-31', line: 9 })], ['/n'], NOW);
  assert.equal([renewed.status, renewed.waiver?.line], ['WAIVED', 9]);
});

test('nodes: a glob on any of the node names; a glob is whole-id, * spans dots', () => {
  const only = waiver('a.b', { nodes: ['/fleet/cp-*'] });
  assert.is(applyWaivers([result('a.b', 'FAIL')], [only], ['/fleet/cp-1', 'cp-1'], NOW)[0].status, 'WAIVED');
  assert.is(applyWaivers([result('a.b', 'FAIL')], [only], ['/fleet/w-1', 'w-1'], NOW)[0].status, 'FAIL');
  assert.is(applyWaivers([result('a.b.c', 'FAIL')], [waiver('a.b')], ['/n'], NOW)[0].status, 'FAIL');
  assert.is(applyWaivers([result('a.b.c', 'FAIL')], [waiver('*.c')], ['/n'], NOW)[0].status, 'WAIVED');
});

test('unused: a waiver no result carries; stray: a waiver naming no rule of the profile', () => {
  const used = waiver('a.b', { line: 4 });
  const idle = waiver('a.c', { line: 8 });
  const typo = waiver('a.zz', { line: 12 });
  const results = applyWaivers([result('a.b', 'FAIL'), result('a.c', 'PASS')], [used, idle, typo], ['/n'], NOW);
  assert.equal(unusedWaivers([used, idle, typo], results), [idle, typo]);
  assert.equal(strayWaivers([used, idle, typo], ['a.b', 'a.c']), [typo]);
});

test('a waived rule meets no requirement: the rule that needs it is BLOCKED, and that spreads', () => {
  const rule = (id: string, requires: string[] = []): Rule => ({ id, title: 't', rationale: 'r', severity: 'high', component: 'kubelet', operation: 'set-flag', flag: '--x', value: '1', requires: requires.map((r) => ({ rule: r })) });
  const rules = [rule('a.base'), rule('a.needs', ['a.base']), rule('a.further', ['a.needs'])];
  const facts = { paths: {}, entries: {}, listings: {}, sysctls: {}, kubeconfigs: {} } as unknown as NodeFactAnswers;
  const waived = applyWaivers(rules.map((r) => result(r.id, 'FAIL')), [waiver('a.base')], ['/n'], NOW);
  const after = blockUnmetRequirements(waived, rules, facts, {});
  assert.equal(after.map((r) => [r.status, r.reason]), [
    ['WAIVED', 'r'],
    ['BLOCKED', 'r; blocked: needs rule a.base, which is WAIVED'],
    ['BLOCKED', 'r; blocked: needs rule a.needs, which is BLOCKED'],
  ]);
});

test.run();
