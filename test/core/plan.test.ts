import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildPlan, planDifference, type Plan } from '../../src/core/plan.js';
import type { Rule } from '../../src/core/profile.js';
import { realFileSystem } from '../../src/effects/file-system.js';
import { assessNode } from '../../src/effects/assess.js';
import { readTemplates } from '../../src/effects/plan-store.js';
import { loadProfile } from '../../src/effects/profile-store.js';
import { makeNode, type NodeRootOptions } from '../helpers/node-root.js';

const base = { title: 't', rationale: 'r', severity: 'low' } as const;

async function planFor(options: NodeRootOptions, rules: readonly Rule[], edit?: (dataDir: string) => Promise<void>): Promise<Plan> {
  const root = await makeNode(options);
  if (edit) await edit(path.join(root, 'var/snap/microk8s/current'));
  const { facts, model, vars, answers, results } = await assessNode(realFileSystem, { root, argsDir: undefined }, rules);
  return buildPlan({ model, rules, results, facts: answers, vars, profile: { name: 't', source: 'file', file: '/t.yaml', sha256: `sha256:${'0'.repeat(64)}` }, templates: { 'templates/x': 'x\n' }, locks: facts.locks });
}

test('include and exclude rules on one list flag give one final value, keeping the items there are', async () => {
  const rules: Rule[] = [
    { ...base, id: 'a.plugins', component: 'kube-apiserver', operation: 'include-items', flag: '--enable-admission-plugins', items: ['NodeRestriction', 'EventRateLimit'] },
    { ...base, id: 'a.no-admit', component: 'kube-apiserver', operation: 'exclude-items', flag: '--enable-admission-plugins', items: ['AlwaysAdmit'] },
  ];
  const plan = await planFor({ version: '1.28' }, rules, async (dataDir) => {
    await fs.appendFile(path.join(dataDir, 'args/kube-apiserver'), '--enable-admission-plugins=AlwaysAdmit\n');
  });
  // 1.28 already has --enable-admission-plugins=EventRateLimit (line 33); the list flag accumulates both lines.
  const edits = plan.files[0].edits.map((e) => [e.action, e.before, e.after, e.ruleIds.join(' ')]);
  assert.equal(edits, [
    ['remove', '--enable-admission-plugins=EventRateLimit', null, 'a.plugins a.no-admit'],
    ['change', '--enable-admission-plugins=AlwaysAdmit', '--enable-admission-plugins=EventRateLimit,NodeRestriction', 'a.plugins a.no-admit'],
  ]);
  assert.equal(plan.problems, []);
});

test('two rules that want different values of one flag make a problem, not a guess', async () => {
  const rules: Rule[] = [
    { ...base, id: 'a.one', component: 'kube-apiserver', operation: 'set-flag', flag: '--profiling', value: 'false', default: 'true' },
    { ...base, id: 'a.two', component: 'kube-apiserver', operation: 'remove-flag', flag: '--profiling' },
  ];
  const plan = await planFor({ version: '1.21' }, rules, async (dataDir) => {
    await fs.appendFile(path.join(dataDir, 'args/kube-apiserver'), '--profiling=true\n');
  });
  assert.equal(plan.files, []);
  assert.equal(plan.problems, [{ ruleId: 'a.one,a.two', text: 'they ask for different values of --profiling; keep one of them' }]);
});

test('mode changes only close bits, combine rules on one path, and skip what is already right', async () => {
  const rules: Rule[] = [
    { ...base, id: 'f.mode', component: 'kube-apiserver', operation: 'file-mode', path: '${SNAP_DATA}/args/kube-apiserver', mode: '0644' },
    { ...base, id: 'f.owner', component: 'kube-apiserver', operation: 'file-mode', path: '${SNAP_DATA}/args/kube-apiserver', owner: 'root:root' },
  ];
  const plan = await planFor({ version: '1.28' }, rules, async (dataDir) => {
    await fs.chmod(path.join(dataDir, 'args/kube-apiserver'), 0o620);
  });
  assert.is(plan.modes.length, 1);
  const [change] = plan.modes;
  assert.equal([change.path, change.mode, change.ruleIds], ['/var/snap/microk8s/6089/args/kube-apiserver', { from: '0620', to: '0600' }, ['f.mode', 'f.owner']]);
  assert.equal(plan.restarts, []);
  assert.ok(plan.warnings.some((w) => w.includes('unless var/lock/cis-hardening exists')));
});

test('daemons era: one restart per component daemon, datastore first; kubelite era: kubelite once', async () => {
  const profile = await loadProfile('baseline');
  const old = await planFor({ version: '1.13' }, profile.rules);
  assert.equal(old.restarts, ['snap.microk8s.daemon-apiserver', 'snap.microk8s.daemon-controller-manager', 'snap.microk8s.daemon-kubelet', 'snap.microk8s.daemon-proxy', 'snap.microk8s.daemon-scheduler']);
  const lite = await planFor({ version: '1.21' }, profile.rules);
  assert.equal(lite.restarts, ['snap.microk8s.daemon-kubelite']);
  const etcd: Rule = { ...base, id: 'e.auth', component: 'etcd', operation: 'set-flag', flag: '--auto-tls', value: 'false', default: 'false' };
  const both = await planFor({ version: '1.18' }, [...profile.rules, etcd], async (dataDir) => {
    await fs.appendFile(path.join(dataDir, 'args/etcd'), '--auto-tls=true\n');
  });
  assert.is(both.restarts[0], 'snap.microk8s.daemon-etcd');
});

test('a node with peers is told that control-plane flags must match on every control-plane node', async () => {
  const plan = await planFor({ version: '1.28', callbackPeers: ['10.0.0.2:25000'] }, (await loadProfile('baseline')).rules);
  assert.ok(plan.warnings[0].startsWith('this node has peers (10.0.0.2:25000): control-plane flags such as --authorization-mode must be the same'));
});

test('dqlite members in cluster.yaml count as peers too; a lone node gets no such warning', async () => {
  const clustered = await planFor({ version: '1.28', members: ['10.0.0.1:19001', '10.0.0.2:19001'] }, (await loadProfile('baseline')).rules);
  assert.match(clustered.warnings[0], /^this node has peers \(10\.0\.0\.2:19001\): control-plane flags/);
  const alone = await planFor({ version: '1.28' }, (await loadProfile('baseline')).rules);
  assert.not.ok(alone.warnings.some((w) => w.includes('peers')));
});

test('a compliant node plans nothing and says so', async () => {
  const rules: Rule[] = [{ ...base, id: 'k.ro', component: 'kubelet', operation: 'set-flag', flag: '--read-only-port', value: '0', default: '10255' }];
  const plan = await planFor({ version: '1.28' }, rules);
  assert.equal([plan.files, plan.summary], [[], { add: 0, change: 0, remove: 0, files: 0, compliantAfter: true, compliantNow: true }]);
});

test('planDifference names the first thing a saved plan would change otherwise than its profile', async () => {
  const rules = (await loadProfile('cis')).rules;
  const root = await makeNode({ version: '1.28' });
  const { facts, model, vars, answers, results } = await assessNode(realFileSystem, { root, argsDir: undefined }, rules);
  const plan = buildPlan({ model, rules, results, facts: answers, vars, profile: { name: 'cis', source: 'shipped', file: null, sha256: `sha256:${'0'.repeat(64)}` }, templates: readTemplates(rules), locks: facts.locks });
  assert.ok(plan.files.length > 0 && plan.companions.length > 0 && plan.modes.length > 0);
  assert.is(planDifference(plan, plan), null);
  const [file] = plan.files;
  const [companion] = plan.companions;
  const [mode] = plan.modes;
  const variants: [Plan, string][] = [
    [{ ...plan, files: [{ ...file, after: `${file.after}--v=9\n` }, ...plan.files.slice(1)] }, `its args file ${file.path} differs from what the profile writes`],
    [{ ...plan, files: [...plan.files, { ...file, path: '/var/snap/microk8s/current/args/extra' }] }, 'it changes the args file /var/snap/microk8s/current/args/extra, which the profile does not'],
    [{ ...plan, files: plan.files.slice(1) }, `it leaves out the args file ${file.path}, which the profile changes`],
    [{ ...plan, companions: [{ ...companion, mode: '0666' }, ...plan.companions.slice(1)] }, `its companion file ${companion.path} differs from what the profile writes`],
    [{ ...plan, modes: [{ ...mode, mode: { from: mode.mode?.from ?? '0660', to: '0777' } }, ...plan.modes.slice(1)] }, `its mode change of ${mode.path} differs from what the profile writes`],
    [{ ...plan, restarts: [] }, `it restarts nothing, the profile ${plan.restarts.join(', ')}`],
  ];
  for (const [saved, expected] of variants) assert.is(planDifference(saved, plan), expected);
});

test.run();
