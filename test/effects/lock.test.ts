import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { realFileOps } from '../../src/effects/file-ops.js';
import { acquireLock, pidIsAlive } from '../../src/effects/lock.js';
import { makeTempDir } from '../helpers/node-root.js';
import { refusal } from '../helpers/refusal.js';


async function stateDir(): Promise<string> {
  return path.join(await makeTempDir(), 'state');
}

async function writeLock(dir: string, pid: number, bootId: string | null = null): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.writeFile(path.join(dir, 'lock'), `${JSON.stringify({ pid, startedAt: '2026-11-22T18:00:00.000Z', bootId })}\n`);
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

test('acquireLock writes a 0600 lock with the pid and start time; release removes it', async () => {
  const dir = await stateDir();
  const lock = await acquireLock(realFileOps, dir, 4242, { clock: () => new Date('2026-11-22T18:30:00Z'), bootId: async () => 'boot-a' });
  assert.is(lock.tookOverFrom, null);
  const file = path.join(dir, 'lock');
  assert.equal(JSON.parse(await fs.readFile(file, 'utf8')), { pid: 4242, startedAt: '2026-11-22T18:30:00.000Z', bootId: 'boot-a' });
  assert.is((await fs.stat(file)).mode & 0o777, 0o600);
  assert.is((await fs.stat(dir)).mode & 0o777, 0o700);
  await lock.release();
  assert.equal(await fs.readdir(path.dirname(dir)), [], 'the lock and the state dir it created are gone');
  await lock.release(); // twice: fine
});

test('release removes the state dirs the lock created while they stay empty, and keeps any that hold something', async () => {
  const base = await makeTempDir();
  const dir = path.join(base, 'var/lib/harden');
  const lock = await acquireLock(realFileOps, dir);
  assert.is((await fs.stat(path.join(base, 'var/lib'))).mode & 0o777, 0o755, 'created parents are 0755, as a system has them');
  assert.is((await fs.stat(dir)).mode & 0o777, 0o700, 'the state dir alone is private');
  await lock.release();
  assert.equal(await fs.readdir(base), [], 'a run that left nothing leaves no directory behind');

  const again = await acquireLock(realFileOps, dir);
  await fs.mkdir(path.join(dir, 'snapshots'));
  await again.release();
  assert.equal(await fs.readdir(dir), ['snapshots'], 'a state dir with snapshots stays');

  await fs.mkdir(path.join(base, 'kept'));
  const existing = await acquireLock(realFileOps, path.join(base, 'kept'));
  await existing.release();
  assert.equal((await fs.readdir(base)).sort(), ['kept', 'var'], 'a state dir that existed before stays');
});

test('a lock held by a live pid (this very process) is refused', async () => {
  const dir = await stateDir();
  const lock = await acquireLock(realFileOps, dir);
  const error = await refusal(acquireLock(realFileOps, dir));
  assert.is(error.message, `another harden run (pid ${process.pid}) holds ${dir}/lock`);
  assert.is(error.hint, `wait for it to finish; if pid ${process.pid} is not harden, remove ${dir}/lock and try again`);
  assert.is(error.exitCode, 1);
  await lock.release();
});

test('a lock held by a live spawned process is refused and left in place', async () => {
  const dir = await stateDir();
  const sleeper = spawn('sleep', ['30']);
  try {
    await writeLock(dir, sleeper.pid!);
    const before = await fs.readFile(path.join(dir, 'lock'), 'utf8');
    const error = await refusal(acquireLock(realFileOps, dir));
    assert.is(error.message, `another harden run (pid ${sleeper.pid}) holds ${dir}/lock`);
    assert.is(await fs.readFile(path.join(dir, 'lock'), 'utf8'), before);
  } finally {
    sleeper.kill();
  }
});

test('a dead pid’s lock is taken over and reported', async () => {
  const dir = await stateDir();
  const dead = await deadPid();
  assert.not.ok(pidIsAlive(dead));
  await writeLock(dir, dead);
  const lock = await acquireLock(realFileOps, dir);
  assert.is(lock.tookOverFrom, dead);
  assert.is(JSON.parse(await fs.readFile(path.join(dir, 'lock'), 'utf8')).pid, process.pid);
  await lock.release();
  assert.equal(await fs.readdir(dir), []);
});

test('the liveness check is injectable, and a lock from another boot is stale whatever its pid', async () => {
  const dir = await stateDir();
  await writeLock(dir, 77);
  assert.is((await refusal(acquireLock(realFileOps, dir, 1, { isAlive: () => true }))).message, `another harden run (pid 77) holds ${dir}/lock`);
  const taken = await acquireLock(realFileOps, dir, 1, { isAlive: (pid) => pid !== 77 });
  assert.is(taken.tookOverFrom, 77);
  await taken.release();

  await writeLock(dir, 78, 'old-boot');
  const again = await acquireLock(realFileOps, dir, 1, { isAlive: () => true, bootId: async () => 'new-boot' });
  assert.is(again.tookOverFrom, 78);
  await again.release();
});

test('release leaves a lock that another run has taken since', async () => {
  const dir = await stateDir();
  const lock = await acquireLock(realFileOps, dir, 1, { isAlive: () => false });
  await writeLock(dir, 2);
  await lock.release();
  assert.is(JSON.parse(await fs.readFile(path.join(dir, 'lock'), 'utf8')).pid, 2);
});

test('a lock file without a pid is refused rather than taken', async () => {
  const dir = await stateDir();
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'lock'), '');
  const error = await refusal(acquireLock(realFileOps, dir));
  assert.is(error.message, `${dir}/lock holds no pid: another harden run may be starting`);
});

test.run();
