// The two CIS profiles side by side: cis (CIS 1.24 for MicroK8s, kube-bench cis-1.24-microk8s) and cis-1-12 (CIS
// 1.12, kube-bench cis-1.12). A rule id is a setting and a CIS number only a reference, so a rule the two share
// must mean the same setting; cis-1-12 must carry every check of kube-bench's cis-1.12 sections 1 to 4, under
// cis-1.12's numbers and only those, and say Manual where cis-1.12 does.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Rule } from '../../src/core/profile.js';
import { loadProfile } from '../../src/effects/profile-store.js';
import { loadKubeBenchReference } from '../helpers/kube-bench.js';
import { runBin } from '../helpers/cli.js';

const cis = await loadProfile('cis');
const cis112 = await loadProfile('cis-1-12');
const baseline = await loadProfile('baseline');

/** What makes a rule the setting it is: everything but its words and its references. */
const SETTING = ['component', 'applies', 'requires', 'operation', 'flag', 'value', 'accept', 'default', 'items', 'path', 'template', 'match', 'mode', 'owner', 'probe'] as const;

function differingFields(a: Rule, b: Rule): string[] {
  const record = (rule: Rule) => rule as unknown as Record<string, unknown>;
  return SETTING.filter((field) => JSON.stringify(record(a)[field]) !== JSON.stringify(record(b)[field]));
}

const cisRefs = (rule: Rule) => (rule.references ?? []).flatMap((ref) => ('cis' in ref ? [ref] : []));

test('harden profiles list names each benchmark', () => {
  const run = runBin(['profiles', 'list']);
  assert.is(run.status, 0, run.stderr);
  assert.is(
    run.stdout,
    [
      "baseline   25 rules  Close the ports and doors MicroK8s' documentation lists as open",
      'cis        108 rules  CIS Kubernetes Benchmark 1.24 for MicroK8s (kube-bench cis-1.24-microk8s)',
      'cis-1-12   110 rules  CIS Kubernetes Benchmark 1.12 for MicroK8s (kube-bench cis-1.12, Kubernetes 1.32-1.34)',
      '',
    ].join('\n'),
  );
  const validated = runBin(['profiles', 'validate', 'profiles/cis-1-12.yaml']);
  assert.is(validated.status, 0, validated.stderr);
  assert.is(validated.stdout, 'profiles/cis-1-12.yaml: valid (profile cis-1-12, 110 rules)\n');
  assert.is(validated.stderr, '');
});

test('cis-1-12 extends baseline: every baseline rule is in it, those with a CIS id repeated with only their references changed', () => {
  const byId = new Map(cis112.rules.map((rule) => [rule.id, rule]));
  for (const rule of baseline.rules) {
    const mine = byId.get(rule.id);
    assert.ok(mine, rule.id);
    const { references: theirs, ...rest } = rule;
    const { references: ours, ...myRest } = mine!;
    assert.equal(myRest, rest, rule.id);
    assert.equal(
      (ours ?? []).map((ref) => ('cis' in ref ? ref.cis : ref.doc)),
      (theirs ?? []).map((ref) => ('cis' in ref ? ref.cis : ref.doc)),
      `${rule.id}: the same checks (cis-1.12 numbers them as cis-1.24-microk8s does)`,
    );
  }
});

test('a rule id shared with cis is the same setting, but where CIS 1.12 asks for a stricter value', () => {
  const byId = new Map(cis.rules.map((rule) => [rule.id, rule]));
  const differences: Record<string, string[]> = {};
  for (const rule of cis112.rules) {
    const other = byId.get(rule.id);
    if (!other) continue;
    const fields = differingFields(rule, other);
    if (fields.length > 0) differences[rule.id] = fields;
  }
  assert.equal(differences, {
    // 1.1.1: 0600 (1.24: 0644)
    'files.apiserver-args': ['mode'],
    // 1.2.29 / 4.2.12: no CBC, no RSA key exchange
    'apiserver.tls-cipher-suites': ['value', 'accept'],
    'kubelet.tls-cipher-suites': ['value', 'accept'],
  });
  assert.is(byId.get('files.apiserver-args')!.mode, '0644');
  assert.is(cis112.rules.find((rule) => rule.id === 'files.apiserver-args')!.mode, '0600');
});

test('what each profile has that the other does not', () => {
  const ids = (rules: readonly Rule[]) => new Set(rules.map((rule) => rule.id));
  const [a, b] = [ids(cis.rules), ids(cis112.rules)];
  assert.equal([...a].filter((id) => !b.has(id)), [
    'apiserver.admission.no-deny-service-external-ips', // 1.12 asks the opposite
    'apiserver.admission.security-context-deny', // 1.24's 1.2.12, gone in 1.12
    'apiserver.secure-port', // 1.24's 1.2.16, gone in 1.12
    'kubelet.kernel-parameters', // what 1.24's 4.2.6 needs first
    'kubelet.protect-kernel-defaults', // 1.24's 4.2.6, gone in 1.12
  ]);
  assert.equal([...b].filter((id) => !a.has(id)), [
    'apiserver.admission.deny-service-external-ips',
    'apiserver.service-account-extend-token-expiration',
    'apiserver.no-service-account-tokens-for-users',
    'apiserver.no-bootstrap-tokens-for-users',
    'kubelet.pod-max-pids',
    'kubelet.seccomp-default',
    'kube-proxy.metrics-bind-address',
  ]);
});

test('cis-1-12 references cis-1.12 only, covers every check of its sections 1 to 4, and says Manual where it does', () => {
  const checks = loadKubeBenchReference('cis-1.12')
    .controls.filter((controls) => controls.id !== '5')
    .flatMap((controls) => controls.checks);
  const manual = new Map(checks.map((check) => [check.id, check.type === 'manual' || check.text.includes('(Manual)')]));
  const referenced = new Set<string>();
  for (const rule of cis112.rules) {
    for (const ref of cisRefs(rule)) {
      assert.is(ref.benchmark, 'cis-1.12', rule.id);
      assert.ok(manual.has(ref.cis), `${rule.id}: CIS ${ref.cis} is no check of cis-1.12`);
      assert.is(ref.automated === false, manual.get(ref.cis), `${rule.id}: CIS ${ref.cis} automated`);
      referenced.add(ref.cis);
    }
  }
  assert.equal(checks.map((check) => check.id).filter((id) => !referenced.has(id)), []);
  // and cis keeps its own benchmark
  assert.ok(cis.rules.every((rule) => cisRefs(rule).every((ref) => ref.benchmark === 'cis-1.24-microk8s')));
});

test.run();
