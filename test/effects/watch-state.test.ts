// `watchPolicy`, as `harden drift --watch` calls it, on a real state dir: off by default, the hourly limit,
// the trip on a failed re-apply, a re-apply that throws; and watch.json refused when hostile, with one line.
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { CommandContext } from '../../src/commands/context.js';
import { DEFAULT_POLICY, enableAuto, policyDocument } from '../../src/core/watch-policy.js';
import { realFileOps, type FileOps } from '../../src/effects/file-ops.js';
import { realFileSystem } from '../../src/effects/file-system.js';
import { MAX_POLICY_BYTES, readWatchPolicy, watchPolicy, writeAtomically } from '../../src/effects/watch-state.js';
import { HardenError } from '../../src/errors.js';
import { makeTempDir } from '../helpers/node-root.js';

const DRIFTED = ['kubelet.anonymous-auth'];

function contextAt(clock: { now: Date }): CommandContext {
  return {
    effects: { fs: realFileSystem, io: { out: () => undefined, err: () => undefined, isTTY: false, interactive: false, env: {} }, change: { ops: realFileOps, now: () => clock.now } },
    setExitCode: () => undefined,
  };
}

async function stateDir(policy = DEFAULT_POLICY): Promise<string> {
  const dir = path.join(await makeTempDir('harden-watch-state-'), 'state');
  await fs.mkdir(dir, { mode: 0o700 });
  if (policy !== DEFAULT_POLICY) await fs.writeFile(path.join(dir, 'watch.json'), policyDocument(policy), { mode: 0o600 });
  return dir;
}

/** A reapply() that records its calls and answers `code`. */
function reapplier(code: number) {
  const calls: number[] = [];
  return { calls, reapply: async () => { calls.push(code); return code; } };
}

const readPolicy = async (dir: string) => JSON.parse(await fs.readFile(path.join(dir, 'watch.json'), 'utf8')) as Record<string, unknown>;

test('off by default (no watch.json): reapply is not called and nothing is written', async () => {
  const dir = await stateDir();
  const { calls, reapply } = reapplier(0);
  const outcome = await watchPolicy(contextAt({ now: new Date('2026-12-07T02:00:00Z') }), dir, DRIFTED, reapply);
  assert.equal(outcome, { action: 'none', reason: 'automatic re-apply is off (harden watch enable-auto turns it on)', exitCode: null });
  assert.equal(calls, []);
  assert.equal(await fs.readdir(dir), []);
});

test('on: one re-apply, recorded with its time and exit code; the next in the hour skipped; after the hour allowed', async () => {
  const clock = { now: new Date('2026-12-07T02:00:00Z') };
  const dir = await stateDir(enableAuto(DEFAULT_POLICY, new Date('2026-12-07T01:00:00Z'), 1));
  const { calls, reapply } = reapplier(0);
  assert.equal(await watchPolicy(contextAt(clock), dir, DRIFTED, reapply), { action: 'reapplied', reason: 're-applied 1 drifted rule (exit 0)', exitCode: 0 });
  assert.equal((await readPolicy(dir)).reapplies, [{ at: '2026-12-07T02:00:00.000Z', exitCode: 0, rules: DRIFTED }]);
  assert.is(((await fs.stat(path.join(dir, 'watch.json'))).mode & 0o7777), 0o600);
  clock.now = new Date('2026-12-07T02:59:00Z');
  assert.equal(await watchPolicy(contextAt(clock), dir, DRIFTED, reapply), {
    action: 'skipped', reason: '1 automatic re-apply in the last hour, the limit is 1 (harden watch enable-auto --max-per-hour N)', exitCode: null,
  });
  clock.now = new Date('2026-12-07T03:00:01Z');
  assert.is((await watchPolicy(contextAt(clock), dir, ['a.b', 'c.d'], reapply)).reason, 're-applied 2 drifted rules (exit 0)');
  assert.equal(calls, [0, 0]);
});

test('a re-apply that exits 3 trips the policy: recorded, and every later drift skipped until enable-auto', async () => {
  const clock = { now: new Date('2026-12-07T02:00:00Z') };
  const dir = await stateDir(enableAuto(DEFAULT_POLICY, new Date('2026-12-07T01:00:00Z'), 12));
  const failing = reapplier(3);
  const outcome = await watchPolicy(contextAt(clock), dir, DRIFTED, failing.reapply);
  const tripped = 'tripped since 2026-12-07T02:00:00.000Z by a re-apply that exited 3; look at the node (harden watch status, harden snapshots list), then harden watch enable-auto turns it on again';
  assert.equal(outcome, { action: 'reapplied', reason: `re-applied 1 drifted rule, and it failed: automatic re-apply is ${tripped}`, exitCode: 3 });
  assert.equal((await readPolicy(dir)).trip, { at: '2026-12-07T02:00:00.000Z', exitCode: 3 });
  clock.now = new Date('2026-12-09T02:00:00Z');
  const next = reapplier(0);
  assert.equal(await watchPolicy(contextAt(clock), dir, DRIFTED, next.reapply), { action: 'skipped', reason: tripped, exitCode: null });
  assert.equal(next.calls, []);
});

test('a re-apply that throws is recorded with its exit code, and the error passed on', async () => {
  const dir = await stateDir(enableAuto(DEFAULT_POLICY, new Date('2026-12-07T01:00:00Z'), 2));
  const error = new HardenError('the node changed', { exitCode: 4 });
  try {
    await watchPolicy(contextAt({ now: new Date('2026-12-07T02:00:00Z') }), dir, DRIFTED, async () => { throw error; });
    assert.unreachable('it should throw');
  } catch (thrown) {
    assert.is(thrown, error);
  }
  const policy = await readPolicy(dir);
  assert.equal([policy.reapplies, policy.trip], [[{ at: '2026-12-07T02:00:00.000Z', exitCode: 4, rules: DRIFTED }], { at: '2026-12-07T02:00:00.000Z', exitCode: 4 }]);
});

/** What readWatchPolicy refuses, as its one line, for a watch.json made by `make`. */
async function refusal(make: (file: string) => Promise<void>): Promise<string> {
  const dir = await stateDir();
  const file = path.join(dir, 'watch.json');
  await make(file);
  try {
    await readWatchPolicy(realFileOps, dir);
  } catch (error) {
    assert.instance(error, HardenError);
    assert.is((error as HardenError).hint, 'remove it, then set the policy again with harden watch enable-auto or harden watch disable-auto');
    return (error as HardenError).message.replace(file, '<file>');
  }
  throw new Error('expected a refusal');
}

test('watch.json refused: a symlink (even to a valid policy), a directory, a FIFO, huge, writable by others, not JSON, another schema', async () => {
  const valid = await makeTempDir('harden-watch-valid-');
  await fs.writeFile(path.join(valid, 'p.json'), policyDocument(enableAuto(DEFAULT_POLICY, new Date(), 12)), { mode: 0o600 });
  assert.is(await refusal((file) => fs.symlink(path.join(valid, 'p.json'), file)), 'cannot use the watch policy <file>: it is a symlink: harden never follows links in its state dir');
  assert.is(await refusal((file) => fs.mkdir(file)), 'cannot use the watch policy <file>: it is a directory, not a regular file');
  assert.is(await refusal(async (file) => void execFileSync('mkfifo', [file])), 'cannot use the watch policy <file>: it is a FIFO, not a regular file');
  assert.is(await refusal((file) => fs.writeFile(file, ' '.repeat(MAX_POLICY_BYTES + 1), { mode: 0o600 })), 'cannot use the watch policy <file>: it is larger than 256 KiB');
  assert.is(await refusal(async (file) => {
    await fs.writeFile(file, policyDocument(enableAuto(DEFAULT_POLICY, new Date(), 12)));
    await fs.chmod(file, 0o666);
  }), 'cannot use the watch policy <file>: it has mode 0666, which lets group and others write to it');
  assert.is(await refusal((file) => fs.writeFile(file, '{"schema": ', { mode: 0o600 })), 'cannot use the watch policy <file>: it is not JSON');
  assert.is(await refusal((file) => fs.writeFile(file, '{"schema": "harden.watch/v2"}', { mode: 0o600 })), 'cannot use the watch policy <file>: not harden.watch/v1 (it says "harden.watch/v2")');
  assert.is(await refusal((file) => fs.writeFile(file, policyDocument({ ...DEFAULT_POLICY, maxPerHour: 100000 }), { mode: 0o600 })), 'cannot use the watch policy <file>: maxPerHour: must be a whole number from 1 to 12');
});

test('a refused watch.json stops drift --watch before any re-apply', async () => {
  const dir = await stateDir();
  await fs.writeFile(path.join(dir, 'watch.json'), 'not json', { mode: 0o600 });
  const { calls, reapply } = reapplier(0);
  try {
    await watchPolicy(contextAt({ now: new Date() }), dir, DRIFTED, reapply);
    assert.unreachable('it should throw');
  } catch (error) {
    assert.is((error as Error).message, `cannot use the watch policy ${dir}/watch.json: it is not JSON`);
  }
  assert.equal(calls, []);
});

test('an atomic write that fails at the rename leaves the old file whole, no temp file, and one line naming the file', async () => {
  const dir = await makeTempDir('harden-watch-write-');
  const file = path.join(dir, 'harden-drift.timer');
  await fs.writeFile(file, 'old\n', { mode: 0o644 });
  const ops: FileOps = { ...realFileOps, rename: async () => { throw Object.assign(new Error('injected'), { code: 'EIO' }); } };
  try {
    await writeAtomically(ops, file, 'new\n', 0o644);
    assert.unreachable('it should throw');
  } catch (error) {
    assert.instance(error, HardenError);
    assert.is((error as HardenError).message, `cannot write ${file} (EIO)`);
  }
  assert.is(await fs.readFile(file, 'utf8'), 'old\n');
  assert.equal(await fs.readdir(dir), ['harden-drift.timer']);
  // And done for real: the new bytes, the mode asked for whatever the umask, no temp file.
  const umask = process.umask(0o077);
  try {
    await writeAtomically(realFileOps, file, 'new\n', 0o644);
  } finally {
    process.umask(umask);
  }
  assert.is(await fs.readFile(file, 'utf8'), 'new\n');
  assert.is((await fs.stat(file)).mode & 0o7777, 0o644);
  assert.equal(await fs.readdir(dir), ['harden-drift.timer']);
});

test.run();
