// What a run killed part-way leaves, and how the next run deals with it: temp files of dead harden processes
// and snapshots taken part-way are removed (and reported) by the next apply or rollback, a live process's temp
// file is kept, and the lock is only ever created whole, so a kill never leaves a lock without a pid.
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { acquireLock } from '../../src/effects/lock.js';
import { runBin, runInProcessWith } from '../helpers/cli.js';
import { journalingOps } from '../helpers/durable-ops.js';
import { readTree } from '../helpers/live-node.js';
import { makeNode, makeTempDir } from '../helpers/node-root.js';
import { sameEntry, withoutTemps } from './crash-trial.js';

const ARGS = 'var/snap/microk8s/6089/args';
const LOCKS = 'var/snap/microk8s/6089/var/lock';

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

test('rollback removes the temp files and the part-taken snapshot killed runs left, says so, and keeps a live run’s temp file', async () => {
  const root = await makeNode({ version: '1.28' });
  const stateDir = path.join(root, 'var/lib/harden');
  const original = await readTree(root);
  const applied = await runInProcessWith(['apply', '--root', root, '--yes', '--profile', 'cis', '--no-restart']);
  assert.is(applied.status, 0, applied.stderr);
  const [id] = await fs.readdir(path.join(stateDir, 'snapshots'));
  const dead = await deadPid();
  const sleeper = spawn('sleep', ['30']);
  try {
    const plant = async (rel: string, text: string) => {
      await fs.mkdir(path.dirname(path.join(root, rel)), { recursive: true });
      await fs.writeFile(path.join(root, rel), text);
    };
    await plant(`${ARGS}/.kube-apiserver.harden-${dead}-0badcafe.tmp`, '--authorization-mode=No');
    await plant(`${LOCKS}/.cis-hardening.harden-${dead}-0badcafe.tmp`, '');
    await plant(`var/lib/harden/.lock.harden-${dead}-0badcafe.tmp`, '{"pid":');
    await plant(`var/lib/harden/snapshots/${id}/.manifest.json.harden-${dead}-0badcafe.tmp`, '{');
    await plant('var/lib/harden/snapshots/20261122T000000Z-dead/01-kube-apiserver', '--secure-port');
    await plant(`${ARGS}/.kubelet.harden-${sleeper.pid}-0badcafe.tmp`, 'a live run is writing this');
    await plant('var/lib/harden/lock', `${JSON.stringify({ pid: dead, startedAt: '2026-11-22T18:00:00.000Z', bootId: null })}\n`);

    const run = runBin(['rollback', '--root', root, '--yes', '--no-restart']);
    assert.is(run.status, 0, run.stderr);
    const left = `, left by harden pid ${dead}, which no longer runs`;
    assert.equal(run.stderr.split('\n').filter((line) => line.startsWith('note: ')), [
      `note: took over ${stateDir}/lock from harden pid ${dead}, which no longer runs`,
      `note: removed the incomplete snapshot 20261122T000000Z-dead (${stateDir}/snapshots/20261122T000000Z-dead), left by a run stopped while taking it`,
      `note: removed ${stateDir}/.lock.harden-${dead}-0badcafe.tmp${left}`,
      `note: removed ${stateDir}/snapshots/${id}/.manifest.json.harden-${dead}-0badcafe.tmp${left}`,
      `note: removed /${ARGS}/.kube-apiserver.harden-${dead}-0badcafe.tmp${left}`,
      `note: removed /${LOCKS}/.cis-hardening.harden-${dead}-0badcafe.tmp${left}`,
    ]);
    const after = await readTree(root, []);
    const temps = withoutTemps(after).temps;
    assert.equal(temps, [`${ARGS}/.kubelet.harden-${sleeper.pid}-0badcafe.tmp`], 'only the live run’s temp file is left');
    const node = withoutTemps(await readTree(root)).tree;
    assert.equal([...new Set([...original.keys(), ...node.keys()])].filter((rel) => !sameEntry(original.get(rel), node.get(rel))), [], 'every original is back');
    assert.equal((await fs.readdir(path.join(stateDir, 'snapshots'))).length, 2, 'the apply’s snapshot and the rollback’s own');
  } finally {
    sleeper.kill();
  }
});

test('apply removes the temp files a killed apply left next to the files it writes, and says so', async () => {
  const root = await makeNode({ version: '1.28' });
  const dead = await deadPid();
  await fs.writeFile(path.join(root, ARGS, `.kubelet.harden-${dead}-00c0ffee.tmp`), '--read-only');
  const run = runBin(['apply', '--root', root, '--yes', '--profile', 'cis', '--no-restart']);
  assert.is(run.status, 0, run.stderr);
  assert.equal(run.stderr.split('\n').filter((line) => line.startsWith('note: ')), [`note: removed /${ARGS}/.kubelet.harden-${dead}-00c0ffee.tmp, left by harden pid ${dead}, which no longer runs`]);
  assert.equal(withoutTemps(await readTree(root)).temps, []);
});

test('the lock is created whole: a complete temp file linked to its name, so a kill never leaves a lock without a pid', async () => {
  const dir = await makeTempDir();
  const stateDir = path.join(dir, 'state');
  const ops = journalingOps(dir);
  const lock = await acquireLock(ops, stateDir, 4242, { clock: () => new Date('2026-11-22T18:30:00Z'), bootId: async () => 'boot-a' });
  const text = `${JSON.stringify({ pid: 4242, startedAt: '2026-11-22T18:30:00.000Z', bootId: 'boot-a' })}\n`;
  const shown = ops.journal.map((op) => {
    const name = (p: string) => path.relative(dir, p).replace(/harden-\d+-[0-9a-f]+/, 'harden-PID-HEX');
    if (op.op === 'writeNew') return `writeNew ${name(op.path)} ${op.data.toString('utf8') === text ? 'with the whole lock' : JSON.stringify(op.data.toString('utf8'))}`;
    return 'from' in op ? `${op.op} ${name(op.from)} ${name(op.to)}` : `${op.op} ${name(op.path)}`;
  });
  assert.equal(shown, [
    'mkdir state',
    'fsyncDir ',
    'writeNew state/.lock.harden-PID-HEX.tmp with the whole lock',
    'link state/.lock.harden-PID-HEX.tmp state/lock',
    'unlink state/.lock.harden-PID-HEX.tmp',
  ]);
  assert.is(await fs.readFile(path.join(stateDir, 'lock'), 'utf8'), text);
  await lock.release();
  assert.equal(await fs.readdir(dir), [], 'released: the lock, and the state dir it created, are gone');
});

test.run();
