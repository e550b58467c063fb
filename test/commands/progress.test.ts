// The progress of apply's health gates: on a terminal (tmux) one line rewritten in place; in a pipe one line per
// change of what the gate waits for or of its last answer. The failing probe's reason shows from the start.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBinAsync } from '../helpers/cli.js';
import { makeLiveNode, type LiveNode } from '../helpers/live-node.js';
import { harden } from '../helpers/terminal.js';

const REASON = 'HTTP 500: [-]poststarthook/start-apiextensions-controllers failed: reason withheld';

const nodes: LiveNode[] = [];
async function failingNode(): Promise<LiveNode> {
  const node = await makeLiveNode({ version: '1.28' });
  nodes.push(node);
  // After the restart /readyz answers 500 while the new flag is there: the gate waits, then puts back.
  await node.rejectFlag('--authorization-mode=Node,RBAC');
  return node;
}

test.after(async () => {
  for (const node of nodes.splice(0)) await node.close();
});

test('a terminal: the gate is one line that changes in place (elapsed, limit, last answer), finished when the gate ends', async () => {
  const n = await failingNode();
  const t = harden(['apply', '--root', n.root, '--yes', '--health-timeout', '4', '--health-window', '1'], { env: n.env, columns: 200 });
  try {
    const waiting = (screen: string) => screen.split('\n').filter((line) => line.startsWith('after: waiting for'));
    await t.waitFor(`after: waiting for kube-apiserver /readyz — 1s of 4s, last: ${REASON}`);
    const second = await t.waitFor(`after: waiting for kube-apiserver /readyz — 2s of 4s, last: ${REASON}`);
    assert.equal(waiting(second), [`after: waiting for kube-apiserver /readyz — 2s of 4s, last: ${REASON}`], second);
    assert.is(await t.exited(), 3, t.screen());
    const screen = t.screen();
    // Still one line (its last poll, at 3s unless the machine is slow), finished before the error.
    assert.is(waiting(screen).length, 1, screen);
    assert.match(screen, new RegExp(`^after: waiting for kube-apiserver /readyz — [23]s of 4s, last: .*\\nerror: the change failed its health gate: kube-apiserver /readyz: HTTP 500`, 'm'), screen);
  } finally {
    t.close();
  }
});

test('not a terminal: one line per change, none per poll; the reason of the failing probe from the first', async () => {
  const n = await failingNode();
  const run = await runBinAsync(['apply', '--root', n.root, '--yes', '--health-timeout', '3', '--health-window', '1'], n.env);
  assert.is(run.status, 3, run.stderr);
  const progress = run.stderr.split('\n').filter((line) => / waiting for /.test(line));
  assert.equal(progress, [
    'before: waiting for snap.microk8s.daemon-kubelite to stay up 1s — 0s of 3s',
    `after: waiting for kube-apiserver /readyz — 0s of 3s, last: ${REASON}`,
    'after put-back: waiting for snap.microk8s.daemon-kubelite to stay up 1s — 0s of 3s',
  ]);
  assert.not.match(run.stderr, /\r|\u001b/);
});

test.run();
