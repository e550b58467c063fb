// harden check --profile cis against an emulation of kube-bench's own matcher (test/helpers/kube-bench.ts), on
// every fixture version: for every flag check of cis-1.24-microk8s, the same verdict, or a difference listed in
// DIFFERENCES below (and in the README), where kube-bench is loose or harden deliberately departs from it. The
// same for harden check --profile cis-1-12 and kube-bench's cis-1.12, its `ps` audits read as `cat` of the args
// files the MicroK8s addon maps them to (DIFFERENCES_1_12).
import { promises as fs } from 'node:fs';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RuleResult } from '../../src/core/evaluate.js';
import { realFileSystem } from '../../src/effects/file-system.js';
import { assessNode } from '../../src/effects/assess.js';
import { loadProfile } from '../../src/effects/profile-store.js';
import { loadKubeBenchReference, runKubeBench, type Benchmark, type FlagCheckResult } from '../helpers/kube-bench.js';
import { makeNode } from '../helpers/node-root.js';
import { fixtureVersions, repoRoot, type FixtureVersion } from '../helpers/paths.js';

type Verdict = 'pass' | 'fail' | 'n/a' | 'manual';

/**
 * Where harden and kube-bench disagree, and why. Keys are CIS ids; `versions` the fixture versions where the
 * difference shows on stock args. The README's "harden check and kube-bench" list is checked against this.
 */
const ALL = fixtureVersions;
type Differences = Readonly<Record<string, { readonly versions: readonly FixtureVersion[]; readonly why: string }>>;
export const DIFFERENCES: Differences = {
  '1.2.1': { versions: ALL, why: 'kube-bench passes an absent --anonymous-auth; the API server then allows anonymous requests (default true)' },
  '1.3.7': { versions: ALL, why: 'kube-bench passes an absent --bind-address; the controller manager then listens on 0.0.0.0' },
  '1.4.2': { versions: ALL, why: 'kube-bench passes an absent --bind-address; the scheduler then listens on 0.0.0.0' },
  '4.2.4': { versions: ['1.13', '1.18', '1.20', '1.21'], why: 'kube-bench passes an absent --read-only-port; the kubelet (run without a config file) then opens 10255' },
  '4.2.9': { versions: ALL, why: 'kube-bench demands --event-qps=0, which means unlimited (CIS warns of DoS); harden accepts any finite rate, and the default 50' },
  '4.2.11': { versions: ALL, why: 'kube-bench passes an absent --rotate-certificates; the flag defaults to false' },
};

/**
 * The same for cis-1.12 (its numbers). Where harden is stricter, as in cis-1.24-microk8s; where the addon's
 * mapping of `$etcdconf` to args/k8s-dqlite makes kube-bench read a file that is not the datastore's.
 */
const ETCD_ERA = 'kube-bench reads args/k8s-dqlite (the addon maps $etcdconf there), which an etcd node (1.16-1.22) does not have: the audit fails; harden reads args/etcd';
export const DIFFERENCES_1_12: Differences = {
  '1.3.7': { versions: ALL, why: 'kube-bench passes an absent --bind-address; the controller manager then listens on 0.0.0.0' },
  '1.4.2': { versions: ALL, why: 'kube-bench passes an absent --bind-address; the scheduler then listens on 0.0.0.0' },
  '2.1': { versions: ['1.18'], why: ETCD_ERA },
  '2.2': { versions: ['1.18'], why: ETCD_ERA },
  '2.3': { versions: ['1.18'], why: ETCD_ERA },
  '2.5': { versions: ['1.26', '1.28', '1.36'], why: 'kube-bench asks for etcd\'s --peer-client-cert-auth, which k8s-dqlite has no flag for; its peers use TLS with the cluster certificate unless --enable-tls=false, which harden checks, as cis-1.24-microk8s 2.5 does' },
  '2.6': { versions: ['1.18'], why: ETCD_ERA },
  '2.7': { versions: ['1.18'], why: ETCD_ERA },
  '4.2.4': { versions: ['1.13', '1.18', '1.20', '1.21'], why: 'kube-bench passes an absent --read-only-port; the kubelet (run without a config file) then opens 10255' },
  '4.2.10': { versions: ALL, why: 'kube-bench passes an absent --rotate-certificates; the flag defaults to false' },
};

interface Comparison {
  readonly profile: string;
  readonly benchmark: Benchmark;
  readonly differences: Differences;
  /** The README's list of the differences: from this heading to the next heading. */
  readonly heading: string;
}
const COMPARISONS: readonly Comparison[] = [
  { profile: 'cis', benchmark: 'cis-1.24-microk8s', differences: DIFFERENCES, heading: '### harden check and kube-bench' },
  { profile: 'cis-1-12', benchmark: 'cis-1.12', differences: DIFFERENCES_1_12, heading: '#### `cis-1-12` and kube-bench\'s cis-1.12' },
];

const profiles = new Map(await Promise.all(COMPARISONS.map(async (c) => [c.profile, await loadProfile(c.profile)] as const)));

async function bothVerdicts(version: FixtureVersion, edit?: (argsDir: string) => Promise<void>, comparison: Comparison = COMPARISONS[0]!) {
  const root = await makeNode({ version });
  const argsDir = path.join(root, 'var/snap/microk8s/current/args');
  if (edit) await edit(argsDir);
  const { facts, results: ours } = await assessNode(realFileSystem, { root, argsDir: undefined }, profiles.get(comparison.profile)!.rules);
  const files: Record<string, string | null> = {};
  for (const entry of facts.entries) files[entry.name] = entry.content;
  return { ours, theirs: runKubeBench(files, loadKubeBenchReference(comparison.benchmark)) };
}

/** harden's verdict on one CIS id: every rule that carries it. */
function ourVerdict(results: readonly RuleResult[], cis: string): Verdict | null {
  const mine = results.filter((result) => result.cis.includes(cis));
  if (mine.length === 0) return null;
  const applicable = mine.filter((result) => result.status !== 'NOT APPLICABLE');
  if (applicable.length === 0) return 'n/a';
  if (applicable.some((result) => result.status === 'FAIL' || result.status === 'BLOCKED')) return 'fail';
  if (applicable.every((result) => result.status === 'MANUAL')) return 'manual';
  return 'pass';
}

function compare(ours: readonly RuleResult[], theirs: readonly FlagCheckResult[]) {
  const rows = theirs.map((check) => ({ id: check.id, kubeBench: check.passed ? 'pass' : 'fail', harden: ourVerdict(ours, check.id) }));
  return {
    uncovered: rows.filter((row) => row.harden === null).map((row) => row.id),
    differ: rows.filter((row) => row.harden !== null && row.harden !== 'manual' && row.harden !== 'n/a' && row.harden !== row.kubeBench),
  };
}

for (const comparison of COMPARISONS) {
  const { profile, benchmark, differences } = comparison;
  for (const version of fixtureVersions) {
    test(`${profile} / ${benchmark}, ${version}: every kube-bench flag check has a harden rule, and the verdicts agree but for documented differences`, async () => {
      const { ours, theirs } = await bothVerdicts(version, undefined, comparison);
      assert.ok(theirs.length >= 50, `${theirs.length} flag checks`);
      const { uncovered, differ } = compare(ours, theirs);
      assert.equal(uncovered, []);
      const undocumented = differ.filter((row) => !differences[row.id]?.versions.includes(version));
      assert.equal(undocumented.map((row) => `${row.id}: kube-bench ${row.kubeBench}, harden ${row.harden}`), []);
      const stale = Object.entries(differences).filter(([id, d]) => d.versions.includes(version) && !differ.some((row) => row.id === id)).map(([id]) => id);
      assert.equal(stale, [], 'documented differences that no longer show');
    });
  }
}

test('cis-1-12 names cis-1.12 in every reference, inherited rules too, and carries every CIS id it compares', async () => {
  const rules = profiles.get('cis-1-12')!.rules;
  const other = rules.flatMap((rule) => (rule.references ?? []).filter((ref) => 'cis' in ref && ref.benchmark !== 'cis-1.12').map(() => rule.id));
  assert.equal(other, []);
  // its 4.2.6 is --make-iptables-util-chains, and no rule of it is about --protect-kernel-defaults
  const byCis = (id: string) => rules.filter((rule) => (rule.references ?? []).some((ref) => 'cis' in ref && ref.cis === id)).map((rule) => rule.id);
  assert.equal(byCis('4.2.6'), ['kubelet.make-iptables-util-chains']);
  assert.not.ok(rules.some((rule) => rule.flag === '--protect-kernel-defaults'));
  assert.equal(byCis('1.2.3'), ['apiserver.admission.deny-service-external-ips']);
  assert.equal(byCis('4.3.1'), ['kube-proxy.metrics-bind-address']);
});

// What kube-bench's substring matcher gets wrong on files harden reads as their consumers do.
const kubelet = (argsDir: string) => path.join(argsDir, 'kubelet');

test('a commented-out flag: kube-bench reads `# --anonymous-auth=false` as set; the kubelet does not', async () => {
  const { ours, theirs } = await bothVerdicts('1.28', async (argsDir) => {
    const text = await fs.readFile(kubelet(argsDir), 'utf8');
    await fs.writeFile(kubelet(argsDir), text.replace('--anonymous-auth=false', '# --anonymous-auth=false'));
  });
  assert.is(theirs.find((check) => check.id === '4.2.1')!.passed, true);
  assert.is(ourVerdict(ours, '4.2.1'), 'fail');
  assert.is(ours.find((r) => r.id === 'kubelet.anonymous-auth')!.found, 'absent (default true)');
});

test('a duplicate: kube-bench takes the first --read-only-port; the kubelet takes the last', async () => {
  const { ours, theirs } = await bothVerdicts('1.28', async (argsDir) => {
    await fs.appendFile(kubelet(argsDir), '--read-only-port=10255\n');
  });
  assert.is(theirs.find((check) => check.id === '4.2.4')!.passed, true);
  assert.is(ourVerdict(ours, '4.2.4'), 'fail');
});

test('a comment naming a removed flag: kube-bench fails 1.2.2 on it; the API server never sees it', async () => {
  const { ours, theirs } = await bothVerdicts('1.28', async (argsDir) => {
    await fs.appendFile(path.join(argsDir, 'kube-apiserver'), '# --token-auth-file=${SNAP_DATA}/credentials/known_tokens.csv (removed)\n');
  });
  assert.is(theirs.find((check) => check.id === '1.2.2')!.passed, false);
  assert.is(ourVerdict(ours, '1.2.2'), 'pass');
});

test('the README lists every documented difference, for each benchmark in its own table', () => {
  const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  for (const { heading, differences } of COMPARISONS) {
    const start = readme.indexOf(heading);
    assert.ok(start >= 0, `README: ${heading}`);
    const rest = readme.slice(start + heading.length);
    const section = rest.slice(0, rest.search(/\n#{2,4} /));
    const listed = [...section.matchAll(/^\| (\d[\d.]*) \|/gm)].map((m) => m[1]);
    assert.equal(listed, Object.keys(differences), `README under ${heading}`);
  }
});

test.run();
