// A lock held by another live harden run, as every command that reports on or changes a node meets it: a real
// second process (test/helpers/lock-contender.ts) takes the lock of a live node's state dir and holds it.
// apply and rollback refuse at once, naming the pid and since when, unless --wait gives the holder time; then
// apply plans under the lock (a change the holder made while holding it is in the plan). check and plan, which
// never take the lock, warn that their report may not stand, and keep their exit codes.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Plan } from '../../src/core/plan.js';
import { BIN, colourlessEnv, runBinAsync } from '../helpers/cli.js';
import { readTree, snapshotManifests, suiteLiveNodes, treeDiff, type LiveNode } from '../helpers/live-node.js';
import { repoRoot } from '../helpers/paths.js';
import { readLog } from '../helpers/stand-ins.js';

const CONTENDER = fileURLToPath(new URL('../helpers/lock-contender.js', import.meta.url));
const FAST = ['--health-timeout', '10', '--health-window', '1'];

const liveNode = suiteLiveNodes(test.after);

interface Holder {
  readonly pid: number;
  /** How harden names it: `pid 4242, since 2026-12-06 22:41:14 UTC`. */
  readonly named: string;
  release(): Promise<void>;
}

/** A second process that takes `stateDir`'s lock through the compiled acquireLock, and holds it until released. */
async function holdLock(stateDir: string): Promise<Holder> {
  const child: ChildProcessByStdio<Writable, Readable, null> = spawn(process.execPath, [CONTENDER], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const send = async (command: object) => {
    child.stdin.write(`${JSON.stringify(command)}\n`);
    return JSON.parse((await lines.next()).value as string) as { pid: number; held?: boolean; error?: string };
  };
  const answer = await send({ round: 1, dir: stateDir });
  assert.ok(answer.held, answer.error);
  const { startedAt } = JSON.parse(readFileSync(path.join(stateDir, 'lock'), 'utf8')) as { startedAt: string };
  const since = `${startedAt.slice(0, 10)} ${startedAt.slice(11, 19)} UTC`;
  return {
    pid: answer.pid,
    named: `pid ${answer.pid}, since ${since}`,
    async release() {
      await send({ round: 1, release: true });
      child.stdin.end();
      await new Promise((resolve) => child.on('exit', resolve));
    },
  };
}

const manifests = (n: LiveNode) => snapshotManifests(n.stateDir);

const refusal = (n: LiveNode, holder: Holder) => {
  const lock = path.join(n.stateDir, 'lock');
  return `error: another harden run (${holder.named}) holds ${lock}\nhint: wait for it to finish, or pass --wait SECONDS to wait for it; if pid ${holder.pid} is not harden, remove ${lock} and try again\n`;
};

test('apply while another harden run holds the lock: exit 1 at once, naming its pid and since when, nothing written', async () => {
  const n = await liveNode();
  const holder = await holdLock(n.stateDir);
  try {
    const lockBefore = await fs.readFile(path.join(n.stateDir, 'lock'), 'utf8');
    const original = await readTree(n.root);
    const started = Date.now();
    const run = await runBinAsync(['apply', '--root', n.root, '--yes', ...FAST], n.env);
    assert.is(run.status, 1, run.stderr);
    assert.is(run.stderr, refusal(n, holder));
    assert.is(run.stdout, '', 'no plan, and no "No changes", from outside the lock');
    assert.ok(Date.now() - started < 10_000, 'refused at once, not after a gate');
    assert.equal(treeDiff(original, await readTree(n.root)), []);
    assert.is(await fs.readFile(path.join(n.stateDir, 'lock'), 'utf8'), lockBefore, 'the holder keeps its lock');
    assert.equal(await readLog(n.standIns), [], 'no snap, no systemctl');
    assert.is(n.readyzRequests(), 0, 'no gate');
  } finally {
    await holder.release();
  }
});

test('rollback while another harden run holds the lock: exit 1 at once, the same refusal, nothing restored', async () => {
  const n = await liveNode();
  const applied = await runBinAsync(['apply', '--root', n.root, '--yes', '--no-restart'], n.env);
  assert.is(applied.status, 0, applied.stderr);
  const hardened = await readTree(n.root);
  const holder = await holdLock(n.stateDir);
  try {
    const run = await runBinAsync(['rollback', '--root', n.root, '--yes', ...FAST], n.env);
    assert.is(run.status, 1, run.stderr);
    assert.is(run.stderr, refusal(n, holder));
    assert.equal(treeDiff(hardened, await readTree(n.root)), []);
    assert.equal((await manifests(n)).map((m) => `${m.kind} ${m.status}`), ['apply written']);
  } finally {
    await holder.release();
  }
});

/** The bin, with its stderr watched as it comes: for a run that waits. */
function startBin(args: readonly string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...colourlessEnv(), ...env }, cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const watchers: (() => void)[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    for (const watcher of watchers.splice(0)) watcher();
  });
  const ended = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
  return {
    ended,
    pid: child.pid!,
    /** Resolves once stderr contains `text`. */
    async stderrHas(text: string): Promise<void> {
      while (!stderr.includes(text)) {
        const more = new Promise<void>((resolve) => watchers.push(resolve));
        const over = await Promise.race([more.then(() => false), ended.then(() => true)]);
        if (over && !stderr.includes(text)) throw new Error(`the run ended without printing ${JSON.stringify(text)}: ${stderr}`);
      }
    },
  };
}

test('apply --wait 5: waits for the holder, then plans under the lock (a file the holder changed while holding it is in the plan)', async () => {
  const n = await liveNode();
  const holder = await holdLock(n.stateDir);
  const lock = path.join(n.stateDir, 'lock');
  let released = false;
  try {
    const run = startBin(['apply', '--root', n.root, '--yes', '--no-restart', '--wait', '5'], n.env);
    await run.stderrHas(`waiting up to 5 s for another harden run (${holder.named}) to release ${lock}\n`);
    // The holder changes the node while it holds the lock (as an apply putting the node back would), then lets go.
    const file = n.args('kube-apiserver');
    const changed = `${readFileSync(file, 'utf8')}--event-ttl=30m\n`;
    await fs.writeFile(file, changed);
    await holder.release();
    released = true;
    const result = await run.ended;
    assert.is(result.status, 0, result.stderr);
    assert.is(result.stderr, `waiting up to 5 s for another harden run (${holder.named}) to release ${lock}\n`);
    const [snapshot] = await manifests(n);
    const planned = (snapshot.plan as Plan).files.find((f) => f.path.endsWith('/args/kube-apiserver'))!;
    assert.is(planned.before, changed, 'planned from the file as the holder left it');
    assert.is(snapshot.files.find((f) => f.path === planned.path)!.sha256Before, `sha256:${createHash('sha256').update(changed).digest('hex')}`);
    const now = readFileSync(file, 'utf8');
    assert.is(now, planned.after);
    assert.ok(now.includes('--event-ttl=30m\n'), 'the holder’s change is kept');
  } finally {
    if (!released) await holder.release();
  }
});

test('apply --wait 1 with a holder that keeps the lock: exit 1 after the wait, saying how long it waited, nothing written', async () => {
  const n = await liveNode();
  const holder = await holdLock(n.stateDir);
  try {
    const original = await readTree(n.root);
    const run = await runBinAsync(['apply', '--root', n.root, '--yes', '--no-restart', '--wait', '1'], n.env);
    const lock = path.join(n.stateDir, 'lock');
    assert.is(run.status, 1, run.stderr);
    assert.is(
      run.stderr,
      `waiting up to 1 s for another harden run (${holder.named}) to release ${lock}\n` +
        `error: another harden run (${holder.named}) holds ${lock}, still after 1 s of waiting\n` +
        `hint: wait for it to finish, or pass --wait SECONDS to wait for it; if pid ${holder.pid} is not harden, remove ${lock} and try again\n`,
    );
    assert.equal(treeDiff(original, await readTree(n.root)), []);
  } finally {
    await holder.release();
  }
});

test('check and plan while another harden run holds the lock: a warning on stderr, the report and exit code as without it', async () => {
  const n = await liveNode();
  const quiet = {
    check: await runBinAsync(['check', '--root', n.root], n.env),
    plan: await runBinAsync(['plan', '--root', n.root, '--detailed-exitcode'], n.env),
  };
  assert.is(quiet.check.stderr, '');
  assert.is(quiet.plan.stderr, '');
  const holder = await holdLock(n.stateDir);
  try {
    const warning = `warning: a change is in progress (a harden run, ${holder.named}, holds ${path.join(n.stateDir, 'lock')}): this report may not stand once it ends\n`;
    for (const [name, args] of [['check', ['check']], ['plan', ['plan', '--detailed-exitcode']]] as const) {
      const run = await runBinAsync([...args, '--root', n.root], n.env);
      assert.is(run.status, quiet[name].status, `${name}: ${run.stderr}`);
      assert.is(run.stdout, quiet[name].stdout, name);
      assert.is(run.stderr, warning, name);
    }
    assert.is(quiet.check.status, 2);
    assert.is(quiet.plan.status, 2);
  } finally {
    await holder.release();
  }
  const after = await runBinAsync(['check', '--root', n.root], n.env);
  assert.is(after.stderr, '', 'no warning once the holder let go');
});

test('--wait takes plain seconds from 0 to a day: abc, -5 and 86401 refused on apply and rollback, nothing written', async () => {
  const n = await liveNode();
  const original = await readTree(n.root);
  for (const command of ['apply', 'rollback']) {
    for (const value of ['abc', '-5', '86401']) {
      const run = await runBinAsync([command, '--root', n.root, '--yes', '--wait', value], n.env);
      assert.is(run.status, 1, `${command} --wait ${value}: ${run.stderr}`);
      assert.is(run.stderr, `error: --wait takes a number of seconds from 0 to 86400 (got ${JSON.stringify(value)})\nhint: for example --wait 60\n`, `${command} --wait ${value}`);
    }
  }
  assert.equal(treeDiff(original, await readTree(n.root)), []);
  assert.equal(await readLog(n.standIns), []);
});

test('the issue as met: a second apply during the first one’s failing health gate is refused (not "No changes"), and the first puts the node back', async () => {
  const n = await liveNode();
  await n.rejectFlag('--authorization-mode=Node,RBAC');
  const original = await readTree(n.root);
  const first = startBin(['apply', '--root', n.root, '--yes', '--health-timeout', '4', '--health-window', '1'], n.env);
  await first.stderrHas('after');
  const { startedAt } = JSON.parse(readFileSync(path.join(n.stateDir, 'lock'), 'utf8')) as { pid: number; startedAt: string };
  const second = await runBinAsync(['apply', '--root', n.root, '--yes', ...FAST], n.env);
  const lock = path.join(n.stateDir, 'lock');
  const named = `pid ${first.pid}, since ${startedAt.slice(0, 10)} ${startedAt.slice(11, 19)} UTC`;
  assert.is(second.status, 1, second.stderr);
  assert.is(second.stdout, '');
  assert.is(second.stderr, `error: another harden run (${named}) holds ${lock}\nhint: wait for it to finish, or pass --wait SECONDS to wait for it; if pid ${first.pid} is not harden, remove ${lock} and try again\n`);
  const result = await first.ended;
  assert.is(result.status, 3, result.stderr);
  assert.equal(treeDiff(original, await readTree(n.root)), [], 'put back');
  assert.equal((await manifests(n)).map((m) => m.status), ['put-back'], 'one apply, put back; none from the second');
});

test.run();
