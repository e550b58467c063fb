// apply as a person meets it, in a real pseudo-terminal (test/helpers/terminal.ts): the plan is shown once,
// then the checklist and the confirm; it is shown again only when the checklist changed it; and a successful
// apply ends with the command that undoes it.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SnapshotManifest } from '../../src/effects/snapshots.js';
import { runBinAsync } from '../helpers/cli.js';
import { suiteLiveNodes, type LiveNode } from '../helpers/live-node.js';
import { makeTempDir } from '../helpers/node-root.js';
import { harden } from '../helpers/terminal.js';

const FAST = ['--health-timeout', '10', '--health-window', '1'];
const TWO_RULES = ['--only', 'kube-scheduler.bind-address,kube-controller-manager.bind-address'];
const PLAN_HEADER = 'Plan for profile baseline';

const liveNode = suiteLiveNodes(test.after);

async function snapshotIds(stateDir: string): Promise<string[]> {
  return (await fs.readdir(path.join(stateDir, 'snapshots')).catch(() => [] as string[])).sort();
}

const count = (text: string, part: string) => text.split(part).length - 1;

test('terminal: every change kept at the checklist: the plan is shown once, then the confirm; yes applies and ends with the rollback line', async () => {
  const n = await liveNode();
  const terminal = harden(['--root', n.root, 'apply', ...TWO_RULES, ...FAST], { env: n.env, rows: 50 });
  try {
    await terminal.waitFor('Changes to make');
    terminal.keys('Enter');
    const asked = await terminal.waitFor('Apply these changes?');
    assert.is(count(asked, PLAN_HEADER), 1, asked);
    assert.is(count(asked, 'Plan: 2 to add, 0 to change, 0 to remove in 2 files'), 1, asked);
    terminal.type('y');
    terminal.keys('Enter');
    assert.is(await terminal.exited(), 0, terminal.screen());
    const [id] = await snapshotIds(n.stateDir);
    const screen = terminal.screen();
    assert.ok(screen.endsWith(`Applied and verified: 2 rules now pass.\nUndo with: harden --root ${n.root} rollback ${id}`), screen);
    assert.is(count(screen, PLAN_HEADER), 1, screen);
  } finally {
    terminal.close();
  }
});

test('terminal: a change deselected at the checklist: the rebuilt plan is shown again (once more), then the confirm', async () => {
  const n = await liveNode();
  const terminal = harden(['--root', n.root, 'apply', ...TWO_RULES, ...FAST], { env: n.env, rows: 50 });
  try {
    await terminal.waitFor('Changes to make');
    terminal.keys('Space');
    terminal.keys('Enter');
    const asked = await terminal.waitFor('Apply these changes?');
    assert.is(count(asked, PLAN_HEADER), 2, asked);
    assert.ok(asked.includes('Plan: 1 to add, 0 to change, 0 to remove in 1 file'), asked);
    terminal.keys('Enter'); // the default: No
    assert.is(await terminal.exited(), 1);
    assert.ok(terminal.screen().endsWith('Nothing was changed.'), terminal.screen());
    assert.equal(await snapshotIds(n.stateDir), []);
  } finally {
    terminal.close();
  }
});

test('--no-restart ends with the rollback line too, with the --root and --state-dir the rollback needs', async () => {
  const n = await liveNode();
  const stateDir = path.join(await makeTempDir('harden-state-'), 'state');
  const run = await runBinAsync(['apply', '--root', n.root, '--state-dir', stateDir, '--yes', '--no-restart', ...TWO_RULES], n.env);
  assert.is(run.status, 0, run.stderr);
  const [id] = await snapshotIds(stateDir);
  assert.ok(run.stdout.endsWith(`.\nUndo with: harden --root ${n.root} --state-dir ${stateDir} rollback ${id}\n`), run.stdout);
  const manifest = JSON.parse(await fs.readFile(path.join(stateDir, 'snapshots', id, 'manifest.json'), 'utf8')) as SnapshotManifest;
  assert.is(manifest.status, 'written');
  // The line is the command that works: run as printed, it rolls the apply back.
  const undo = await runBinAsync(['--root', n.root, '--state-dir', stateDir, 'rollback', id, '--yes', '--no-restart'], n.env);
  assert.is(undo.status, 0, undo.stderr);
});

test.run();
