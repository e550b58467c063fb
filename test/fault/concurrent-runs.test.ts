// Ten `harden rollback` processes started at once against one node whose lock a dead run left: at most one may
// get in. Each run that gets in is held inside its first `snap restart` (a stand-in hook that waits for the
// test) until every other run has ended, so the runs found waiting there are runs inside at the same moment:
// the count is exact, with no timing in it.
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBinAsync, type Run } from '../helpers/cli.js';
import { makeLiveNode, type LiveNode } from '../helpers/live-node.js';
import { deadPid } from '../helpers/lock-race.js';

const RUNS = 10;
const ROUNDS = 6;
const GATE = ['--health-timeout', '10', '--health-window', '0'];

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
      const runs = Array.from({ length: RUNS }, () => runBinAsync(['rollback', '--root', n.root, '--yes', ...GATE], n.env).finally(() => void (ended += 1)));
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
        const message = `error: another harden run (pid ${holders[0]}) holds ${n.stateDir}/lock\n`;
        for (const r of refused) assert.ok(r.stderr.startsWith(message), r.stderr);
      }
    }
    assert.equal(insideAtOnce, Array(ROUNDS).fill(1), 'runs inside at once, round by round');
  } finally {
    await n.close();
  }
});

test.run();
