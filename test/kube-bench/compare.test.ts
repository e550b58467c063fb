// harden check --profile cis against an emulation of kube-bench's own matcher (test/helpers/kube-bench.ts), on
// every fixture version: for every flag check of cis-1.24-microk8s, the same verdict, or a difference listed in
// DIFFERENCES below (and in the README), where kube-bench is loose or harden deliberately departs from it.
import { promises as fs } from 'node:fs';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RuleResult } from '../../src/core/evaluate.js';
import { realFileSystem } from '../../src/effects/file-system.js';
import { assessNode } from '../../src/effects/assess.js';
import { loadProfile } from '../../src/effects/profile-store.js';
import { runKubeBench, type FlagCheckResult } from '../helpers/kube-bench.js';
import { makeNode } from '../helpers/node-root.js';
import { fixtureVersions, repoRoot, type FixtureVersion } from '../helpers/paths.js';

type Verdict = 'pass' | 'fail' | 'n/a' | 'manual';

/**
 * Where harden and kube-bench disagree, and why. Keys are CIS ids; `versions` the fixture versions where the
 * difference shows on stock args. The README's "harden check and kube-bench" list is checked against this.
 */
const ALL = fixtureVersions;
export const DIFFERENCES: Readonly<Record<string, { readonly versions: readonly FixtureVersion[]; readonly why: string }>> = {
  '1.2.1': { versions: ALL, why: 'kube-bench passes an absent --anonymous-auth; the API server then allows anonymous requests (default true)' },
  '1.3.7': { versions: ALL, why: 'kube-bench passes an absent --bind-address; the controller manager then listens on 0.0.0.0' },
  '1.4.2': { versions: ALL, why: 'kube-bench passes an absent --bind-address; the scheduler then listens on 0.0.0.0' },
  '4.2.4': { versions: ['1.13', '1.18', '1.20', '1.21'], why: 'kube-bench passes an absent --read-only-port; the kubelet (run without a config file) then opens 10255' },
  '4.2.9': { versions: ALL, why: 'kube-bench demands --event-qps=0, which means unlimited (CIS warns of DoS); harden accepts any finite rate, and the default 50' },
  '4.2.11': { versions: ALL, why: 'kube-bench passes an absent --rotate-certificates; the flag defaults to false' },
};

const profile = await loadProfile('cis');

async function bothVerdicts(version: FixtureVersion, edit?: (argsDir: string) => Promise<void>) {
  const root = await makeNode({ version });
  const argsDir = path.join(root, 'var/snap/microk8s/current/args');
  if (edit) await edit(argsDir);
  const { facts, results: ours } = await assessNode(realFileSystem, { root, argsDir: undefined }, profile.rules);
  const files: Record<string, string | null> = {};
  for (const entry of facts.entries) files[entry.name] = entry.content;
  return { ours, theirs: runKubeBench(files) };
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

for (const version of fixtureVersions) {
  test(`${version}: every kube-bench flag check has a harden rule, and the verdicts agree but for documented differences`, async () => {
    const { ours, theirs } = await bothVerdicts(version);
    assert.ok(theirs.length >= 50, `${theirs.length} flag checks`);
    const { uncovered, differ } = compare(ours, theirs);
    assert.equal(uncovered, []);
    const undocumented = differ.filter((row) => !DIFFERENCES[row.id]?.versions.includes(version));
    assert.equal(undocumented.map((row) => `${row.id}: kube-bench ${row.kubeBench}, harden ${row.harden}`), []);
    const stale = Object.entries(DIFFERENCES).filter(([id, d]) => d.versions.includes(version) && !differ.some((row) => row.id === id)).map(([id]) => id);
    assert.equal(stale, [], 'documented differences that no longer show');
  });
}

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

test('the README lists every documented difference', () => {
  const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### harden check and kube-bench'));
  for (const id of Object.keys(DIFFERENCES)) assert.ok(section.includes(`| ${id} |`), `README: ${id}`);
});

test.run();
