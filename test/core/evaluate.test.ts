import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { evaluateRules, factQueries, type RuleResult } from '../../src/core/evaluate.js';
import { parseFlagCatalogue } from '../../src/core/flag-catalogue.js';
import { describeNode } from '../../src/core/node.js';
import { snapVars } from '../../src/core/node-env.js';
import type { Rule } from '../../src/core/profile.js';
import { realFileSystem } from '../../src/effects/file-system.js';
import { answerFacts } from '../../src/effects/node-facts.js';
import { readNodeFacts } from '../../src/effects/node-reader.js';
import { makeNode } from '../helpers/node-root.js';
import type { FixtureVersion } from '../helpers/paths.js';

const HEADER = 'component\tflag\tvalue\tadded_in\tdeprecated_in\tremoved_in\tnotes\tsource';
/** A small catalogue: what these tests need and nothing else. */
const catalogue = parseFlagCatalogue(
  [
    HEADER,
    'kubelet\t--event-qps\t\t<=1.13\t-\tstill present\tn\ttest',
    'kubelet\t--tls-cipher-suites\t\t<=1.13\t-\tstill present\tn\ttest',
    'kubelet\t--streaming-connection-idle-timeout\t\t<=1.13\t-\tstill present\tn\ttest',
    'kube-apiserver\t--insecure-port\t\t<=1.13\t1.10\t1.24\tn\ttest',
    'kube-apiserver\t--profiling\t\t<=1.13\t-\tstill present\tn\ttest',
    'kube-apiserver\t--secure-port\t\t<=1.13\t-\tstill present\tn\ttest',
  ].join('\n') + '\n',
);

const base = { title: 't', rationale: 'r', severity: 'low' } as const;

async function modelOf(version: FixtureVersion, edit?: (dataDir: string) => Promise<void>, snapVersion?: string | null) {
  const root = await makeNode({ version, ...(snapVersion === undefined ? {} : { snapVersion }) });
  if (edit) await edit(path.join(root, 'var/snap/microk8s/current'));
  const facts = await readNodeFacts(realFileSystem, { root, argsDir: undefined });
  return { root, facts, model: describeNode(facts) };
}

async function evaluate(version: FixtureVersion, rules: Rule[], edit?: (dataDir: string) => Promise<void>, snapVersion?: string | null): Promise<Record<string, RuleResult>> {
  const { root, facts, model } = await modelOf(version, edit, snapVersion);
  const vars = snapVars(model.report.revision);
  const answers = await answerFacts(realFileSystem, root, facts, factQueries(rules, vars));
  return Object.fromEntries(evaluateRules(model, rules, answers, vars, catalogue).map((r) => [r.id, r]));
}

const setKubelet = (line: string) => async (dataDir: string) => {
  await fs.appendFile(path.join(dataDir, 'args/kubelet'), `${line}\n`);
};

test('accept not-one-of: absent uses the default; the forbidden value fails', async () => {
  const rule: Rule = { ...base, id: 'k.qps', component: 'kubelet', operation: 'set-flag', flag: '--event-qps', value: '50', default: '50', accept: { op: 'not-one-of', values: ['0'] } };
  const absent = await evaluate('1.28', [rule]);
  assert.equal([absent['k.qps'].status, absent['k.qps'].found], ['PASS', 'absent (default 50)']);
  const zero = await evaluate('1.28', [rule], setKubelet('--event-qps=0'));
  assert.is(zero['k.qps'].status, 'FAIL');
  assert.is(zero['k.qps'].reason, '--event-qps must be 50 (or anything but 0), found 0');
  const five = await evaluate('1.28', [rule], setKubelet('--event-qps=5'));
  assert.is(five['k.qps'].status, 'PASS');
});

test('accept subset-of: every item must be allowed; accept any: any non-empty value', async () => {
  const ciphers: Rule = { ...base, id: 'k.ciphers', component: 'kubelet', operation: 'set-flag', flag: '--tls-cipher-suites', value: 'A,B', accept: { op: 'subset-of', values: ['A', 'B', 'C'] } };
  const idle: Rule = { ...base, id: 'k.idle', component: 'kubelet', operation: 'set-flag', flag: '--streaming-connection-idle-timeout', value: '4h0m0s', accept: { op: 'any' } };
  // 1.21's kubelet sets no cipher list (a repeated list flag would add to it, not replace it).
  const ok = await evaluate('1.21', [ciphers, idle], async (d) => {
    await setKubelet('--tls-cipher-suites=C,A')(d);
    await setKubelet('--streaming-connection-idle-timeout=5m')(d);
  });
  assert.equal([ok['k.ciphers'].status, ok['k.idle'].status], ['PASS', 'PASS']);
  const bad = await evaluate('1.21', [ciphers, idle], async (d) => {
    await setKubelet('--tls-cipher-suites=C,D')(d);
    await setKubelet('--streaming-connection-idle-timeout=')(d);
  });
  assert.equal([bad['k.ciphers'].status, bad['k.idle'].status], ['FAIL', 'FAIL']);
  assert.is(bad['k.ciphers'].reason, '--tls-cipher-suites must be A,B (or only items of the allowed list), found C,D');
});

test('file-mode with match checks the directory and each matching entry, naming the offenders', async () => {
  const keys: Rule = { ...base, id: 'f.keys', component: 'kube-apiserver', operation: 'file-mode', path: '${SNAP_DATA}/certs', match: '*.key', mode: '0600' };
  const owner: Rule = { ...base, id: 'f.owner', component: 'kube-apiserver', operation: 'file-mode', path: '${SNAP_DATA}/certs', match: '*', owner: 'root:root' };
  const results = await evaluate('1.28', [keys, owner], async (dataDir) => {
    for (const name of await fs.readdir(path.join(dataDir, 'certs'))) await fs.chmod(path.join(dataDir, 'certs', name), 0o600);
    await fs.chmod(path.join(dataDir, 'certs/ca.key'), 0o640);
  });
  assert.is(results['f.keys'].status, 'FAIL');
  assert.is(results['f.keys'].found, '1 of 10 out of policy');
  assert.is(results['f.keys'].reason, '/var/snap/microk8s/6089/certs/ca.key: mode 0640 is more open than 0600');
  // The directory itself matches `*`, as `find certs/` lists it. Its 20 files are root:microk8s, as MicroK8s leaves
  // them (or the test's own user); the directory is root:root only when the test runs as root.
  const asRoot = process.getuid?.() === 0;
  assert.equal([results['f.owner'].status, results['f.owner'].found], ['FAIL', `${asRoot ? 20 : 21} of 21 out of policy`]);
  assert.match(results['f.owner'].reason, asRoot ? /^\/var\/snap\/microk8s\/6089\/certs\/apiserver-kubelet-client\.crt: owner root:microk8s is not root:root; .*; and 17 more$/ : /^\/var\/snap\/microk8s\/6089\/certs: owner \S+ is not root:root; .*; and 18 more$/);
});

test('file-mode on a path the node does not have is not applicable; a companion file that is missing fails', async () => {
  const mode: Rule = { ...base, id: 'f.cni', component: 'kubelet', operation: 'file-mode', path: '${SNAP_DATA}/args/cni-network/none.conflist', mode: '0600' };
  const companion: Rule = { ...base, id: 'f.lock', component: 'kubelet', operation: 'companion-file', path: '${SNAP_DATA}/var/lock/cis-hardening', template: 'templates/cis-hardening.lock', mode: '0600' };
  const results = await evaluate('1.28', [mode, companion]);
  assert.equal([results['f.cni'].status, results['f.cni'].reason], ['NOT APPLICABLE', '/var/snap/microk8s/6089/args/cni-network/none.conflist does not exist on this node']);
  assert.equal([results['f.lock'].status, results['f.lock'].found], ['FAIL', 'absent']);
});

test('the flag catalogue gates fixes: a flag the version no longer has does not apply; one it cannot vouch for is blocked', async () => {
  const insecure: Rule = { ...base, id: 'a.insecure', component: 'kube-apiserver', operation: 'set-flag', flag: '--insecure-port', value: '0', default: '8080' };
  const unlisted: Rule = { ...base, id: 'a.unlisted', component: 'kube-apiserver', operation: 'set-flag', flag: '--made-up-flag', value: 'true' };
  const profiling: Rule = { ...base, id: 'a.profiling', component: 'kube-apiserver', operation: 'set-flag', flag: '--profiling', value: 'false', default: 'true' };
  const at128 = await evaluate('1.28', [insecure, unlisted, profiling]);
  assert.is(at128['a.insecure'].status, 'NOT APPLICABLE');
  assert.match(at128['a.insecure'].reason, /removed/i);
  assert.is(at128['a.unlisted'].status, 'BLOCKED');
  assert.match(at128['a.unlisted'].reason, /^--made-up-flag must be true; blocked: harden will not write --made-up-flag=true: /);
  assert.is(at128['a.profiling'].status, 'PASS');
  // Where the version has the flag, the rule is checked as usual.
  const at118 = await evaluate('1.18', [insecure]);
  assert.is(at118['a.insecure'].status, 'PASS');
});

test('with the version unknown, a failing rule is blocked: harden cannot tell whether the flag exists', async () => {
  const secure: Rule = { ...base, id: 'a.port', component: 'kube-apiserver', operation: 'set-flag', flag: '--secure-port', value: '16443', accept: { op: 'not-one-of', values: ['0'] } };
  const results = await evaluate('1.28', [secure], async (dataDir) => {
    await fs.appendFile(path.join(dataDir, 'args/kube-apiserver'), '--secure-port=0\n');
  }, null);
  assert.is(results['a.port'].status, 'BLOCKED');
  assert.match(results['a.port'].reason, /the MicroK8s version is unknown, so harden cannot tell whether kube-apiserver knows --secure-port=16443$/);
});

test.run();
