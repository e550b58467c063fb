// What `rollback` shows before it restores and what `snapshots diff` shows, end to end on a node root: plan's
// annotated diff style, exactly; and a snapshot whose plan is not a plan's shape shown without its annotations.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runInProcessWith } from '../helpers/cli.js';
import { makeNode } from '../helpers/node-root.js';

const SCHEDULER = '/var/snap/microk8s/current/args/kube-scheduler';

async function appliedNode(): Promise<{ root: string; id: string }> {
  const root = await makeNode({ version: '1.28' });
  await fs.mkdir(path.join(root, 'var/lib'), { recursive: true });
  const run = await runInProcessWith(['--root', root, 'apply', '--only', 'kube-scheduler.bind-address', '--yes', '--no-restart']);
  assert.is(run.status, 0, run.stderr);
  const [id] = await fs.readdir(path.join(root, 'var/lib/harden/snapshots'));
  return { root, id };
}

const header = (what: string, id: string, root: string) => `${what} ${id} on ${root} (apply, profile baseline, MicroK8s 1.28.0)\n\nSymbols: + add, ~ change, - remove\n\n`;

test('snapshots diff, then rollback: the change and its reverse, with the rule, the service and a summary line', async () => {
  const { root, id } = await appliedNode();
  const diff = await runInProcessWith(['--root', root, 'snapshots', 'diff', id]);
  assert.is(diff.status, 0, diff.stderr);
  assert.is(
    diff.stdout,
    `${header('Changes since snapshot', id, root)}~ ${SCHEDULER} (snap.microk8s.daemon-kubelite)\n` +
      '    @@ -2,3 +2,4 @@\n      --leader-elect-lease-duration=60s\n      --leader-elect-renew-deadline=30s\n      --profiling=false\n    + --bind-address=127.0.0.1\n    # kube-scheduler.bind-address\n\n' +
      'Changed: 1 file since the snapshot, 0 as it holds them.\n',
  );
  const rollback = await runInProcessWith(['--root', root, 'rollback', '--yes', '--no-restart']);
  assert.is(rollback.status, 0, rollback.stderr);
  const [shown] = rollback.stdout.split('Snapshot of the present state: ');
  assert.is(
    shown,
    `Rollback of ${id} on ${root} (apply, profile baseline, MicroK8s 1.28.0)\n\nSymbols: + add, ~ change, - remove\n\n~ ${SCHEDULER} (snap.microk8s.daemon-kubelite)\n` +
      '    @@ -2,4 +2,3 @@\n      --leader-elect-lease-duration=60s\n      --leader-elect-renew-deadline=30s\n      --profiling=false\n    - --bind-address=127.0.0.1\n    # kube-scheduler.bind-address (undone)\n\n' +
      'Rollback: 1 file to restore, 0 to remove, 0 modes to put back; restarts: snap.microk8s.daemon-kubelite.\n',
  );
  const after = await runInProcessWith(['--root', root, 'snapshots', 'diff', id]);
  assert.is(after.stdout, `Changes since snapshot ${id} on ${root} (apply, profile baseline, MicroK8s 1.28.0)\n\nNo changes. The 1 file of the snapshot is as it holds it.\n`);
});

test('--no-color and NO_COLOR: no colour; FORCE_COLOR: plan\'s colours', async () => {
  const { root, id } = await appliedNode();
  const coloured = await runInProcessWith(['--root', root, 'snapshots', 'diff', id], { env: { FORCE_COLOR: '1' } });
  assert.ok(coloured.stdout.includes('\u001b[32m    + --bind-address=127.0.0.1\u001b[39m'), JSON.stringify(coloured.stdout));
  const plain = await runInProcessWith(['--root', root, 'snapshots', 'diff', id, '--no-color'], { env: { FORCE_COLOR: '1' } });
  assert.not.match(plain.stdout, '\u001b[');
});

test('a snapshot whose plan is not a plan\'s shape: the diffs without services or rules, never an internal error', async () => {
  for (const plan of [null, 'x', { files: 'x', restarts: 'x' }, { files: [1, null, { path: 5 }, { path: SCHEDULER, service: 7, edits: [null] }], restarts: [1, 'snap.microk8s.daemon-kubelite'] }]) {
    const { root, id } = await appliedNode();
    const manifestFile = path.join(root, 'var/lib/harden/snapshots', id, 'manifest.json');
    const manifest = JSON.parse(await fs.readFile(manifestFile, 'utf8'));
    await fs.writeFile(manifestFile, JSON.stringify({ ...manifest, plan }, null, 2), { mode: 0o600 });
    const diff = await runInProcessWith(['--root', root, 'snapshots', 'diff', id]);
    assert.is(diff.status, 0, `${JSON.stringify(plan)}: ${diff.stderr}`);
    assert.is(diff.stderr, '');
    assert.match(diff.stdout, new RegExp(`^~ ${SCHEDULER}\\n {4}@@ -2,3 \\+2,4 @@$`, 'm'));
    assert.not.match(diff.stdout, '# kube-scheduler');
    const rollback = await runInProcessWith(['--root', root, 'rollback', '--yes', '--no-restart']);
    assert.is(rollback.status, 0, `${JSON.stringify(plan)}: ${rollback.stderr}`);
    assert.not.match(rollback.stdout, '# kube-scheduler');
  }
});

test.run();
