// The Ansible collection (ansible/) driven by the real ansible-playbook over a real sshd on loopback
// (test/helpers/sshd.ts): two control-plane nodes and three workers, each a live node root on this machine with
// its own snap/systemctl stand-ins and loopback health servers (test/helpers/live-node.ts), reached as separate
// inventory hosts. The cluster gate is a stand-in that logs each call in order and can be made to fail.
//
// One rollout story, in order: check mode writes nothing and previews each worker with what the control planes
// plan (facts gathered, piped to harden); the rollout changes the nodes control planes first,
// one at a time, then the workers in batches, each snapshot carrying the rollout id; a second run changes
// nothing; the rollback playbook restores exactly that rollout (workers first) and leaves alone the worker the
// rollout did not change; a control plane whose health gate fails puts itself back and stops the rollout with
// the workers untouched; the join playbook hardens a node whose args/kubelet a join overwrote (with the cluster
// facts); the executable is copied only with its sha256 (checked on the controller first), and check mode runs
// a temporary copy; cluster facts that cannot be built, or a run limited to workers alone, stop the rollout
// before the workers. Between the two
// phases the rollout gathers the cluster facts again: a worker's kubelet anonymous auth and Webhook
// authorization, BLOCKED when the worker is planned alone, are applied once the control planes pass the API
// server rules they need.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BIN, spawnCollecting, type Run } from '../helpers/cli.js';
import { currentExecutable } from '../helpers/executable.js';
import { makeLiveNode, readTree, snapshotManifests, treeDiff, type LiveNode, type TreeEntry } from '../helpers/live-node.js';
import { makeTempDir } from '../helpers/node-root.js';
import { repoRoot } from '../helpers/paths.js';
import { readLog } from '../helpers/stand-ins.js';
import { inventoryText, startSshd, type InventoryHost, type Sshd } from '../helpers/sshd.js';

const COLLECTION = path.join(repoRoot, 'ansible');
const CONTROL_PLANES = ['cp1', 'cp2'] as const;
const WORKERS = ['w1', 'w2', 'w3'] as const;
type Name = (typeof CONTROL_PLANES)[number] | (typeof WORKERS)[number] | 'j1';
const KUBELITE = 'snap.microk8s.daemon-kubelite';

let sshd: Sshd;
let dir: string;
let gateLog: string;
let gateFails: string;
const nodes = new Map<Name, LiveNode>();
const node = (name: Name) => nodes.get(name)!;

test.before(async () => {
  sshd = await startSshd();
  dir = await makeTempDir('harden-ansible-');
  gateLog = path.join(dir, 'gate.log');
  gateFails = path.join(dir, 'gate-fails');
  await fs.writeFile(
    path.join(dir, 'gate'),
    `#!/bin/sh\nprintf '%s\\n' "$1" >> '${gateLog}'\n[ ! -e '${gateFails}' ]\n`,
    { mode: 0o755 },
  );
  for (const name of CONTROL_PLANES) nodes.set(name, await makeLiveNode({ version: '1.28' }));
  for (const name of WORKERS) nodes.set(name, await makeLiveNode({ version: '1.28', worker: true }));
});

test.after(async () => {
  for (const n of nodes.values()) await n.close();
  await sshd?.stop();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

function host(name: Name): InventoryHost {
  const n = node(name);
  return { name, vars: { harden_root: n.root, harden_path: n.env.PATH } };
}

async function inventory(groups: Record<string, readonly Name[]>): Promise<string> {
  const file = path.join(dir, 'inventory.ini');
  const text = inventoryText(
    sshd,
    Object.fromEntries(Object.entries(groups).map(([group, names]) => [group, names.map(host)])),
    {
      harden_bin: `${process.execPath} ${BIN}`,
      harden_profile: 'cis',
      harden_health_timeout: '10',
      harden_health_window: '0',
      harden_cluster_gate: `${path.join(dir, 'gate')} {{ inventory_hostname }}`,
      // The rollout keeps the cluster facts it built here, on the controller (nothing is copied to a node).
      harden_cluster_keep: path.join(dir, 'cluster.json'),
    },
  );
  await fs.writeFile(file, text);
  return file;
}

/** Runs a playbook of the collection; workers go in batches of 2 (serial takes extra vars, not inventory vars). */
function playbook(file: string, inventoryFile: string, ...args: string[]): Promise<Run> {
  return spawnCollecting('ansible-playbook', ['-i', inventoryFile, path.join(COLLECTION, 'playbooks', file), '-e', 'harden_worker_batch=2', ...args], {
    ANSIBLE_CONFIG: path.join(COLLECTION, 'ansible.cfg'),
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_LOCAL_TEMP: path.join(dir, 'ansible-local'),
    ANSIBLE_SSH_CONTROL_PATH_DIR: path.join(dir, 'cp'),
  });
}

/** The PLAY RECAP's counts per host: `{ cp1: { ok: 9, changed: 1, failed: 0, … } }`. */
function recap(run: Run): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  const at = run.stdout.indexOf('PLAY RECAP');
  for (const line of run.stdout.slice(at).split('\n').slice(1)) {
    const match = /^(\S+)\s+:\s+(.*)$/.exec(line.trim());
    if (!match) continue;
    out[match[1]] = Object.fromEntries([...match[2].matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1], Number(m[2])]));
  }
  return out;
}

const changedOf = (run: Run) => Object.fromEntries(Object.entries(recap(run)).map(([name, counts]) => [name, counts.changed]));
const restarts = async (name: Name) => (await readLog(node(name).standIns)).filter((line) => line.startsWith('snap restart')).length;
const trees = async (names: readonly Name[], exclude?: string[]) => new Map(await Promise.all(names.map(async (name) => [name, await readTree(node(name).root, exclude)] as const)));
function sameTrees(before: Map<Name, Map<string, TreeEntry>>, after: Map<Name, Map<string, TreeEntry>>): void {
  for (const [name, tree] of before) assert.equal(treeDiff(tree, after.get(name)!), [], `${name} changed`);
}

const ALL: readonly Name[] = [...CONTROL_PLANES, ...WORKERS];
let original: Map<Name, Map<string, TreeEntry>>;
let w3Hardened: Map<string, TreeEntry>;
let inventoryFile: string;

test('check mode with --diff: every planned node shows its plan as a diff, and nothing is written anywhere', async () => {
  // w1's kubelet still accepts anonymous requests; w1 and w2 authorize everything (no --authorization-mode).
  const kubelet = node('w1').args('kubelet');
  await fs.writeFile(kubelet, (await fs.readFile(kubelet, 'utf8')).replace(/^--anonymous-auth=false$/m, '--anonymous-auth=true'));
  // w3 was hardened before this rollout (harden apply by hand, Webhook authorization set by hand too, since
  // harden alone cannot decide it on a worker): the rollout has nothing to change there.
  const w3 = node('w3');
  await fs.appendFile(w3.args('kubelet'), '--authorization-mode=Webhook\n');
  // Spawned without blocking: this process's servers answer the node's health gates.
  const by = await spawnCollecting(process.execPath, [BIN, 'apply', '--root', w3.root, '--yes', '--profile', 'cis', '--health-window', '0'], w3.env);
  assert.is(by.status, 0, by.stderr);
  w3Hardened = await readTree(w3.root, []);
  original = await trees(ALL);
  const everything = await trees(ALL, []);
  inventoryFile = await inventory({ control_plane: CONTROL_PLANES, workers: WORKERS });

  // Planned alone, a worker cannot see the control planes: its kubelet rules that need them are BLOCKED.
  const alone = await spawnCollecting(process.execPath, [BIN, 'check', '--json', '--root', node('w1').root, '--profile', 'cis'], node('w1').env);
  const statusOf = (id: string) => (JSON.parse(alone.stdout).results as { id: string; status: string }[]).find((r) => r.id === id)!.status;
  assert.equal([statusOf('kubelet.anonymous-auth'), statusOf('kubelet.authorization-mode')], ['BLOCKED', 'BLOCKED'], alone.stdout);

  const run = await playbook('harden.yml', inventoryFile, '--check', '--diff');
  assert.is(run.status, 0, run.stdout + run.stderr);
  sameTrees(everything, await trees(ALL, []));
  for (const name of ['cp1', 'cp2', 'w1', 'w2'] as const) {
    assert.is(await restarts(name), 0);
    assert.is(existsSync(node(name).stateDir), false, `${name} has a state dir`);
  }
  // Ansible's own diff of each planned file against the node's: the CIS kubelet line on a worker, the API
  // server's anonymous auth on a control plane.
  assert.match(run.stdout, `--- before: ${node('w1').root}/var/snap/microk8s/current/args/kubelet`);
  assert.match(run.stdout, '+--rotate-certificates=true');
  assert.match(run.stdout, `--- before: ${node('cp2').root}/var/snap/microk8s/current/args/kube-apiserver`);
  assert.match(run.stdout, '+--anonymous-auth=false');
  const changed = changedOf(run);
  for (const name of ['cp1', 'cp2', 'w1', 'w2']) assert.ok(changed[name] > 0, `${name} shows changes: ${JSON.stringify(changed)}`);
  assert.is(changed.w3, 0);
  // Check mode gathers the cluster facts too (harden facts only reads): the control planes have not changed, so
  // each worker's plan counts what their own plans fix, and says so. w1's Webhook authorization, BLOCKED alone,
  // is in its preview.
  const facts = JSON.parse(await fs.readFile(path.join(dir, 'cluster.json'), 'utf8'));
  assert.equal(facts.nodes.map((n: { name: string; role: string }) => `${n.name} ${n.role}`), ['cp1 control-plane', 'cp2 control-plane', 'w1 worker', 'w2 worker', 'w3 worker']);
  const w1Diff = run.stdout.slice(run.stdout.indexOf(`--- before: ${node('w1').root}/var/snap/microk8s/current/args/kubelet`));
  assert.match(w1Diff.slice(0, w1Diff.indexOf('changed: [')), /^\+--authorization-mode=Webhook$/m);
  assert.match(
    run.stdout,
    '"msg": "kubelet.authorization-mode: --authorization-mode must be Webhook (or anything but AlwaysAllow), found AlwaysAllow; needs apiserver.authorization-mode.node-rbac planned on cp1, cp2, not yet applied"',
  );
  await fs.rm(path.join(dir, 'cluster.json'));
});

test('apply: control planes one at a time, then workers in batches, behind the gate; every snapshot records the rollout; the summary names them', async () => {
  await fs.rm(gateLog, { force: true });
  const run = await playbook('harden.yml', inventoryFile, '-e', 'harden_rollout=rollout-1');
  assert.is(run.status, 0, run.stdout + run.stderr);
  assert.equal(changedOf(run), { cp1: 1, cp2: 1, localhost: 0, w1: 1, w2: 1, w3: 0 });

  const snapshots = new Map<Name, { id: string; createdAt: string; verifiedAt: string }>();
  for (const name of ['cp1', 'cp2', 'w1', 'w2'] as const) {
    const manifests = await snapshotManifests(node(name).stateDir);
    assert.is(manifests.length, 1, name);
    const [m] = manifests;
    assert.is(m.rollout, 'rollout-1');
    assert.is(m.status, 'verified');
    snapshots.set(name, { id: m.id, createdAt: m.createdAt, verifiedAt: m.history.find((h) => h.status === 'verified')!.at });
    assert.is(await restarts(name), 1, `${name}: ${KUBELITE} restarted once`);
  }
  // The order of changes: each control plane verified before the next one's snapshot, both before any worker's.
  const s = (name: Name) => snapshots.get(name)!;
  assert.ok(s('cp1').verifiedAt <= s('cp2').createdAt, JSON.stringify([...snapshots]));
  for (const worker of ['w1', 'w2'] as const) assert.ok(s('cp2').verifiedAt <= s(worker).createdAt, JSON.stringify([...snapshots]));
  // The workers planned with the cluster facts gathered after the control planes: w1's kubelet no longer takes
  // anonymous requests, and both ask the API server (Webhook), which the control planes now authorize with RBAC.
  const w1Kubelet = await fs.readFile(node('w1').args('kubelet'), 'utf8');
  assert.match(w1Kubelet, /^--anonymous-auth=false$/m);
  assert.not.match(w1Kubelet, /^--anonymous-auth=true$/m);
  for (const worker of ['w1', 'w2'] as const) assert.match(await fs.readFile(node(worker).args('kubelet'), 'utf8'), /^--authorization-mode=Webhook$/m, worker);
  const facts = JSON.parse(await fs.readFile(path.join(dir, 'cluster.json'), 'utf8'));
  assert.is(facts.schema, 'harden.cluster/v1');
  assert.equal(facts.nodes.map((n: { name: string; role: string }) => `${n.name} ${n.role}`), ['cp1 control-plane', 'cp2 control-plane', 'w1 worker', 'w2 worker', 'w3 worker']);
  for (const n of facts.nodes) assert.ok(s('cp2').verifiedAt <= n.gatheredAt, `${n.name} gathered ${n.gatheredAt}, cp2 verified ${s('cp2').verifiedAt}`);
  // w3 (already hardened) kept its one snapshot, taken without a rollout.
  const w3 = await snapshotManifests(node('w3').stateDir);
  assert.equal(w3.map((m) => m.rollout), [undefined]);

  // The gate before each node and once after each batch (serial 1, 1, then workers 2 and 1).
  const gates = (await fs.readFile(gateLog, 'utf8')).trim().split('\n');
  assert.equal(gates.slice(0, 4), ['cp1', 'cp1', 'cp2', 'cp2']);
  assert.equal(gates.slice(4, 6).sort(), ['w1', 'w2']);
  assert.equal(gates.slice(6), ['w1', 'w3', 'w3']);

  const summary = `rollout rollout-1: 4 changed: cp1 (snapshot ${s('cp1').id}), cp2 (snapshot ${s('cp2').id}), w1 (snapshot ${s('w1').id}), w2 (snapshot ${s('w2').id}); undo with: ansible-playbook playbooks/rollback.yml -e harden_rollout=rollout-1`;
  assert.match(run.stdout, `"msg": "${summary}"`);
});

test('a second run changes nothing on any node', async () => {
  const before = await trees(ALL, []);
  const run = await playbook('harden.yml', inventoryFile, '-e', 'harden_rollout=rollout-again');
  assert.is(run.status, 0, run.stdout + run.stderr);
  assert.equal(changedOf(run), { cp1: 0, cp2: 0, localhost: 0, w1: 0, w2: 0, w3: 0 });
  assert.match(run.stdout, '"msg": "rollout rollout-again: 0 changed; undo with');
  sameTrees(before, await trees(ALL, []));
});

test('rollback: undoes exactly that rollout, workers first, byte for byte; leaves the node it did not change alone', async () => {
  const run = await playbook('rollback.yml', inventoryFile, '-e', 'harden_rollout=rollout-1');
  assert.is(run.status, 0, run.stdout + run.stderr);
  assert.equal(changedOf(run), { cp1: 1, cp2: 1, w1: 1, w2: 1, w3: 0 });
  sameTrees(new Map([...original].filter(([name]) => name !== 'w3')), await trees(['cp1', 'cp2', 'w1', 'w2']));
  assert.equal(treeDiff(w3Hardened, await readTree(node('w3').root, [])), []);
  // Each rollback takes a snapshot of its own (kind rollback): their order is the rollback's order.
  const rollbackAt = new Map<Name, string>();
  for (const name of ['cp1', 'cp2', 'w1', 'w2'] as const) {
    const manifests = await snapshotManifests(node(name).stateDir);
    assert.equal(manifests.map((m) => [m.kind, m.status]), [['apply', 'rolled-back'], ['rollback', 'verified']], name);
    rollbackAt.set(name, manifests[1].createdAt);
  }
  const order = [...rollbackAt].sort((a, b) => a[1].localeCompare(b[1])).map(([name]) => name);
  assert.equal(order, ['w2', 'w1', 'cp2', 'cp1']);
});

test('a control plane whose health gate fails puts itself back and stops the rollout: the workers are untouched', async () => {
  await node('cp2').rejectFlag('--anonymous-auth=false');
  try {
    const before = await trees(ALL, []);
    const cp2Files = await readTree(node('cp2').root);
    const manifestsBefore = new Map(await Promise.all(ALL.map(async (name) => [name, (await snapshotManifests(node(name).stateDir)).length] as const)));
    const run = await playbook('harden.yml', inventoryFile, '-e', 'harden_rollout=rollout-2');
    assert.is(run.status, 2, run.stdout + run.stderr);
    const counts = recap(run);
    assert.is(counts.cp1.changed, 1);
    assert.is(counts.cp2.failed, 1);
    assert.is(counts.w1, undefined, 'no worker was reached');
    // cp1 stays applied, with its snapshot of this rollout.
    const cp1 = await snapshotManifests(node('cp1').stateDir);
    assert.equal([cp1.at(-1)!.rollout, cp1.at(-1)!.status], ['rollout-2', 'verified']);
    // The summary, from the failing node: where the rollout stopped, and what it changed before.
    assert.match(
      run.stdout,
      `"msg": "rollout rollout-2: stopped at cp2 (harden apply exit 3); 1 changed: cp1 (snapshot ${cp1.at(-1)!.id}); undo with: ansible-playbook playbooks/rollback.yml -e harden_rollout=rollout-2"`,
    );
    // cp2 put itself back: its files as before, its snapshot put-back.
    const cp2 = await snapshotManifests(node('cp2').stateDir);
    assert.equal([cp2.at(-1)!.rollout, cp2.at(-1)!.status], ['rollout-2', 'put-back']);
    assert.match(run.stdout, `Putting the node back from snapshot ${cp2.at(-1)!.id}`);
    assert.match(run.stdout, '"rc": 3');
    assert.equal(treeDiff(cp2Files, await readTree(node('cp2').root)), []);
    // Later nodes: not a byte, not a snapshot, not a restart.
    sameTrees(new Map([...before].filter(([name]) => (WORKERS as readonly string[]).includes(name))), await trees(WORKERS, []));
    for (const name of WORKERS) assert.is((await snapshotManifests(node(name).stateDir)).length, manifestsBefore.get(name));
  } finally {
    await node('cp2').rejectFlag(null);
  }
});

test('join: a worker whose args/kubelet a join overwrote is hardened by the join playbook, and a second run changes nothing', async () => {
  const j1 = await makeLiveNode({ version: '1.28', worker: true });
  nodes.set('j1', j1);
  // microk8s join writes the control plane's kubelet args over the new node's (its own health port kept here,
  // so that its kubelet still answers on loopback).
  const kubelet = (await fs.readFile(node('cp2').args('kubelet'), 'utf8')).replace(/^--healthz-port=\d+$/m, `--healthz-port=${j1.ports.kubelet}`);
  await fs.writeFile(j1.args('kubelet'), kubelet);
  const file = await inventory({ control_plane: CONTROL_PLANES, workers: ['w1', 'w2', 'w3'], joining: ['j1'] });
  const run = await playbook('join.yml', file, '-e', 'harden_join_rollout=join-1');
  assert.is(run.status, 0, run.stdout + run.stderr);
  assert.equal(changedOf(run), { cp1: 0, cp2: 0, j1: 1 });
  const manifests = await snapshotManifests(j1.stateDir);
  assert.equal(manifests.map((m) => [m.rollout, m.status]), [['join-1', 'verified']]);
  // It was planned with the cluster facts of the control planes and itself, gathered before the join's apply.
  const facts = JSON.parse(await fs.readFile(path.join(dir, 'cluster.json'), 'utf8'));
  assert.equal(facts.nodes.map((n: { name: string; role: string }) => `${n.name} ${n.role}`), ['cp1 control-plane', 'cp2 control-plane', 'j1 worker']);
  for (const n of facts.nodes) assert.ok(n.gatheredAt <= manifests[0].createdAt, `${n.name} gathered ${n.gatheredAt}`);
  const again = await playbook('join.yml', file, '-e', 'harden_join_rollout=join-2');
  assert.is(again.status, 0, again.stdout + again.stderr);
  assert.equal(changedOf(again), { cp1: 0, cp2: 0, j1: 0 });
});

test('the executable is copied only with the right sha256, checked on the controller first; check mode runs a temporary copy and leaves nothing', async () => {
  const executable = await currentExecutable();
  const sha256 = createHash('sha256').update(await fs.readFile(executable)).digest('hex');
  const file = await inventory({ control_plane: CONTROL_PLANES, workers: ['w1', 'w2', 'w3'], joining: ['j1'] });
  const bins = path.join(dir, 'bin');
  const checkDir = path.join(dir, 'check');
  for (const name of ['cp1', 'cp2', 'j1']) await fs.mkdir(path.join(bins, name), { recursive: true });
  await fs.mkdir(checkDir);
  // harden_bin names nothing that runs: on the nodes only the copied executable can answer (the controller runs
  // the same executable).
  const copied = (...args: string[]) =>
    playbook('join.yml', file, '-e', 'harden_bin=false', '-e', `harden_local_bin=${executable}`, '-e', `harden_bin_src=${executable}`, '-e', `harden_bin_dest=${bins}/{{ inventory_hostname }}/harden`, '-e', `harden_check_dir=${checkDir}`, ...args);

  const wrong = await copied('-e', `harden_bin_sha256=${'0'.repeat(64)}`, '-e', 'harden_join_rollout=join-wrong');
  assert.is(wrong.status, 2, wrong.stdout + wrong.stderr);
  assert.match(wrong.stdout, `${executable} does not have the sha256 harden_bin_sha256 names (or harden_bin_sha256 is empty); nothing was copied`);
  for (const name of ['cp1', 'cp2', 'j1']) assert.equal(await fs.readdir(path.join(bins, name)), [], name);

  const before = await readTree(node('j1').root, []);
  const check = await copied('-e', `harden_bin_sha256=${sha256}`, '-e', 'harden_join_rollout=join-check', '--check', '--diff');
  assert.is(check.status, 0, check.stdout + check.stderr);
  // cp2 put itself back above: j1's preview counts what cp2's own plan fixes (its Webhook authorization), which
  // the real run below does not.
  assert.equal(changedOf(check), { cp1: 0, cp2: 0, j1: 1 });
  assert.match(check.stdout, 'needs apiserver.authorization-mode.node-rbac planned on cp2, not yet applied', check.stdout);
  for (const name of ['cp1', 'cp2', 'j1']) assert.equal(await fs.readdir(path.join(bins, name)), [], name);
  assert.equal(await fs.readdir(checkDir), []);
  assert.equal(treeDiff(before, await readTree(node('j1').root, [])), []);

  const run = await copied('-e', `harden_bin_sha256=${sha256}`, '-e', 'harden_join_rollout=join-copied');
  assert.is(run.status, 0, run.stdout + run.stderr);
  // Installing harden is the one change: j1 was hardened by the join before.
  assert.equal(changedOf(run), { cp1: 1, cp2: 1, j1: 1 });
  for (const name of ['cp1', 'cp2', 'j1']) {
    const copy = path.join(bins, name, 'harden');
    assert.is(createHash('sha256').update(await fs.readFile(copy)).digest('hex'), sha256, name);
    assert.is((await fs.stat(copy)).mode & 0o777, 0o755, name);
  }
  assert.equal(treeDiff(before, await readTree(node('j1').root, [])), []);
});

test('cluster facts that cannot be built stop the rollout after the control planes: no worker is touched', async () => {
  const before = await trees(WORKERS, []);
  const manifestsBefore = new Map(await Promise.all(WORKERS.map(async (name) => [name, (await snapshotManifests(node(name).stateDir)).length] as const)));
  // `false` in place of harden on the controller: harden cluster facts fails there.
  const run = await playbook('harden.yml', inventoryFile, '-e', 'harden_rollout=rollout-3', '-e', 'harden_local_bin=false');
  assert.is(run.status, 2, run.stdout + run.stderr);
  assert.match(run.stdout, 'TASK [harden : Build the cluster facts with harden on the controller]');
  assert.not.match(run.stdout, 'PLAY [Harden the workers in batches]');
  for (const name of WORKERS) assert.is(recap(run)[name].changed, 0, name);
  sameTrees(before, await trees(WORKERS, []));
  for (const name of WORKERS) assert.is((await snapshotManifests(node(name).stateDir)).length, manifestsBefore.get(name));
});

test('a rollout limited to workers alone stops before any worker: the cluster facts need a control plane', async () => {
  const before = await readTree(node('w1').root, []);
  const manifests = (await snapshotManifests(node('w1').stateDir)).length;
  const run = await playbook('harden.yml', inventoryFile, '--limit', 'w1', '-e', 'harden_rollout=rollout-4');
  assert.is(run.status, 2, run.stdout + run.stderr);
  assert.match(run.stdout, 'error: no control-plane node among the facts given');
  assert.not.match(run.stdout, 'PLAY [Harden the workers in batches]');
  assert.equal(treeDiff(before, await readTree(node('w1').root, [])), []);
  assert.is((await snapshotManifests(node('w1').stateDir)).length, manifests);
});

test('the collection is clean under ansible-lint --offline', () => {
  const lint = spawnSync('ansible-lint', ['--offline', '--nocolor', '-p'], { cwd: COLLECTION, encoding: 'utf8' });
  assert.is(lint.status, 0, lint.stdout + lint.stderr);
});

test.run();
