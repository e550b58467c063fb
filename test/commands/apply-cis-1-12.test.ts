// harden apply --profile cis-1-12 --no-restart on a node laid out from each fixture version: the plan has no
// problems, the apply succeeds, every rule that failed now passes (what was BLOCKED stays BLOCKED, for the same
// reasons), a second plan has nothing to change, and rollback puts back every file, mode and owner. And one
// live run (test/helpers/live-node.ts): the restart and the health gates, then a rollback with its restart.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBinAsync } from '../helpers/cli.js';
import { makeLiveNode, readTree, treeDiff } from '../helpers/live-node.js';
import { makeNode } from '../helpers/node-root.js';
import { fixtureVersions } from '../helpers/paths.js';
import { readLog } from '../helpers/stand-ins.js';

interface CheckDocument {
  readonly results: ReadonlyArray<{ readonly id: string; readonly status: string; readonly reason: string }>;
}

const PROFILE = ['--profile', 'cis-1-12'];

async function check(root: string): Promise<CheckDocument> {
  const run = await runBinAsync(['check', '--root', root, ...PROFILE, '--json']);
  assert.ok(run.status === 0 || run.status === 2, run.stderr);
  return JSON.parse(run.stdout) as CheckDocument;
}

const withStatus = (doc: CheckDocument, status: string) => doc.results.filter((r) => r.status === status).map((r) => r.id);

for (const version of fixtureVersions) {
  test(`${version}: apply --profile cis-1-12 --no-restart fixes every failing rule; a second plan is empty; rollback restores the node`, async () => {
    const root = await makeNode({ version });
    const original = await readTree(root);
    const before = await check(root);
    assert.ok(withStatus(before, 'FAIL').length > 0, 'something to fix');

    const plan = await runBinAsync(['plan', '--root', root, ...PROFILE, '--json']);
    assert.is(plan.status, 0, plan.stderr);
    assert.equal((JSON.parse(plan.stdout) as { problems: unknown[] }).problems, []);

    const applied = await runBinAsync(['apply', '--root', root, ...PROFILE, '--yes', '--no-restart']);
    assert.is(applied.status, 0, applied.stderr);
    assert.match(applied.stdout, /^Not restarted \(--no-restart\): /m);

    const after = await check(root);
    assert.equal(withStatus(after, 'FAIL'), []);
    assert.equal(withStatus(after, 'BLOCKED'), withStatus(before, 'BLOCKED'));
    const reasons = (doc: CheckDocument) => doc.results.filter((r) => r.status === 'BLOCKED').map((r) => r.reason);
    assert.equal(reasons(after), reasons(before));
    assert.equal(withStatus(after, 'MANUAL').length, 11);

    const again = await runBinAsync(['plan', '--root', root, ...PROFILE, '--detailed-exitcode']);
    assert.is(again.status, 0, again.stdout);
    assert.match(again.stdout, /^No changes\./m);

    const rolledBack = await runBinAsync(['rollback', '--root', root, '--yes', '--no-restart']);
    assert.is(rolledBack.status, 0, rolledBack.stderr);
    assert.equal(treeDiff(original, await readTree(root)), [], 'every file, mode and owner as before');
  });
}

test('1.36, live: apply --profile cis-1-12 restarts kubelite once, passes its gates; rollback restores the node', async () => {
  const n = await makeLiveNode({ version: '1.36' });
  try {
    const FAST = ['--health-timeout', '10', '--health-window', '1'];
    const original = await readTree(n.root);
    const applied = await runBinAsync(['apply', '--root', n.root, ...PROFILE, '--yes', ...FAST], n.env);
    assert.is(applied.status, 0, applied.stderr);
    assert.match(applied.stdout, /^Applied and verified: \d+ rules now pass\.$/m);
    const restarts = async () => (await readLog(n.standIns, 'snap')).filter((line) => line.startsWith('snap restart '));
    assert.equal(await restarts(), ['snap restart microk8s.daemon-kubelite']);
    const after = await runBinAsync(['check', '--root', n.root, ...PROFILE, '--json'], n.env);
    assert.equal(withStatus(JSON.parse(after.stdout) as CheckDocument, 'FAIL'), []);

    const rolledBack = await runBinAsync(['rollback', '--root', n.root, '--yes', ...FAST], n.env);
    assert.is(rolledBack.status, 0, rolledBack.stderr);
    assert.equal(await restarts(), ['snap restart microk8s.daemon-kubelite', 'snap restart microk8s.daemon-kubelite']);
    assert.equal(treeDiff(original, await readTree(n.root)), []);
  } finally {
    await n.close();
  }
});

test.run();
