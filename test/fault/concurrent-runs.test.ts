// Ten `harden rollback` processes started at once against one node whose lock a dead run left: at most one may
// get in. In the first test each run that gets in is held inside its first `snap restart` (a stand-in hook that
// waits for the test) until every other run has ended, so the runs found waiting there are runs inside at the
// same moment: the count is exact, with no timing in it. The second is the plain `rollback --yes --no-restart`:
// runs that get in one after the other find nothing left to roll back, so exactly one may roll back.
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBinAsync, type Run } from '../helpers/cli.js';
import { makeLiveNode, type LiveNode } from '../helpers/live-node.js';
import { deadPid } from '../helpers/lock-race.js';

const RUNS = 10;
const ROUNDS = 6;
const GATE = ['--health-timeout', '10', '--health-window', '0'];

/**
 * Starts `count` harden runs that wait, once node is up and before harden is loaded, until all of them are
 * up: they then meet the lock at nearly the same moment (node's own start-up no longer spreads them out).
 */
async function startTogether(count: number, args: readonly string[], env: Record<string, string>): Promise<Promise<Run>[]> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'harden-barrier-'));
  const barrier = path.join(dir, 'barrier.cjs');
  await fs.writeFile(
    barrier,
    `const fs = require('node:fs');\nfs.writeFileSync(${JSON.stringify(dir)} + '/ready-' + process.pid, '');\nconst cell = new Int32Array(new SharedArrayBuffer(4));\nwhile (!fs.existsSync(${JSON.stringify(`${dir}/go`)})) Atomics.wait(cell, 0, 0, 1);\n`,
  );
  const runs = Array.from({ length: count }, () => runBinAsync(args, { ...env, NODE_OPTIONS: `--require ${barrier}` }));
  while ((await fs.readdir(dir)).filter((name) => name.startsWith('ready-')).length < count) await new Promise((resolve) => setTimeout(resolve, 10));
  await fs.writeFile(path.join(dir, 'go'), '');
  void Promise.all(runs).finally(() => fs.rm(dir, { recursive: true, force: true }));
  return runs;
}

async function writeStaleLock(n: LiveNode): Promise<void> {
  const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  await fs.writeFile(path.join(n.stateDir, 'lock'), `${JSON.stringify({ pid: await deadPid(), startedAt: '2026-01-01T00:00:00.000Z', bootId })}\n`, { mode: 0o600 });
}

test(`${RUNS} rollbacks at once against a dead run's lock, ${ROUNDS} rounds: one gets in, the others are refused naming it`, async () => {
  const n = await makeLiveNode({ version: '1.28' });
  try {
    const inside = path.join(n.standIns.dir, 'inside');
    const release = path.join(n.standIns.dir, 'release');
    // Each run that restarts a unit notes its pid (the parent of the stand-in snap) and waits for the test.
    await fs.writeFile(path.join(n.standIns.dir, 'hook'), `cut -d' ' -f4 /proc/$PPID/stat >> ${inside}\nwhile [ ! -e ${release} ]; do sleep 0.02; done\n`);

    const insideAtOnce: number[] = [];
    for (let round = 1; round <= ROUNDS; round += 1) {
      // Something to roll back: one change applied without a restart.
      const applied = await runBinAsync(['apply', '--root', n.root, '--only', 'kube-scheduler.bind-address', '--yes', '--no-restart'], n.env);
      assert.is(applied.status, 0, applied.stderr);
      await fs.rm(inside, { force: true });
      await fs.rm(release, { force: true });
      await writeStaleLock(n);
      let ended = 0;
      const runs = (await startTogether(RUNS, ['rollback', '--root', n.root, '--yes', ...GATE], n.env)).map((run) => run.finally(() => void (ended += 1)));
      const waiting = () => (existsSync(inside) ? readFileSync(inside, 'utf8').split('\n').filter(Boolean) : []);
      // Not a timing assertion: a bound so that a run stuck for good fails the test instead of hanging it.
      for (let polls = 0; ended + waiting().length < RUNS; polls += 1) {
        if (polls === 15_000) throw new Error(`round ${round}: after 5 minutes, ${ended} runs ended and ${waiting().length} wait inside`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const holders = waiting();
      insideAtOnce.push(holders.length);
      await fs.writeFile(release, '');
      const results: Run[] = await Promise.all(runs);
      const refused = results.filter((r) => r.status === 1);
      assert.is(results.filter((r) => r.status === 0).length, holders.length, results.map((r) => r.stderr).join('\n'));
      assert.is(refused.length, RUNS - holders.length);
      if (holders.length === 1) {
        const message = new RegExp(`^error: another harden run \\(pid ${holders[0]}, since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC\\) holds ${n.stateDir}/lock\n`);
        for (const r of refused) assert.match(r.stderr, message, r.stderr);
      }
    }
    assert.equal(insideAtOnce, Array(ROUNDS).fill(1), 'runs inside at once, round by round');
  } finally {
    await n.close();
  }
});

test(`${RUNS} rollbacks --no-restart at once against a dead run's lock, ${ROUNDS} rounds: exactly one rolls back, the others are refused`, async () => {
  const n = await makeLiveNode({ version: '1.28' });
  try {
    const outcomes: string[] = [];
    for (let round = 1; round <= ROUNDS; round += 1) {
      const applied = await runBinAsync(['apply', '--root', n.root, '--only', 'kube-scheduler.bind-address', '--yes', '--no-restart'], n.env);
      assert.is(applied.status, 0, applied.stderr);
      await writeStaleLock(n);
      const results = await Promise.all(await startTogether(RUNS, ['rollback', '--root', n.root, '--yes', '--no-restart'], n.env));
      // One run rolls the apply back. The others are refused by its lock or, coming after it, find nothing left
      // to roll back; a run that got in beside it would roll back too.
      const rolledBack = results.filter((r) => r.status === 0).length;
      const heldOff = results.filter((r) => r.status === 1 && /^error: another harden run \(pid \d+, since [^)]+\) holds /.test(r.stderr)).length;
      const nothingLeft = results.filter((r) => r.status === 1 && r.stderr.startsWith('error: no apply to roll back')).length;
      const tookOver = results.filter((r) => r.stderr.includes('note: took over ')).length;
      outcomes.push(`rolled back ${rolledBack}, refused ${heldOff + nothingLeft} of ${RUNS - rolledBack}, took over ${tookOver > 1 ? tookOver : '≤1'}`);
    }
    assert.equal(outcomes, Array(ROUNDS).fill(`rolled back 1, refused ${RUNS - 1} of ${RUNS - 1}, took over ≤1`), 'round by round');
  } finally {
    await n.close();
  }
});

test.run();
