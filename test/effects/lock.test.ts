import { spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { realFileOps, tempFilePid, type FileOps } from '../../src/effects/file-ops.js';
import { acquireLock, holderText, liveHolder, pidIsAlive } from '../../src/effects/lock.js';
import type { HardenError } from '../../src/errors.js';
import { makeTempDir } from '../helpers/node-root.js';
import { refusal } from '../helpers/refusal.js';

const CONTENDER = fileURLToPath(new URL('../helpers/lock-contender.js', import.meta.url));


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
  assert.match(error.message, new RegExp(`^another harden run \\(pid ${process.pid}, since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC\\) holds ${dir}/lock$`));
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
    assert.is(error.message, `another harden run (pid ${sleeper.pid}, since 2026-11-22 18:00:00 UTC) holds ${dir}/lock`);
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
  assert.is((await refusal(acquireLock(realFileOps, dir, 1, { isAlive: () => true }))).message, `another harden run (pid 77, since 2026-11-22 18:00:00 UTC) holds ${dir}/lock`);
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

// ---- take-overs among several runs ------------------------------------------------------------------------

/** Real file ops that run `hook` once, the first time `lock` is read (whichever way it is read). */
function onFirstRead(file: string, hook: () => Promise<void>): FileOps {
  let done = false;
  const after = async <T>(p: string, read: Promise<T>): Promise<T> => {
    const value = await read;
    if (p === file && !done) {
      done = true;
      await hook();
    }
    return value;
  };
  return {
    ...realFileOps,
    readFile: (p) => after(p, realFileOps.readFile(p)),
    readRegularFile: (p, limit) => after(p, realFileOps.readRegularFile(p, limit)),
  };
}

const deadOnly = (dead: number) => (pid: number) => pid !== dead;

test('a run that read the stale lock before another run took it over does not remove the new lock: it is refused', async () => {
  const dir = await stateDir();
  const file = path.join(dir, 'lock');
  await writeLock(dir, 77);
  let other: Awaited<ReturnType<typeof acquireLock>> | null = null;
  // Run 1 reads the dead pid's lock; before it acts on what it read, run 2 takes that lock over whole.
  const ops = onFirstRead(file, async () => {
    other = await acquireLock(realFileOps, dir, 2, { isAlive: deadOnly(77) });
  });
  const error = await refusal(acquireLock(ops, dir, 1, { isAlive: deadOnly(77) }));
  assert.match(error.message, new RegExp(`^another harden run \\(pid 2, since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC\\) holds ${file}$`));
  assert.is(other!.tookOverFrom, 77);
  assert.is(JSON.parse(await fs.readFile(file, 'utf8')).pid, 2, 'the new lock stays');
  await other!.release();
  assert.equal(await fs.readdir(dir), []);
});

test('a run that finds another live run half-way through the take-over waits for it, then gives up naming it and its claim', async () => {
  const dir = await stateDir();
  const file = path.join(dir, 'lock');
  await writeLock(dir, 77);
  let second: HardenError | null = null;
  const waits: number[] = [];
  // Run 1 claims the stale lock; while it holds the claim, run 2 tries again and again.
  const ops: FileOps = {
    ...realFileOps,
    rename: async (from, to) => {
      if (from === file && second === null) second = await refusal(acquireLock(realFileOps, dir, 2, { isAlive: deadOnly(77), wait: async (ms) => void waits.push(ms) }));
      return realFileOps.rename(from, to);
    },
  };
  const first = await acquireLock(ops, dir, 1, { isAlive: deadOnly(77) });
  assert.is(first.tookOverFrom, 77);
  assert.match(second!.message, new RegExp(`^another harden run \\(pid 1\\) is taking over the stale lock ${file}, and has not finished$`));
  assert.match(second!.hint!, new RegExp(`^wait for it to finish; if pid 1 is not harden, remove ${dir}/\\.lock\\.claim-[0-9a-f]{20} and try again$`));
  assert.is(waits.length, 99, 'it waited between its attempts');
  assert.is(Math.max(...waits), 64);
  await first.release();
  assert.equal(await fs.readdir(dir), [], 'no claim is left behind');
});

test('a lock replaced by something outside harden between the check and the take-over is put back, and is a refusal', async () => {
  const dir = await stateDir();
  const file = path.join(dir, 'lock');
  await writeLock(dir, 77);
  let replaced = false;
  const ops: FileOps = {
    ...realFileOps,
    rename: async (from, to) => {
      if (from === file && !replaced) {
        replaced = true;
        await fs.unlink(file);
        await writeLock(dir, 2);
      }
      return realFileOps.rename(from, to);
    },
  };
  const error = await refusal(acquireLock(ops, dir, 1, { isAlive: deadOnly(77) }));
  assert.is(error.message, `another harden run (pid 2, since 2026-11-22 18:00:00 UTC) holds ${file}`);
  assert.is(JSON.parse(await fs.readFile(file, 'utf8')).pid, 2);
  assert.equal(await fs.readdir(dir), ['lock'], 'the new lock is back, and nothing else is left');
});

/** Starts a contender that kills itself at `killAt` during its take-over of `dir`'s lock; answers its pid. */
async function killedDuringTakeOver(dir: string, killAt: 'before-rename' | 'after-rename'): Promise<number> {
  const child = spawn(process.execPath, [CONTENDER, '--kill-at', killAt], { stdio: ['pipe', 'ignore', 'inherit'] });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  child.stdin.end(`${JSON.stringify({ round: 1, dir })}\n`);
  assert.is(await exited, 'SIGKILL');
  return child.pid!;
}

test('a run killed while it held the claim on a stale lock: the next run takes the claim over, then the lock', async () => {
  const dir = await stateDir();
  const dead = await deadPid();
  await writeLock(dir, dead);
  const killed = await killedDuringTakeOver(dir, 'before-rename');
  const left = await fs.readdir(dir);
  assert.ok(left.includes('lock') && left.some((name) => name.startsWith('.lock.claim-')), left.join(' '));
  const lock = await acquireLock(realFileOps, dir);
  assert.is(lock.tookOverFrom, dead);
  await lock.release();
  assert.equal((await fs.readdir(dir)).map((name) => tempFilePid(name)), [killed], 'only the killed run’s own temp file, which apply removes');
});

test('a run killed after it moved the stale lock aside: the next run takes the lock and removes the dead claim', async () => {
  const dir = await stateDir();
  await writeLock(dir, await deadPid());
  const killed = await killedDuringTakeOver(dir, 'after-rename');
  assert.not.ok((await fs.readdir(dir)).includes('lock'));
  const lock = await acquireLock(realFileOps, dir);
  assert.is(lock.tookOverFrom, null);
  await lock.release();
  assert.equal((await fs.readdir(dir)).map((name) => tempFilePid(name)), [killed, killed], 'only the killed run’s temp files (its lock, the stale lock moved aside), which apply removes');
});

// ---- a lock that is not a regular file -----------------------------------------------------------------------

const NOT_A_LOCK = (file: string, kind: string) =>
  `${file} is a ${kind}, not a lock file: harden follows no links and opens no special files in its state dir`;

for (const [what, kind, make] of [
  ['a symbolic link to /dev/zero', 'symbolic link', (file: string) => fs.symlink('/dev/zero', file)],
  ['a symbolic link to a stale lock elsewhere', 'symbolic link', async (file: string) => {
    const elsewhere = path.join(path.dirname(path.dirname(file)), 'elsewhere');
    await fs.writeFile(elsewhere, `${JSON.stringify({ pid: await deadPid(), startedAt: '2026-11-22T18:00:00.000Z', bootId: null })}\n`);
    await fs.symlink(elsewhere, file);
  }],
  ['a FIFO', 'FIFO', async (file: string) => void spawnSync('mkfifo', [file])],
  ['a directory', 'directory', (file: string) => fs.mkdir(file)],
  ['a character device', 'device', async (file: string) => void spawnSync('mknod', [file, 'c', '1', '5'])],
] as const) {
  test(`a lock that is ${what} is refused unread, and nothing is written`, async () => {
    const dir = await stateDir();
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, 'lock');
    await make(file);
    const before = await fs.readdir(path.dirname(dir));
    const error = await refusal(acquireLock(realFileOps, dir));
    assert.is(error.message, NOT_A_LOCK(file, kind));
    assert.is(error.hint, `if no harden run is going on, remove ${file} and try again`);
    assert.is(error.exitCode, 1);
    assert.equal(await fs.readdir(dir), ['lock']);
    assert.equal(await fs.readdir(path.dirname(dir)), before);
    if (kind === 'symbolic link') assert.ok((await fs.lstat(file)).isSymbolicLink(), 'the link is left as it was');
  });
}

test('a lock file of a gigabyte is read no further than its first few KB: it holds no pid', async () => {
  const dir = await stateDir();
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, 'lock');
  await fs.writeFile(file, '{"pid": 77,');
  await fs.truncate(file, 2 ** 30);
  const error = await refusal(acquireLock(realFileOps, dir));
  assert.is(error.message, `${file} holds no pid: another harden run may be starting`);
});

test('release follows no link put in place of the lock, and leaves it', async () => {
  const dir = await stateDir();
  const lock = await acquireLock(realFileOps, dir);
  const file = path.join(dir, 'lock');
  await fs.unlink(file);
  await fs.symlink('/dev/zero', file);
  await lock.release();
  assert.ok((await fs.lstat(file)).isSymbolicLink());
});

test('liveHolder (for check and plan): the live holder only; none for no lock, a dead pid, another boot, a FIFO or a lock without a pid', async () => {
  const dir = await stateDir();
  assert.is(await liveHolder(realFileOps, dir), null, 'no state dir');
  await writeLock(dir, 77, 'this-boot');
  const here = { bootId: async () => 'this-boot' };
  assert.equal(await liveHolder(realFileOps, dir, { ...here, isAlive: () => true }), { pid: 77, startedAt: '2026-11-22T18:00:00.000Z' });
  assert.is(await liveHolder(realFileOps, dir, { ...here, isAlive: () => false }), null, 'a dead pid');
  assert.is(await liveHolder(realFileOps, dir, { bootId: async () => 'next-boot', isAlive: () => true }), null, 'an earlier boot');
  await fs.writeFile(path.join(dir, 'lock'), 'no pid here\n');
  assert.is(await liveHolder(realFileOps, dir, { ...here, isAlive: () => true }), null, 'no pid');
  await fs.rm(path.join(dir, 'lock'));
  spawnSync('mkfifo', [path.join(dir, 'lock')]);
  assert.is(await liveHolder(realFileOps, dir, { ...here, isAlive: () => true }), null, 'a FIFO, never opened');
});

test('holderText: the pid and the start time to the second in UTC, or an unknown time', () => {
  assert.is(holderText({ pid: 4242, startedAt: '2026-12-06T22:41:14.123Z' }), 'pid 4242, since 2026-12-06 22:41:14 UTC');
  assert.is(holderText({ pid: 4242, startedAt: '' }), 'pid 4242, since an unknown time');
  assert.is(holderText({ pid: 4242, startedAt: 'yesterday\u001b[2J' }), 'pid 4242, since an unknown time');
});

test('waiting for a live holder: told once, tried again until it lets go, then held; refused with the time waited when it does not', async () => {
  const dir = await stateDir();
  const first = await acquireLock(realFileOps, dir);
  const told: number[] = [];
  let waits = 0;
  const second = acquireLock(realFileOps, dir, process.pid, {
    waitForHolderMs: 5000,
    onWait: (holder) => told.push(holder.pid),
    wait: async () => {
      waits += 1;
      if (waits === 3) await first.release();
    },
  });
  const held = await second;
  assert.equal(told, [process.pid]);
  assert.is(waits, 3);
  assert.is(held.tookOverFrom, null);

  let now = 0;
  const error = await refusal(
    acquireLock(realFileOps, dir, process.pid, { waitForHolderMs: 1000, waitOption: '--wait SECONDS', clock: () => new Date(now), wait: async (ms) => void (now += ms) }),
  );
  assert.match(error.message, /^another harden run \(pid \d+, since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\) holds .*\/lock, still after 1 s of waiting$/);
  assert.match(error.hint!, /^wait for it to finish, or pass --wait SECONDS to wait for it; /);
  await held.release();
});

test.run();
