// `harden apply --rollout ID`: the id is recorded in the snapshot's manifest and listed by `snapshots list
// --json`, so a rollout over many nodes (the Ansible collection) can undo exactly its own snapshots.
import { promises as fs } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBinAsync } from '../helpers/cli.js';
import { readTree, snapshotManifests, suiteLiveNodes, treeDiff } from '../helpers/live-node.js';

const liveNode = suiteLiveNodes(test.after);
const FAST = ['--health-timeout', '10', '--health-window', '0'];

test('apply --rollout ID: the snapshot records the rollout id, and snapshots list --json shows it', async () => {
  const n = await liveNode();
  const applied = await runBinAsync(['apply', '--root', n.root, '--yes', '--rollout', 'r-2026.12.06:1', ...FAST], n.env);
  assert.is(applied.status, 0, applied.stderr);
  const [manifest, ...more] = await snapshotManifests(n.stateDir);
  assert.is(more.length, 0);
  assert.is(manifest.rollout, 'r-2026.12.06:1');
  const listed = await runBinAsync(['snapshots', 'list', '--root', n.root, '--json'], n.env);
  assert.is(listed.status, 0, listed.stderr);
  assert.equal(
    (JSON.parse(listed.stdout) as { id: string; rollout?: string }[]).map((s) => [s.id, s.rollout]),
    [[manifest.id, 'r-2026.12.06:1']],
  );
});

test('apply without --rollout: the manifest has no rollout field', async () => {
  const n = await liveNode();
  const applied = await runBinAsync(['apply', '--root', n.root, '--yes', ...FAST], n.env);
  assert.is(applied.status, 0, applied.stderr);
  const [manifest] = await snapshotManifests(n.stateDir);
  assert.ok(!('rollout' in manifest), JSON.stringify(manifest));
});

test('apply --rollout with a malformed id: exit 1 before the lock, nothing written', async () => {
  const n = await liveNode();
  const before = await readTree(n.root, []);
  const refused = await runBinAsync(['apply', '--root', n.root, '--yes', '--rollout', 'a b', ...FAST], n.env);
  assert.is(refused.status, 1);
  assert.is(refused.stdout, '');
  assert.is(
    refused.stderr,
    `error: --rollout takes 1 to 64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit (got "a b")\nhint: for example --rollout 2026-12-06T23-50\n`,
  );
  assert.equal(treeDiff(before, await readTree(n.root, [])), []);
  assert.is(await fs.stat(n.stateDir).then(() => true, () => false), false);
});

test.run();
