// `harden apply`, `harden rollback` and `harden snapshots` on live test nodes: real TLS health endpoints on
// loopback (test/helpers/live-node.ts), the recording snap/systemctl stand-ins on PATH, the bin spawned
// without blocking this process (the servers must keep answering). Every test states the exit code, the
// lines that matter, and exactly what was left on disk.
//
// Gates: --health-window 1 (each restarted unit must stay up 1 s instead of 5) keeps a gate at about a second.
// The 14 version x profile runs go four at a time, started before the first test.
import { spawn } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { describeNode } from '../../src/core/node.js';
import type { Plan } from '../../src/core/plan.js';
import type { FileOps } from '../../src/effects/file-ops.js';
import { realFileOps } from '../../src/effects/file-ops.js';
import { realFileSystem } from '../../src/effects/file-system.js';
import { healthProbes } from '../../src/effects/health.js';
import { readNodeFacts, RootedReader } from '../../src/effects/node-reader.js';
import { Interrupted, type ChoiceGroup, type Prompt } from '../../src/effects/prompt.js';
import { systemServices } from '../../src/effects/services.js';
import type { SnapshotManifest } from '../../src/effects/snapshots.js';
import { runBinAsync, runInProcessWith, type Run } from '../helpers/cli.js';
import { ALL_UNITS, makeLiveNode, readTree, treeDiff, type LiveNode, type TreeEntry } from '../helpers/live-node.js';
import { makeNode, makeTempDir, MICROK8S_GID } from '../helpers/node-root.js';
import { fixtureVersions, type FixtureVersion } from '../helpers/paths.js';
import { readLog, setMode } from '../helpers/stand-ins.js';

const KUBELITE = 'snap.microk8s.daemon-kubelite';
const FAST = ['--health-timeout', '10', '--health-window', '1'];
const PROFILES = ['baseline', 'cis'] as const;
const minor = (version: string) => Number(version.split('.')[1]);

const nodes: LiveNode[] = [];
async function liveNode(version: FixtureVersion): Promise<LiveNode> {
  const node = await makeLiveNode({ version });
  nodes.push(node);
  return node;
}

const apply = (n: LiveNode, ...args: string[]) => runBinAsync(['apply', '--root', n.root, ...args], n.env);
const rollback = (n: LiveNode, ...args: string[]) => runBinAsync(['rollback', '--root', n.root, ...args], n.env);

async function planOf(n: LiveNode, profile: string): Promise<Plan> {
  const run = await runBinAsync(['plan', '--root', n.root, '--profile', profile, '--json'], n.env);
  assert.is(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as Plan;
}

/** A node path's host path (`current` is a relative link inside the root). */
const host = (n: LiveNode, nodePath: string) => path.join(n.root, nodePath);
/** A node path as readTree names it: relative, through the revision instead of `current`. */
const rel = (n: LiveNode, nodePath: string) => nodePath.replace('/var/snap/microk8s/current/', `/var/snap/microk8s/${n.revision}/`).slice(1);

async function manifests(n: LiveNode): Promise<SnapshotManifest[]> {
  const dir = path.join(n.stateDir, 'snapshots');
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const out: SnapshotManifest[] = [];
  for (const name of names) out.push(JSON.parse(await fs.readFile(path.join(dir, name, 'manifest.json'), 'utf8')) as SnapshotManifest);
  return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
}

const snapRestarts = async (n: LiveNode) => (await readLog(n.standIns, 'snap')).filter((line) => line.startsWith('snap restart ')).map((line) => line.replace(/^snap restart microk8s\./, 'snap.microk8s.'));

function noDiff(before: Map<string, TreeEntry>, after: Map<string, TreeEntry>, what: string): void {
  assert.equal(treeDiff(before, after), [], what);
}

/** owner `user:group` on these roots: root is 0, the microk8s group is MICROK8S_GID. */
function ids(owner: string): { uid: number; gid: number } {
  const id = (name: string) => (name === 'root' ? 0 : name === 'microk8s' ? MICROK8S_GID : Number(name));
  const [user, group] = owner.split(':');
  return { uid: id(user), gid: id(group) };
}

test.after(async () => {
  for (const node of nodes.splice(0)) await node.close();
});

// ---- the live nodes themselves ---------------------------------------------------------------------

test('live nodes: every health probe of every version passes on loopback (API server, kubelet, etcd, sockets)', async () => {
  const seen: string[] = [];
  for (const version of fixtureVersions) {
    const n = await liveNode(version);
    const model = describeNode(await readNodeFacts(realFileSystem, { root: n.root }));
    const reader = new RootedReader(realFileSystem, n.root);
    const probes = healthProbes({ root: n.root, model, services: ALL_UNITS }, (p) => reader.readText(p));
    for (const probe of probes) {
      const result = await probe.check();
      assert.ok(result.ok, `${version} ${probe.name}: ${result.detail}`);
      seen.push(`${version} ${probe.name}`);
    }
    await n.close();
  }
  for (const version of ['1.13', '1.18']) assert.ok(seen.includes(`${version} etcd /health`), `${version} etcd`);
  for (const version of ['1.26', '1.28', '1.36']) assert.ok(seen.includes(`${version} k8s-dqlite socket`), `${version} k8s-dqlite`);
  for (const version of fixtureVersions) {
    for (const name of ['kube-apiserver /readyz', 'kubelet /healthz', 'containerd socket']) assert.ok(seen.includes(`${version} ${name}`), `${version} ${name}`);
  }
});

// ---- every fixture version x every shipped profile: apply, then rollback ----------------------------

interface MatrixResult {
  readonly n: LiveNode;
  readonly plan: Plan;
  readonly original: Map<string, TreeEntry>;
  readonly applied: Run;
  readonly afterApply: Map<string, TreeEntry>;
  /** The plan's files and companions as apply left them (read before the rollback). */
  readonly writtenTexts: Map<string, string>;
  readonly logAfterApply: string[];
  readonly manifestsAfterApply: SnapshotManifest[];
  readonly readyzDuringApply: number;
  readonly stateDirMode: number;
  readonly snapshotFileModes: number[];
  readonly rolledBack: Run;
  readonly afterRollback: Map<string, TreeEntry>;
  readonly logAfterRollback: string[];
  readonly manifestsAfterRollback: SnapshotManifest[];
}

async function applyAndRollBack(version: FixtureVersion, profile: string): Promise<MatrixResult> {
  const n = await liveNode(version);
  // The original state: after the ports, certificates and sockets were set up.
  const original = await readTree(n.root);
  const plan = await planOf(n, profile);
  const readyzBefore = n.readyzRequests();
  const applied = await apply(n, '--profile', profile, '--yes', ...FAST);
  const readyzDuringApply = n.readyzRequests() - readyzBefore;
  const afterApply = await readTree(n.root);
  const logAfterApply = await snapRestarts(n);
  const manifestsAfterApply = await manifests(n);
  const stateDirMode = (await fs.stat(n.stateDir)).mode & 0o777;
  const snapshotFileModes: number[] = [];
  for (const m of manifestsAfterApply) {
    const dir = path.join(n.stateDir, 'snapshots', m.id);
    snapshotFileModes.push((await fs.stat(dir)).mode & 0o777);
    for (const name of await fs.readdir(dir)) snapshotFileModes.push((await fs.stat(path.join(dir, name))).mode & 0o777);
  }
  const writtenTexts = new Map<string, string>();
  for (const file of [...plan.files, ...plan.companions]) writtenTexts.set(file.path, readFileSync(host(n, file.path), 'utf8'));
  const rolledBack = await rollback(n, '--yes', ...FAST);
  return {
    writtenTexts,
    n,
    plan,
    original,
    applied,
    afterApply,
    logAfterApply,
    manifestsAfterApply,
    readyzDuringApply,
    stateDirMode,
    snapshotFileModes,
    rolledBack,
    afterRollback: await readTree(n.root),
    logAfterRollback: await snapRestarts(n),
    manifestsAfterRollback: await manifests(n),
  };
}

const matrix = new Map<string, Promise<MatrixResult>>();
test.before(() => {
  const jobs = fixtureVersions.flatMap((version) => PROFILES.map((profile) => ({ version, profile })));
  const gates = new Map<string, () => void>();
  const waiting = jobs.map(({ version, profile }) => {
    const key = `${version} ${profile}`;
    const promise = new Promise<void>((resolve) => gates.set(key, resolve)).then(() => applyAndRollBack(version, profile));
    promise.catch(() => undefined);
    matrix.set(key, promise);
    return { key, promise };
  });
  // Four at a time: the runs spend their time waiting on gates, but a spawn costs CPU.
  let next = 0;
  const startNext = () => {
    const job = waiting[next++];
    if (!job) return;
    gates.get(job.key)!();
    job.promise.finally(startNext).catch(() => undefined);
  };
  for (let i = 0; i < 4; i += 1) startNext();
});

for (const version of fixtureVersions) {
  for (const profile of PROFILES) {
    test(`${version} ${profile}: apply --yes writes exactly the plan, restarts once each, gates pass; rollback restores every byte, mode and owner`, async () => {
      const r = await matrix.get(`${version} ${profile}`)!;
      const { n, plan } = r;
      assert.ok(plan.files.length > 0, 'the plan changes something');
      assert.equal(plan.problems, []);

      // apply
      assert.is(r.applied.status, 0, r.applied.stderr);
      const snapshot = r.manifestsAfterApply[0];
      assert.is(r.manifestsAfterApply.length, 1);
      assert.ok(r.applied.stdout.includes(`Snapshot ${snapshot.id} in ${n.stateDir}/snapshots/${snapshot.id}\n`), r.applied.stdout);
      assert.ok(r.applied.stdout.includes(`Wrote ${plan.files.length + plan.companions.length} ${plan.files.length + plan.companions.length === 1 ? 'file' : 'files'}${plan.modes.length ? `, changed ${plan.modes.length} ${plan.modes.length === 1 ? 'mode' : 'modes'}` : ''}.\n`), r.applied.stdout);
      assert.match(r.applied.stdout, /^Applied and verified: \d+ rules now pass\.$/m);
      for (const service of plan.restarts) assert.ok(r.applied.stdout.includes(`Restarting ${service}\n`), service);

      // Exactly the plan's texts, companions and modes; nothing else in the root changed.
      const expected = new Set<string>();
      const entry = (nodePath: string) => r.afterApply.get(rel(n, nodePath))!;
      for (const file of plan.files) {
        assert.is(r.writtenTexts.get(file.path), file.after, file.path);
        expected.add(rel(n, file.path));
      }
      for (const companion of plan.companions) {
        assert.is(r.writtenTexts.get(companion.path), companion.content, companion.path);
        assert.is(entry(companion.path).mode, companion.mode, `${companion.path} mode`);
        assert.equal([entry(companion.path).uid, entry(companion.path).gid], [0, 0], `${companion.path} owner`);
        expected.add(rel(n, companion.path));
      }
      for (const change of plan.modes) {
        if (change.mode) assert.is(entry(change.path).mode, change.mode.to, `${change.path} mode`);
        if (change.owner) assert.equal({ uid: entry(change.path).uid, gid: entry(change.path).gid }, ids(change.owner.to), `${change.path} owner`);
        expected.add(rel(n, change.path));
      }
      const changed = treeDiff(r.original, r.afterApply).map((line) => line.split(': ')[0]);
      assert.equal([...new Set(changed)].sort(), [...expected].sort(), 'apply changed only what the plan names');

      // One restart per service, in the plan's order: kubelite alone from 1.21, the separate daemons before.
      assert.equal(r.logAfterApply, plan.restarts, 'snap restart once each, in order');
      if (minor(version) >= 21) assert.equal(plan.restarts, [KUBELITE]);
      else {
        assert.not.ok(plan.restarts.includes(KUBELITE));
        assert.is(plan.restarts[0], 'snap.microk8s.daemon-apiserver', 'the API server before the daemons that need it');
      }
      const datastores = plan.restarts.filter((s) => /-(etcd|k8s-dqlite)$/.test(s));
      assert.equal(plan.restarts.slice(0, datastores.length), datastores, 'datastore first');
      assert.ok(r.readyzDuringApply >= 2, `the gates asked /readyz before and after (${r.readyzDuringApply})`);

      // The snapshot: verified, every step recorded, private.
      assert.is(snapshot.kind, 'apply');
      assert.is(snapshot.status, 'verified');
      assert.equal(snapshot.history.map((h) => h.status), ['planned', 'written', 'restarted', 'verified']);
      assert.equal(snapshot.profile?.name, profile);
      assert.is(snapshot.revision, n.revision);
      assert.is(snapshot.files.length, plan.files.length + plan.companions.length);
      assert.is(snapshot.files.filter((f) => f.created).length, plan.companions.length);
      assert.is((snapshot.modes ?? []).length, plan.modes.length);
      for (const file of snapshot.files) assert.ok(file.sha256After && file.sha256AfterRestart, file.path);
      assert.is(r.stateDirMode, 0o700);
      assert.ok(r.snapshotFileModes.every((mode, i) => mode === (i === 0 ? 0o700 : 0o600)), r.snapshotFileModes.map((m) => m.toString(8)).join(' '));

      // rollback: every byte, mode and owner back, created files gone; the same services restarted once more.
      assert.is(r.rolledBack.status, 0, r.rolledBack.stderr);
      assert.ok(r.rolledBack.stdout.includes(`Rolled back ${snapshot.id}; `), r.rolledBack.stdout);
      noDiff(r.original, r.afterRollback, 'the whole root is as it was');
      assert.equal(r.logAfterRollback, [...plan.restarts, ...plan.restarts]);
      const [applySnapshot, undo] = r.manifestsAfterRollback;
      assert.is(applySnapshot.status, 'rolled-back');
      assert.is(undo.kind, 'rollback');
      assert.is(undo.status, 'verified');
    });
  }
}

// ---- a failing gate puts the node back by itself ----------------------------------------------------

test('failing gate after the restart: put back by itself, exit 3, files byte-identical, restarted again, status put-back', async () => {
  const n = await liveNode('1.28');
  await n.rejectFlag('--authorization-mode=Node,RBAC');
  const original = await readTree(n.root);
  const run = await apply(n, '--yes', '--health-timeout', '3', '--health-window', '1');
  assert.is(run.status, 3, run.stderr);
  assert.match(run.stderr, /^error: the change failed its health gate: kube-apiserver \/readyz: HTTP 500: \[-\]poststarthook\/start-apiextensions-controllers failed: reason withheld$/m);
  const [snapshot] = await manifests(n);
  assert.ok(run.stderr.includes(`Putting the node back from snapshot ${snapshot.id}\n`), run.stderr);
  assert.ok(run.stderr.includes('journalctl -u snap.microk8s.daemon-kubelite'), run.stderr);
  assert.match(run.stderr, /^Put back: .*\/var\/snap\/microk8s\/current\/args\/kube-apiserver.* restored; snap\.microk8s\.daemon-kubelite restarted and healthy again\.$/m);
  noDiff(original, await readTree(n.root), 'every file as before');
  assert.equal(await snapRestarts(n), [KUBELITE, KUBELITE], 'restarted, then restarted again after the put-back');
  assert.is(snapshot.status, 'put-back');
  assert.equal(snapshot.history.map((h) => h.status), ['planned', 'written', 'restarted', 'put-back']);
  assert.not.ok(run.stdout.includes('Applied'), run.stdout);
});

test('failed put-back (the API server stays broken after the restore): exit 4, says what state the node is in', async () => {
  const n = await liveNode('1.28');
  await n.rejectFlag('--authorization-mode=Node,RBAC', { sticky: true });
  const original = await readTree(n.root);
  const run = await apply(n, '--yes', '--health-timeout', '2', '--health-window', '1');
  assert.is(run.status, 4, run.stderr);
  const [snapshot] = await manifests(n);
  assert.match(run.stderr, /^error: the put-back failed: .*kube-apiserver \/readyz: HTTP 500/m);
  assert.match(run.stderr, /^error: restored so far: .*\/var\/snap\/microk8s\/current\/args\/kube-apiserver/m);
  assert.ok(run.stderr.includes(`the original files are in ${n.stateDir}/snapshots/${snapshot.id}`), run.stderr);
  assert.ok(run.stderr.includes(`harden rollback ${snapshot.id} --force`), run.stderr);
  assert.ok(run.stderr.includes('journalctl -u snap.microk8s.daemon-kubelite'), run.stderr);
  // The files are back (the restore itself worked); the service is what stays unhealthy.
  noDiff(original, await readTree(n.root), 'the files were restored');
  assert.equal(await snapRestarts(n), [KUBELITE, KUBELITE]);
  assert.is(snapshot.status, 'put-back-failed');
});

// ---- health before, prompts, terminal ----------------------------------------------------------------

test('unhealthy before: refused with exit 1 and nothing written; --force applies anyway', async () => {
  const n = await liveNode('1.28');
  await n.setUnhealthy(true);
  const original = await readTree(n.root);
  const refused = await apply(n, '--yes', '--health-timeout', '1', '--health-window', '1');
  assert.is(refused.status, 1, refused.stderr);
  assert.match(refused.stderr, /^error: the node is not healthy before the change: kube-apiserver \/readyz: HTTP 500: /m);
  assert.match(refused.stderr, /^hint: fix the node first .*--force/m);
  noDiff(original, await readTree(n.root), 'nothing written');
  assert.equal(await snapRestarts(n), []);
  assert.equal(await manifests(n), []);

  // The API server is broken before the change; its restart mends it (the hook clears the 500).
  await n.rejectFlag('--no-such-flag');
  const forced = await apply(n, '--yes', '--force', '--health-timeout', '2', '--health-window', '1');
  assert.is(forced.status, 0, forced.stderr);
  assert.match(forced.stderr, /^before: waiting for kube-apiserver \/readyz/m);
  assert.match(forced.stdout, /^Applied and verified: /m);
  assert.equal(await snapRestarts(n), [KUBELITE]);
  assert.is((await manifests(n))[0].status, 'verified');
  assert.ok(readFileSync(n.args('kube-apiserver'), 'utf8').includes('--authorization-mode=Node,RBAC\n'));
});

test('no terminal and no --yes: exit 1, nothing written', async () => {
  const n = await liveNode('1.28');
  const original = await readTree(n.root);
  const run = await apply(n, ...FAST);
  assert.is(run.status, 1, run.stderr);
  assert.match(run.stderr, /^error: no terminal to confirm the changes: nothing was written$/m);
  assert.match(run.stderr, /^hint: run it in a terminal, or pass --yes$/m);
  noDiff(original, await readTree(n.root), 'nothing written');
  assert.equal(await snapRestarts(n), []);
  assert.equal(await manifests(n), []);
});

function prompt(answers: { choose?: (groups: readonly ChoiceGroup[]) => string[]; confirm: () => boolean | Promise<boolean> }, seen: { groups?: readonly ChoiceGroup[]; confirms: string[] }): Prompt {
  return {
    async choose(_message, groups) {
      seen.groups = groups;
      return answers.choose ? answers.choose(groups) : groups.flatMap((g) => g.choices.map((c) => c.value));
    },
    async confirm(message) {
      seen.confirms.push(message);
      return answers.confirm();
    },
  };
}

test('declined confirm (in-process, a prompt answering No): nothing written, exit 1', async () => {
  const n = await liveNode('1.28');
  const original = await readTree(n.root);
  const seen: { groups?: readonly ChoiceGroup[]; confirms: string[] } = { confirms: [] };
  const run = await runInProcessWith(['apply', '--root', n.root, ...FAST], {
    interactive: true,
    change: { services: systemServices({ env: { ...process.env, PATH: n.env.PATH } }), prompt: prompt({ confirm: () => false }, seen) },
  });
  assert.is(run.status, 1, run.stderr);
  assert.equal(seen.confirms, ['Apply these changes?']);
  assert.equal(seen.groups?.map((g) => g.title), ['/var/snap/microk8s/current/args/kube-apiserver', '/var/snap/microk8s/current/args/kube-scheduler', '/var/snap/microk8s/current/args/kube-controller-manager']);
  assert.match(run.stdout, /^Nothing was changed\.$/m);
  assert.match(run.stdout, /^Plan for profile baseline \(shipped, sha256 [0-9a-f]{16}…\) on /m);
  noDiff(original, await readTree(n.root), 'nothing written');
  assert.equal(await snapRestarts(n), []);
  assert.equal(await manifests(n), []);
});

test('Ctrl-C at the confirm (the prompt throws Interrupted): exit 130, nothing written', async () => {
  const n = await liveNode('1.28');
  const original = await readTree(n.root);
  const seen = { confirms: [] as string[] };
  const run = await runInProcessWith(['apply', '--root', n.root, ...FAST], {
    interactive: true,
    change: { services: systemServices({ env: { ...process.env, PATH: n.env.PATH } }), prompt: prompt({ confirm: () => { throw new Interrupted(); } }, seen) },
  });
  assert.is(run.status, 130, run.stderr);
  assert.match(run.stderr, /^error: interrupted at the prompt: nothing was written$/m);
  noDiff(original, await readTree(n.root), 'nothing written');
  assert.equal(await snapRestarts(n), []);
  assert.equal(await manifests(n), []);
});

test('checklist: deselecting a rule another requires blocks the requiring rule in the rebuilt plan', async () => {
  const n = await liveNode('1.28');
  const original = await readTree(n.root);
  const seen: { groups?: readonly ChoiceGroup[]; confirms: string[] } = { confirms: [] };
  const keep = (groups: readonly ChoiceGroup[]) => groups.flatMap((g) => g.choices.map((c) => c.value)).filter((id) => id !== 'apiserver.authorization-mode.node-rbac');
  const run = await runInProcessWith(['apply', '--root', n.root, '--no-restart'], {
    interactive: true,
    change: { prompt: prompt({ choose: keep, confirm: () => true }, seen) },
  });
  assert.is(run.status, 0, run.stderr);
  const apiserverGroup = seen.groups?.find((g) => g.title.endsWith('/args/kube-apiserver'));
  assert.equal(apiserverGroup?.choices.map((c) => c.value).sort(), ['apiserver.authorization-mode.no-always-allow', 'apiserver.authorization-mode.node-rbac']);
  // The plan is shown twice: as made, then rebuilt from the choice, where no-always-allow is blocked.
  const shown = run.stdout.split(/^(?=Plan for profile baseline)/m).filter((part) => part.startsWith('Plan for profile'));
  assert.is(shown.length, 2, run.stdout);
  assert.not.match(shown[0], /^Blocked/m);
  assert.ok(shown[0].includes('+ --authorization-mode=Node,RBAC\n'));
  assert.not.ok(shown[1].includes('--authorization-mode=Node,RBAC'), 'the rebuilt plan leaves the API server alone');
  assert.ok(
    shown[1].includes(
      'Blocked (harden will not change these until what they need is in place):\n  apiserver.authorization-mode.no-always-allow: --authorization-mode must not include AlwaysAllow; blocked: needs rule apiserver.authorization-mode.node-rbac, which is not selected (something must authorize requests once AlwaysAllow is gone)\n',
    ),
    shown[1],
  );
  assert.match(shown[1], /^Plan: 2 to add, 0 to change, 0 to remove in 2 files; restarts: snap\.microk8s\.daemon-kubelite\.$/m);
  assert.equal(seen.confirms, ['Apply these changes?']);
  // What was written: the two other files, not the API server's.
  const changed = [...new Set(treeDiff(original, await readTree(n.root)).map((line) => line.split(': ')[0]))].sort();
  assert.equal(changed, [`var/snap/microk8s/${n.revision}/args/kube-controller-manager`, `var/snap/microk8s/${n.revision}/args/kube-scheduler`]);
  assert.ok(readFileSync(n.args('kube-apiserver'), 'utf8').includes('--authorization-mode=AlwaysAllow'));
});

// ---- failed restart, failed write ------------------------------------------------------------------

test('failed restart (snap restart fails once): put back, restarted again, exit 3', async () => {
  const n = await liveNode('1.28');
  await n.failNextRestarts(1);
  const original = await readTree(n.root);
  const run = await apply(n, '--yes', ...FAST);
  assert.is(run.status, 3, run.stderr);
  assert.match(run.stderr, /^error: snap\.microk8s\.daemon-kubelite did not restart: snap restart microk8s\.daemon-kubelite failed \(exit 1\): error: cannot perform the following tasks:$/m);
  assert.match(run.stderr, /^Put back: .* snap\.microk8s\.daemon-kubelite restarted and healthy again\.$/m);
  noDiff(original, await readTree(n.root), 'every file as before');
  assert.equal(await snapRestarts(n), [KUBELITE, KUBELITE], 'the failed restart, then the put-back restart');
  assert.is((await manifests(n))[0].status, 'put-back');
});

test('snap fails every time (stand-in in fail mode): the put-back restart fails too, exit 4, files restored', async () => {
  const n = await liveNode('1.21');
  await setMode(n.standIns, 'snap', 'fail', { message: 'error: snap "microk8s" has "refresh" change in progress' });
  const original = await readTree(n.root);
  const run = await apply(n, '--yes', ...FAST);
  assert.is(run.status, 4, run.stderr);
  assert.match(run.stderr, /^error: snap\.microk8s\.daemon-kubelite did not restart: snap restart microk8s\.daemon-kubelite failed \(exit 1\): error: snap "microk8s" has "refresh" change in progress$/m);
  assert.match(run.stderr, /^error: the put-back failed: snap restart microk8s\.daemon-kubelite failed/m);
  assert.match(run.stderr, /^error: restored so far: /m);
  noDiff(original, await readTree(n.root), 'the files were restored before the restart failed');
  assert.equal(await snapRestarts(n), [KUBELITE, KUBELITE]);
  assert.is((await manifests(n))[0].status, 'put-back-failed');
});

test('failed write (rename fails on the second file, in-process): the first file put back by rename, exit 3', async () => {
  const n = await liveNode('1.28');
  const original = await readTree(n.root);
  let argsRenames = 0;
  const ops: FileOps = {
    ...realFileOps,
    async rename(from, to) {
      if (to.startsWith(n.argsDir) && ++argsRenames === 2) throw Object.assign(new Error('EIO: i/o error, rename'), { code: 'EIO' });
      return realFileOps.rename(from, to);
    },
  };
  const run = await runInProcessWith(['apply', '--root', n.root, '--yes', ...FAST], { change: { ops, services: systemServices({ env: { ...process.env, PATH: n.env.PATH } }) } });
  assert.is(run.status, 3, run.stderr);
  assert.match(run.stderr, /^error: a write failed, and the files already written were put back: cannot write \/var\/snap\/microk8s\/current\/args\/kube-scheduler \(EIO\)$/m);
  noDiff(original, await readTree(n.root), 'the first file put back; no temp file left');
  assert.equal(await snapRestarts(n), []);
  const [snapshot] = await manifests(n);
  assert.is(snapshot.status, 'put-back');
});

// ---- saved plans ----------------------------------------------------------------------------------

test('saved plan: plan --out then apply PLAN --yes applies exactly that plan', async () => {
  const n = await liveNode('1.36');
  const dir = await makeTempDir('harden-plan-');
  const out = path.join(dir, 'cis.plan.json');
  const made = await runBinAsync(['plan', '--root', n.root, '--profile', 'cis', '--out', out], n.env);
  assert.is(made.status, 0, made.stderr);
  const plan = JSON.parse(await fs.readFile(out, 'utf8')) as Plan;
  const run = await apply(n, out, '--yes', ...FAST);
  assert.is(run.status, 0, run.stderr);
  for (const file of plan.files) assert.is(readFileSync(host(n, file.path), 'utf8'), file.after, file.path);
  for (const companion of plan.companions) assert.is(readFileSync(host(n, companion.path), 'utf8'), companion.content);
  assert.equal(await snapRestarts(n), [KUBELITE]);
  const [snapshot] = await manifests(n);
  assert.is(snapshot.status, 'verified');
  assert.equal(snapshot.profile?.name, 'cis');
});

test('saved plan: after an args file changed, apply PLAN refuses (exit 1, names the file), nothing written', async () => {
  const n = await liveNode('1.28');
  const dir = await makeTempDir('harden-plan-');
  const out = path.join(dir, 'baseline.plan.json');
  assert.is((await runBinAsync(['plan', '--root', n.root, '--out', out], n.env)).status, 0);
  await fs.appendFile(n.args('kube-apiserver'), '--v=2\n');
  const edited = await readTree(n.root);
  const run = await apply(n, out, '--yes', ...FAST);
  assert.is(run.status, 1, run.stderr);
  assert.match(run.stderr, /^error: the node changed since the plan was made: .*\/var\/snap\/microk8s\/current\/args\/kube-apiserver/m);
  assert.match(run.stderr, /^hint: make a new plan with harden plan --out/m);
  noDiff(edited, await readTree(n.root), 'nothing written');
  assert.equal(await readLog(n.standIns), []);
  assert.equal(await manifests(n), []);
});

test('saved plan from a profile file: applied from its absolute path; once the file is edited, refused by its digest', async () => {
  const root = await makeNode({ version: '1.28' });
  await fs.mkdir(path.join(root, 'var/lib'), { recursive: true });
  const dir = await makeTempDir('harden-plan-');
  const profile = path.join(dir, 'mine.yaml');
  const text = (value: string) => `apiVersion: harden/v1\nkind: Profile\nname: baseline\ntitle: Mine\nrules:\n  - id: kube-scheduler.bind\n    title: T\n    rationale: R\n    severity: low\n    component: kube-scheduler\n    operation: set-flag\n    flag: --bind-address\n    value: "${value}"\n`;
  await fs.writeFile(profile, text('127.0.0.1'));
  const out = path.join(dir, 'plan.json');
  assert.is((await runInProcessWith(['plan', '--root', root, '--profile', profile, '--out', out])).status, 0);
  const saved = JSON.parse(await fs.readFile(out, 'utf8'));
  assert.equal([saved.profile.source, saved.profile.file], ['file', profile]);

  await fs.writeFile(profile, text('0.0.0.0'));
  const before = await readTree(root);
  const refused = await runInProcessWith(['apply', '--root', root, out, '--yes', '--no-restart']);
  assert.is(refused.status, 1, refused.stderr);
  assert.is(refused.stdout, '');
  const now = JSON.parse((await runInProcessWith(['plan', '--root', root, '--profile', profile, '--json'])).stdout).profile.sha256;
  assert.is(
    refused.stderr,
    `error: ${out} was made with profile mine.yaml "baseline" (file ${profile}, sha256 ${saved.profile.sha256.slice(7, 23)}…), which is now sha256 ${now.slice(7, 23)}…: the profile changed since the plan was made\n` +
      'hint: review the profile, then make a new plan with harden plan --out, review it, and apply that\n',
  );
  noDiff(before, await readTree(root), 'nothing written');

  await fs.writeFile(profile, text('127.0.0.1'));
  const applied = await runInProcessWith(['apply', '--root', root, out, '--yes', '--no-restart']);
  assert.is(applied.status, 0, applied.stderr);
  assert.match(await fs.readFile(path.join(root, 'var/snap/microk8s/current/args/kube-scheduler'), 'utf8'), /^--bind-address=127\.0\.0\.1$/m);
  // The snapshot names the profile as the plan did: the file, not a shipped name.
  const list = await runInProcessWith(['snapshots', 'list', '--root', root]);
  assert.match(list.stdout, /^\S+  apply    written         mine\.yaml "baseline"  1 files  MicroK8s 1\.28\.0 r\d+\n$/);
});

// ---- the lock -------------------------------------------------------------------------------------

const bootId = () => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

test('held lock (a live pid): exit 1, nothing written, the lock left alone', async () => {
  const n = await liveNode('1.28');
  const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    await fs.mkdir(n.stateDir, { recursive: true, mode: 0o700 });
    const lock = `${JSON.stringify({ pid: sleeper.pid, startedAt: '2026-11-22T18:00:00.000Z', bootId: bootId() })}\n`;
    const lockTime = '2026-11-22 18:00:00 UTC';
    await fs.writeFile(path.join(n.stateDir, 'lock'), lock);
    const original = await readTree(n.root);
    const run = await apply(n, '--yes', ...FAST);
    assert.is(run.status, 1, run.stderr);
    assert.ok(run.stderr.includes(`error: another harden run (pid ${sleeper.pid}, since ${lockTime}) holds ${n.stateDir}/lock\n`), run.stderr);
    noDiff(original, await readTree(n.root), 'nothing written');
    assert.is(await fs.readFile(path.join(n.stateDir, 'lock'), 'utf8'), lock);
    assert.equal(await readLog(n.standIns), []);
    assert.equal(await manifests(n), []);
  } finally {
    sleeper.kill();
  }
});

test('a dead pid’s lock: taken over, with a note on stderr; the lock released after', async () => {
  const n = await liveNode('1.28');
  const gone = spawn('true', [], { stdio: 'ignore' });
  await new Promise((resolve) => gone.on('exit', resolve));
  await fs.mkdir(n.stateDir, { recursive: true, mode: 0o700 });
  await fs.writeFile(path.join(n.stateDir, 'lock'), `${JSON.stringify({ pid: gone.pid, startedAt: new Date().toISOString(), bootId: bootId() })}\n`);
  const run = await apply(n, '--yes', ...FAST);
  assert.is(run.status, 0, run.stderr);
  assert.ok(run.stderr.includes(`note: took over ${n.stateDir}/lock from harden pid ${gone.pid}, which no longer runs\n`), run.stderr);
  assert.not.ok(await fs.access(path.join(n.stateDir, 'lock')).then(() => true, () => false), 'lock released');
  assert.equal(await snapRestarts(n), [KUBELITE]);
  assert.is((await manifests(n))[0].status, 'verified');
});

// ---- --no-restart -----------------------------------------------------------------------------------

test('--no-restart: writes, restarts nothing, records the restarts owed and prints them', async () => {
  const n = await liveNode('1.20');
  const plan = await planOf(n, 'baseline');
  const run = await apply(n, '--yes', '--no-restart');
  assert.is(run.status, 0, run.stderr);
  for (const file of plan.files) assert.is(readFileSync(host(n, file.path), 'utf8'), file.after, file.path);
  assert.equal(await readLog(n.standIns), [], 'no snap restart and no systemctl (no gates)');
  assert.is(n.readyzRequests(), 0);
  const [snapshot] = await manifests(n);
  assert.is(snapshot.status, 'written');
  assert.equal(snapshot.restartsOwed, plan.restarts);
  assert.ok(
    run.stdout.includes(`Not restarted (--no-restart): the running services do not use the new files until ${plan.restarts.map((s) => `snap restart ${s.replace(/^snap\./, '')}`).join(', ')}.\n`),
    run.stdout,
  );
});

// ---- rollback refusals, rollback of a rollback, snapshots ---------------------------------------------

/** A 1.28 node with the cis profile applied by --no-restart (fast: no gates), and its states. */
async function appliedNode(profile = 'cis'): Promise<{ n: LiveNode; original: Map<string, TreeEntry>; hardened: Map<string, TreeEntry>; snapshot: SnapshotManifest }> {
  const n = await liveNode('1.28');
  const original = await readTree(n.root);
  const run = await apply(n, '--profile', profile, '--yes', '--no-restart');
  assert.is(run.status, 0, run.stderr);
  return { n, original, hardened: await readTree(n.root), snapshot: (await manifests(n))[0] };
}

test('rollback refuses a drifted file (exit 1, nothing written) unless --force, which restores the original', async () => {
  const { n, original, snapshot } = await appliedNode();
  await fs.appendFile(n.args('kube-apiserver'), '--v=4\n');
  const drifted = await readTree(n.root);
  const refused = await rollback(n, '--yes', '--no-restart');
  assert.is(refused.status, 1, refused.stderr);
  assert.ok(refused.stderr.includes(`error: will not roll back ${snapshot.id}: /var/snap/microk8s/current/args/kube-apiserver changed since the apply\n`), refused.stderr);
  assert.match(refused.stderr, /^hint: .*--force/m);
  noDiff(drifted, await readTree(n.root), 'nothing written');
  assert.is((await manifests(n)).length, 1);

  const forced = await rollback(n, '--yes', '--no-restart', '--force');
  assert.is(forced.status, 0, forced.stderr);
  noDiff(original, await readTree(n.root), 'the snapshot restored over the drift');
  assert.equal(await readLog(n.standIns), []);
});

test('a rollback that meets a full disk while staging changes nothing and leaves no snapshot of the present state', async () => {
  const { n, hardened } = await appliedNode('baseline');
  const before = await manifests(n);
  // ENOSPC on the first temp file the restore stages next to an args file: nothing on the node has changed yet.
  const ops: FileOps = {
    ...realFileOps,
    writeNew: async (file, data, mode) => {
      if (file.includes('/args/.')) throw Object.assign(new Error(`ENOSPC: no space left on device, open '${file}'`), { code: 'ENOSPC' });
      return realFileOps.writeNew(file, data, mode);
    },
  };
  const run = await runInProcessWith(['rollback', '--root', n.root, '--yes', '--no-restart'], { change: { ops, services: systemServices({ env: { ...process.env, PATH: n.env.PATH } }) } });
  assert.is(run.status, 1, run.stderr);
  assert.match(run.stderr, /^error: no space left on device to stage \/var\/snap\/microk8s\/current\/args\/[a-z-]+ \(ENOSPC\); nothing was changed$/m);
  noDiff(hardened, await readTree(n.root), 'nothing written');
  assert.equal((await manifests(n)).map((m) => [m.id, m.status]), before.map((m) => [m.id, m.status]), 'no snapshot of the present state is left, and the apply is still the one to roll back');
});

test('rollback refuses when current points to another revision (exit 1)', async () => {
  const { n, snapshot } = await appliedNode('baseline');
  const other = path.join(n.root, 'var/snap/microk8s/9999');
  await fs.cp(n.dataDir, other, { recursive: true, verbatimSymlinks: true, filter: (source) => !source.endsWith('.sock') && !source.includes('.sock:') && !source.endsWith('etcd.socket:2379') });
  await fs.rm(path.join(n.root, 'var/snap/microk8s/current'));
  await fs.symlink('9999', path.join(n.root, 'var/snap/microk8s/current'));
  const before = await readTree(n.root);
  const run = await rollback(n, '--yes', '--no-restart');
  assert.is(run.status, 1, run.stderr);
  assert.ok(run.stderr.includes(`error: will not roll back ${snapshot.id}: current points to revision 9999, the snapshot was taken on ${n.revision}`), run.stderr);
  noDiff(before, await readTree(n.root), 'nothing written');
});

test('rollback refuses a snapshot whose copy does not match its checksum (exit 1)', async () => {
  const { n, hardened, snapshot } = await appliedNode('baseline');
  const copy = snapshot.files.find((f) => f.copy !== null)!;
  await fs.appendFile(path.join(n.stateDir, 'snapshots', snapshot.id, copy.copy!), 'tampered\n');
  const run = await rollback(n, '--yes', '--no-restart');
  assert.is(run.status, 1, run.stderr);
  assert.ok(run.stderr.includes(`error: snapshot ${snapshot.id} is damaged: the copy of ${copy.path} (${copy.copy}) does not match its recorded sha256\n`), run.stderr);
  noDiff(hardened, await readTree(n.root), 'nothing written');
});

for (const profile of PROFILES) {
  test(`rollback of a rollback brings back the hardened state (${profile})`, async () => {
    const { n, original, hardened, snapshot } = await appliedNode(profile);
    const first = await rollback(n, '--yes', '--no-restart');
    assert.is(first.status, 0, first.stderr);
    noDiff(original, await readTree(n.root), 'rolled back');
    const undo = (await manifests(n)).find((m) => m.kind === 'rollback')!;
    assert.match(first.stdout, new RegExp(`^Snapshot of the present state: ${undo.id}$`, 'm'));
    const second = await rollback(n, undo.id, '--yes', '--no-restart');
    assert.is(second.status, 0, second.stderr);
    noDiff(hardened, await readTree(n.root), 'the hardened state again');
    assert.ok(second.stdout.includes(`Restored ${undo.files.length} files`), second.stdout);
    assert.is((await manifests(n)).find((m) => m.id === snapshot.id)!.status, 'rolled-back');
  });
}

test('snapshots list, show, diff, prune --keep 1', async () => {
  const { n, snapshot } = await appliedNode('baseline');
  assert.is((await rollback(n, '--yes', '--no-restart')).status, 0);
  const [, undo] = await manifests(n);

  const list = await runBinAsync(['snapshots', 'list', '--root', n.root], n.env);
  assert.is(list.status, 0, list.stderr);
  assert.equal(list.stdout.split('\n').filter(Boolean), [
    `${snapshot.id}  apply    rolled-back     baseline  3 files  MicroK8s 1.28.0 r${n.revision}`,
    `${undo.id}  rollback written         baseline  3 files  MicroK8s 1.28.0 r${n.revision}`,
  ]);

  const show = await runBinAsync(['snapshots', 'show', snapshot.id, '--root', n.root], n.env);
  assert.is(show.status, 0, show.stderr);
  const lines = show.stdout.split('\n');
  assert.match(lines[0], new RegExp(`^${snapshot.id}: apply, rolled-back, profile baseline, MicroK8s 1\\.28\\.0 revision ${n.revision}, `));
  // --no-restart records `written` twice: once when written, once with the restarts owed.
  assert.equal(lines.filter((l) => /^ {2}\d{4}-/.test(l)).map((l) => l.trim().split(/\s+/)[1]), ['planned', 'written', 'rolled-back']);
  assert.match(show.stdout, /^ {2}~ \/var\/snap\/microk8s\/current\/args\/kube-apiserver {2}0660 .* sha256:[0-9a-f]{64} -> sha256:[0-9a-f]{64}$/m);

  const diff = await runBinAsync(['snapshots', 'diff', snapshot.id, '--root', n.root], n.env);
  assert.is(diff.status, 0, diff.stderr);
  // Rolled back: the node is as the snapshot.
  assert.is(diff.stdout, `Changes since snapshot ${snapshot.id} on ${n.root} (apply, profile baseline, MicroK8s 1.28.0)\n\nNo changes. The 3 files of the snapshot are as it holds them.\n`);
  const undoDiff = await runBinAsync(['snapshots', 'diff', undo.id, '--root', n.root], n.env);
  assert.match(undoDiff.stdout, /^ {4}- --authorization-mode=Node,RBAC\n {4}\+ --authorization-mode=AlwaysAllow$/m);
  assert.match(undoDiff.stdout, /^Changed: 3 files since the snapshot, 0 as it holds them\.$/m);

  // prune takes the lock: while another run holds it (this test process, alive), nothing is removed.
  const lockFile = path.join(n.stateDir, 'lock');
  await fs.writeFile(lockFile, `${JSON.stringify({ pid: process.pid, startedAt: '2026-11-22T18:00:00.000Z', bootId: null })}\n`, { mode: 0o600 });
  const held = await runBinAsync(['snapshots', 'prune', '--keep', '1', '--root', n.root], n.env);
  assert.is(held.status, 1);
  assert.is(held.stderr, `error: another harden run (pid ${process.pid}, since 2026-11-22 18:00:00 UTC) holds ${lockFile}\nhint: wait for it to finish; if pid ${process.pid} is not harden, remove ${lockFile} and try again\n`);
  assert.equal((await fs.readdir(path.join(n.stateDir, 'snapshots'))).sort(), [snapshot.id, undo.id].sort());
  await fs.unlink(lockFile);

  const prune = await runBinAsync(['snapshots', 'prune', '--keep', '1', '--root', n.root], n.env);
  assert.is(prune.status, 0, prune.stderr);
  assert.is(prune.stdout, `removed ${snapshot.id}\n`);
  assert.equal((await manifests(n)).map((m) => m.id), [undo.id]);
  assert.equal(await fs.readdir(path.join(n.stateDir, 'snapshots')), [undo.id]);
});

test.run();
