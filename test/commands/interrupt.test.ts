// Signals during `harden apply` and `harden rollback`, in a real pseudo-terminal (tmux) on live test nodes:
// Ctrl-C is the terminal's own SIGINT; SIGTERM and SIGHUP are sent to the harden process. Before the first
// write a signal ends the run (130, nothing written); after it the node is put back (3, or 4); the third
// signal leaves the node as it is, names the rollback, and every command reports it until it is undone.
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBinAsync } from '../helpers/cli.js';
import { readTree, snapshotManifests, suiteLiveNodes, treeDiff, type LiveNode, type TreeEntry } from '../helpers/live-node.js';
import { readLog } from '../helpers/stand-ins.js';
import { harden, type Terminal } from '../helpers/terminal.js';

const KUBELITE = 'snap.microk8s.daemon-kubelite';
const RBAC = '--authorization-mode=Node,RBAC';

const liveNode = suiteLiveNodes(test.after);

/** harden in a terminal on the node, closed after `body` whatever happens. */
async function inTerminal(n: LiveNode, args: readonly string[], body: (t: Terminal) => Promise<void>): Promise<void> {
  const terminal = harden([...args.slice(0, 1), '--root', n.root, ...args.slice(1)], { env: n.env });
  try {
    await body(terminal);
  } finally {
    terminal.close();
  }
}

const manifests = (n: LiveNode) => snapshotManifests(n.stateDir);

// The restarts only: the pre-flight's `snap version` is asked before any wait, and is no restart.
const snapRestarts = async (n: LiveNode) =>
  (await readLog(n.standIns, 'snap')).filter((line) => line.startsWith('snap restart ')).map((line) => line.replace(/^snap restart microk8s\./, 'snap.microk8s.'));
const lockGone = (n: LiveNode) => !existsSync(path.join(n.stateDir, 'lock'));

function noDiff(before: Map<string, TreeEntry>, after: Map<string, TreeEntry>, what: string): void {
  assert.equal(treeDiff(before, after), [], what);
}

// ---- after the first write: put back ------------------------------------------------------------------

test('Ctrl-C during the health gate after the restart: the gate is cut short, the node put back, exit 3', async () => {
  const n = await liveNode();
  await n.rejectFlag(RBAC);
  const original = await readTree(n.root);
  await inTerminal(n, ['apply', '--yes', '--health-timeout', '120', '--health-window', '1'], async (t) => {
    await t.waitFor(/after: waiting for kube-apiserver \/readyz — \d+s of 120s, last: HTTP 500/);
    const started = Date.now();
    t.keys('C-c');
    assert.is(await t.exited(), 3, t.screen());
    assert.ok(Date.now() - started < 15_000, 'not the 120 s of the gate');
    const screen = t.screen();
    const [snapshot] = await manifests(n);
    assert.match(screen, /^error: interrupted by SIGINT after the first write$/m, screen);
    assert.ok(screen.includes(`Putting the node back from snapshot ${snapshot.id}\n`), screen);
    assert.match(screen, /^Put back: .*\/args\/kube-apiserver.* restored; snap\.microk8s\.daemon-kubelite restarted and healthy again\.$/m, screen);
    assert.is(snapshot.status, 'put-back');
    assert.equal(snapshot.history.map((h) => h.status), ['planned', 'written', 'restarted', 'put-back']);
  });
  noDiff(original, await readTree(n.root), 'every file as before, byte for byte');
  assert.equal(await snapRestarts(n), [KUBELITE, KUBELITE], 'restarted, then restarted again on the files put back');
  assert.ok(lockGone(n), 'the lock is released');
});

for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
  test(`${signal} sent to harden during the gate after the restart is taken as the first Ctrl-C: put back, exit 3`, async () => {
    const n = await liveNode();
    await n.rejectFlag(RBAC);
    const original = await readTree(n.root);
    await inTerminal(n, ['apply', '--yes', '--health-timeout', '120', '--health-window', '1'], async (t) => {
      await t.waitFor(/after: waiting for kube-apiserver \/readyz/);
      process.kill(t.pid(), signal);
      assert.is(await t.exited(), 3, t.screen());
      assert.match(t.screen(), new RegExp(`^error: interrupted by ${signal} after the first write$`, 'm'));
    });
    noDiff(original, await readTree(n.root), 'every file as before');
    assert.equal(await snapRestarts(n), [KUBELITE, KUBELITE]);
    assert.is((await manifests(n))[0].status, 'put-back');
    assert.ok(lockGone(n));
  });
}

// ---- before the first write: 130, nothing written -----------------------------------------------------

/** Nothing written, no snapshot left, nothing restarted, and the lock released. */
async function nothingChanged(n: LiveNode, original: Map<string, TreeEntry>): Promise<void> {
  noDiff(original, await readTree(n.root), 'nothing written');
  assert.equal(await manifests(n), []);
  assert.equal(await snapRestarts(n), []);
  assert.ok(lockGone(n));
}

test('Ctrl-C at the confirm prompt: exit 130, nothing written, no snapshot, no lock', async () => {
  const n = await liveNode();
  const original = await readTree(n.root);
  await inTerminal(n, ['apply', '--health-timeout', '20', '--health-window', '1'], async (t) => {
    await t.waitFor('Changes to make');
    t.keys('Enter');
    await t.waitFor('Apply these changes?');
    t.keys('C-c');
    assert.is(await t.exited(), 130, t.screen());
    assert.match(t.screen(), /^error: interrupted at the prompt: nothing was written$/m);
  });
  await nothingChanged(n, original);
});

test('Ctrl-C during the health gate before the change: exit 130 at once, nothing written, no snapshot, no lock', async () => {
  const n = await liveNode();
  await n.setUnhealthy(true);
  const original = await readTree(n.root);
  await inTerminal(n, ['apply', '--yes', '--health-timeout', '120', '--health-window', '1'], async (t) => {
    await t.waitFor(/before: waiting for kube-apiserver \/readyz — \d+s of 120s, last: HTTP 500/);
    t.keys('C-c');
    assert.is(await t.exited(), 130, t.screen());
    assert.match(t.screen(), /^error: interrupted by SIGINT before the first write: nothing was written$/m);
  });
  await nothingChanged(n, original);
});

test('SIGTERM at the confirm prompt ends the question as Ctrl-C does: exit 130, nothing written', async () => {
  const n = await liveNode();
  const original = await readTree(n.root);
  await inTerminal(n, ['apply', '--health-timeout', '20', '--health-window', '1'], async (t) => {
    await t.waitFor('Changes to make');
    t.keys('Enter');
    await t.waitFor('Apply these changes?');
    process.kill(t.pid(), 'SIGTERM');
    assert.is(await t.exited(), 130, t.screen());
  });
  await nothingChanged(n, original);
});

// ---- three times: left as it is, reported until rolled back -------------------------------------------

test('three Ctrl-C: the second says what the third abandons, the third leaves (exit 4, harden rollback ID); every command reports it until the rollback', async () => {
  const n = await liveNode();
  // Once rejected, the API server stays broken: the put-back's gate waits, and can be left.
  await n.rejectFlag(RBAC, { sticky: true });
  const original = await readTree(n.root);
  let id = '';
  await inTerminal(n, ['apply', '--yes', '--health-timeout', '120', '--health-window', '1'], async (t) => {
    await t.waitFor(/^after: waiting for kube-apiserver/m);
    t.keys('C-c');
    await t.waitFor(/^after put-back: waiting for kube-apiserver/m);
    [{ id }] = await manifests(n);
    t.keys('C-c');
    await t.waitFor(`interrupt again to leave the node as it is now: the files are back and ${KUBELITE} restarted, not yet seen healthy; harden rollback ${id} restores it`);
    t.keys('C-c');
    assert.is(await t.exited(), 4, t.screen());
    const screen = t.screen();
    assert.match(screen, new RegExp(`^error: interrupted three times: the node is left as it is now: the files are back and ${KUBELITE} restarted, not yet seen healthy$`, 'm'), screen);
    assert.match(screen, new RegExp(`^hint: run harden rollback ${id} to put it back$`, 'm'), screen);
  });
  const [snapshot] = await manifests(n);
  assert.is(snapshot.status, 'interrupted');
  assert.equal(snapshot.history.map((h) => h.status), ['planned', 'written', 'restarted', 'interrupted']);
  assert.ok(lockGone(n));

  const warning = `warning: an apply was interrupted (snapshot ${id}, status interrupted): the node may run an unverified change; harden rollback ${id} puts it back\n`;
  const check = await runBinAsync(['check', '--root', n.root], n.env);
  assert.ok(check.stderr.includes(warning), check.stderr);
  const plan = await runBinAsync(['plan', '--root', n.root], n.env);
  assert.ok(plan.stderr.includes(warning), plan.stderr);
  const apply = await runBinAsync(['apply', '--root', n.root, '--yes', '--health-timeout', '1', '--health-window', '1'], n.env);
  assert.ok(apply.stderr.includes(warning), apply.stderr);
  const list = await runBinAsync(['snapshots', 'list', '--root', n.root], n.env);
  assert.ok(list.stderr.includes(warning), list.stderr);
  assert.match(list.stdout, new RegExp(`^${id}  apply    interrupted     `, 'm'));

  // The rollback puts the node back (the API server mends once the flag is gone) and clears the report.
  await n.rejectFlag(RBAC);
  await n.setUnhealthy(false);
  const rollback = await runBinAsync(['rollback', id, '--root', n.root, '--yes', '--health-timeout', '10', '--health-window', '1'], n.env);
  assert.is(rollback.status, 0, rollback.stderr);
  noDiff(original, await readTree(n.root, ['var/lib']), 'the node is as before the apply');
  for (const args of [['check'], ['plan'], ['snapshots', 'list']]) {
    const run = await runBinAsync([...args, '--root', n.root], n.env);
    assert.not.ok(run.stderr.includes('interrupted'), `${args.join(' ')}: ${run.stderr}`);
  }
});

test('an apply killed after its restart (SIGKILL: no put-back) is reported by check; not while a live run holds the lock', async () => {
  const n = await liveNode();
  await n.rejectFlag(RBAC);
  await inTerminal(n, ['apply', '--yes', '--health-timeout', '120', '--health-window', '1'], async (t) => {
    await t.waitFor(/after: waiting for kube-apiserver/);
    // While it runs, its change is going on: nothing to report.
    const during = await runBinAsync(['check', '--root', n.root], n.env);
    assert.not.ok(during.stderr.includes('interrupted'), during.stderr);
    process.kill(t.pid(), 'SIGKILL');
    assert.is(await t.exited(), 137);
  });
  const [snapshot] = await manifests(n);
  assert.is(snapshot.status, 'restarted');
  const check = await runBinAsync(['check', '--root', n.root], n.env);
  assert.ok(
    check.stderr.includes(`warning: an apply was interrupted (snapshot ${snapshot.id}, status restarted): the node may run an unverified change; harden rollback ${snapshot.id} puts it back\n`),
    check.stderr,
  );
});

test('rollback: Ctrl-C during its gate after the restart puts the node back as the rollback found it, exit 3', async () => {
  const n = await liveNode();
  const applied = await runBinAsync(['apply', '--root', n.root, '--yes', '--health-timeout', '10', '--health-window', '1'], n.env);
  assert.is(applied.status, 0, applied.stderr);
  const afterApply = await readTree(n.root);
  // The API server fails after the rollback's restart, until the test mends it.
  await n.setUnhealthy(true);
  await inTerminal(n, ['rollback', '--yes', '--health-timeout', '120', '--health-window', '1'], async (t) => {
    await t.waitFor(/^after: waiting for kube-apiserver/m);
    t.keys('C-c');
    await t.waitFor(/^after put-back: waiting for kube-apiserver/m);
    await n.setUnhealthy(false);
    assert.is(await t.exited(), 3, t.screen());
    assert.match(t.screen(), /^error: interrupted by SIGINT after the first write$/m);
  });
  noDiff(afterApply, await readTree(n.root), 'the node as the rollback found it');
  assert.ok(lockGone(n));
});

test.run();
