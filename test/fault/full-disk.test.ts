// A full disk during apply. Two ways: a real small tmpfs (mounted here: the suite runs as root, and a mount
// that fails fails the test) that runs out of inodes or pages part-way through `apply --profile cis`, and
// ENOSPC injected through FileOps at every step of an apply. Whatever the step, the outcome must say what is on
// disk: exit 1 and the tree exactly as before (nothing changed, no snapshot left), or exit 3 and every node
// file, mode and owner as before (put back), or exit 0 and the change complete. Never exit 4: the put-back
// needs no space, so a full disk never makes it fail. No temp file is ever left behind.
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { realFileOps, type FileOps } from '../../src/effects/file-ops.js';
import { systemServices } from '../../src/effects/services.js';
import type { SnapshotManifest } from '../../src/effects/snapshots.js';
import { runInProcessWith, type Run } from '../helpers/cli.js';
import { makeLiveNode, readTree, treeDiff, type TreeEntry } from '../helpers/live-node.js';
import { makeNode, makeTempDir } from '../helpers/node-root.js';

const STATE = 'var/lib/harden';
const TEMP = /^\..+\.harden-\d+-[0-9a-f]+\.tmp$/;
const FULL = 'hint: the disk is full: free some space and run harden again';
/** A plan small enough to run once per step: two args files edited, two files created, two modes and owners. */
const ONLY = ['--only', 'apiserver.audit-policy-file,files.audit-policy,kube-scheduler.bind-address,files.cis-hardening-lock,files.apiserver-args,files.kubelet-args'];
const APPLY = ['--yes', '--profile', 'cis', '--no-restart'];

// ---- a real tmpfs ------------------------------------------------------------------------------------

const mounts: string[] = [];

/** Mounts a fresh tmpfs; throws (and so fails the test) when it cannot: CI runs the suite as root. */
async function mountTmpfs(options = 'size=64m,nr_inodes=20000'): Promise<string> {
  const dir = await makeTempDir('harden-full-disk-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', `${options},mode=0755`, 'harden-full-disk', dir], { stdio: 'pipe' });
  mounts.push(dir);
  return dir;
}

function remount(dir: string, options: string): void {
  execFileSync('mount', ['-o', `remount,${options}`, dir], { stdio: 'pipe' });
}

async function unmount(dir: string): Promise<void> {
  const at = mounts.indexOf(dir);
  if (at >= 0) mounts.splice(at, 1);
  execFileSync('umount', [dir], { stdio: 'pipe' });
  await fs.rmdir(dir);
}

test.after(async () => {
  for (const dir of [...mounts]) await unmount(dir).catch(() => undefined);
});

let fillers = 0;
/** Takes every inode left on a tmpfs with empty files. */
async function takeFreeInodes(dir: string): Promise<void> {
  while ((await fs.statfs(dir)).ffree > 0) {
    if (!(await fs.writeFile(path.join(dir, `filler-${(fillers += 1)}`), '').then(() => true, () => false))) break;
  }
}

/** Inodes and 4 KiB pages in use on a tmpfs. */
async function usage(dir: string): Promise<{ inodes: number; pages: number }> {
  const stat = await fs.statfs(dir);
  return { inodes: stat.files - stat.ffree, pages: stat.blocks - stat.bfree };
}

// ---- what a run left -----------------------------------------------------------------------------------

/** Every entry of the root, state dir included. */
const wholeTree = (root: string) => readTree(root, []);

async function snapshots(stateDir: string): Promise<SnapshotManifest[]> {
  const dir = path.join(stateDir, 'snapshots');
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  return Promise.all(names.map(async (name) => JSON.parse(await fs.readFile(path.join(dir, name, 'manifest.json'), 'utf8')) as SnapshotManifest));
}

const temps = (tree: Map<string, TreeEntry>) => [...tree.keys()].filter((rel) => TEMP.test(path.basename(rel)));
const nodePart = (tree: Map<string, TreeEntry>) => new Map([...tree].filter(([rel]) => rel !== 'var/lib' && !rel.startsWith('var/lib/')));

interface Expectation {
  readonly root: string;
  readonly stateDir: string;
  /** The whole tree before the run (state dir included, when it is inside the root). */
  readonly before: Map<string, TreeEntry>;
  /** The state dir's own tree before, when it is outside the root. */
  readonly stateBefore?: Map<string, TreeEntry>;
  /** The node part after a complete apply. */
  readonly applied: Map<string, TreeEntry>;
  /** Node paths the plan writes or creates. */
  readonly written: readonly string[];
  /** A put-back may find no room to record itself, and then removes the snapshot (a disk that stays full). */
  readonly unrecordedPutBack?: boolean;
}

export type Outcome = 'unchanged: state dir' | 'unchanged: lock' | 'unchanged: snapshot' | 'unchanged: staging' | 'put back' | 'applied';

/** Checks one run against what its exit code promises; returns which outcome it was. */
async function judge(run: Run, expect: Expectation, where: string): Promise<Outcome> {
  const { root, stateDir } = expect;
  const after = await wholeTree(root);
  const say = `${where}: exit ${run.status}\n${run.stderr}`;
  assert.equal(temps(after), [], `${say}: no temp file is left`);
  if (!stateDir.startsWith(`${root}/`)) assert.equal(temps(await wholeTree(stateDir)), [], `${say}: no temp file is left in the state dir`);
  assert.not.ok(await fs.lstat(path.join(stateDir, 'lock')).catch(() => null), `${say}: the lock is released`);
  const lines = run.stderr.split('\n');
  if (run.status === 1) {
    assert.equal(treeDiff(expect.before, after), [], `${say}: nothing changed`);
    if (expect.stateBefore) assert.equal(treeDiff(expect.stateBefore, await wholeTree(stateDir)), [], `${say}: the state dir as before`);
    assert.is(lines.length, 3, say);
    assert.is(lines[1], FULL, say);
    if (lines[0] === `error: cannot use the state directory ${stateDir} (ENOSPC)`) return 'unchanged: state dir';
    if (lines[0] === `error: cannot take the lock ${stateDir}/lock (ENOSPC)`) return 'unchanged: lock';
    if (lines[0] === `error: no space left on device for the snapshot in ${stateDir}/snapshots (ENOSPC); nothing was changed`) return 'unchanged: snapshot';
    if (lines[0] === `error: no space left on device to record the change in the snapshot ${run.stdout.split(' ')[1]} (ENOSPC); nothing was changed`) return 'unchanged: staging';
    const staging = /^error: no space left on device to stage (\S+) \(ENOSPC\); nothing was changed$/.exec(lines[0]);
    assert.ok(staging && expect.written.includes(staging[1]), `${say}: the error names what could not be staged`);
    return 'unchanged: staging';
  }
  if (run.status === 3) {
    assert.equal(treeDiff(nodePart(expect.before), nodePart(after)), [], `${say}: every node file, mode and owner put back`);
    const all = await snapshots(stateDir);
    const recorded = all.length === 1 && all[0].status === 'put-back';
    assert.ok(recorded || (expect.unrecordedPutBack && all.length === 0), `${say}: the snapshot says put-back (${all.map((s) => s.status).join(', ')})`);
    assert.match(lines[0], /^error: a write failed, and the files already written were put back: (cannot write \S+|cannot record the status written in the snapshot \S+) \(ENOSPC\)$/, say);
    assert.is(lines[1], recorded ? `hint: nothing is left changed; the snapshot is ${all[0].id}` : 'hint: nothing is left changed; the snapshot could not record the put-back and was removed', say);
    assert.is(lines.length, 3, say);
    return 'put back';
  }
  assert.is(run.status, 0, say);
  assert.equal(treeDiff(expect.applied, nodePart(after)), [], `${say}: the change is complete`);
  return 'applied';
}

// ---- ENOSPC injected at every step -----------------------------------------------------------------

/** The operations that can meet a full disk: everything but unlink and rmdir, which only free space. */
const CAN_FILL = ['mkdir', 'writeNew', 'rename', 'link', 'chmod', 'chown', 'fsync', 'fsyncDir'] as const;
/** The operations that take space: a new inode, or new blocks. */
const TAKES_SPACE = ['mkdir', 'writeNew', 'link'] as const;

/**
 * Real file ops that count the operations in `counted` and fail with ENOSPC: the `at`-th only (once), or every
 * one from the `at`-th on that takes space (a disk that stays full).
 */
function enospcAt(counted: readonly string[], at: number, mode: 'once' | 'stays full'): FileOps & { count(): number } {
  let seen = 0;
  const ops: FileOps & { count(): number } = { ...realFileOps, count: () => seen };
  for (const name of counted) {
    const real = realFileOps[name as keyof FileOps] as (...args: unknown[]) => Promise<unknown>;
    (ops as unknown as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      const index = seen;
      seen += 1;
      const fails = mode === 'once' ? index === at : index >= at && (TAKES_SPACE as readonly string[]).includes(name);
      if (fails) throw Object.assign(new Error(`ENOSPC: no space left on device, ${name} '${String(args[0])}'`), { code: 'ENOSPC' });
      return real(...args);
    };
  }
  return ops;
}

async function sweep(mode: 'once' | 'stays full', counted: readonly string[]): Promise<void> {
  const disk = await mountTmpfs();
  try {
    // A clean run: what it changes, and how many operations it makes.
    const reference = await makeNode({ version: '1.28', parent: disk });
    const counting = enospcAt(counted, Number.POSITIVE_INFINITY, 'once');
    const clean = await runInProcessWith(['apply', '--root', reference, ...APPLY, ...ONLY], { change: { ops: counting } });
    assert.is(clean.status, 0, clean.stderr);
    const applied = nodePart(await wholeTree(reference));
    const steps = counting.count();
    assert.ok(steps > 10, `the clean apply made ${steps} operations`);
    const written = ['/var/snap/microk8s/current/args/kube-scheduler', '/var/snap/microk8s/current/args/kube-apiserver', '/var/snap/microk8s/6089/var/lock/cis-hardening', '/var/snap/microk8s/6089/args/audit-policy.yaml'];

    const seen = new Map<Outcome, number>();
    for (let at = 0; at < steps; at += 1) {
      const root = await makeNode({ version: '1.28', parent: disk });
      const before = await wholeTree(root);
      const run = await runInProcessWith(['apply', '--root', root, ...APPLY, ...ONLY], { change: { ops: enospcAt(counted, at, mode) } });
      const outcome = await judge(run, { root, stateDir: path.join(root, STATE), before, applied, written, unrecordedPutBack: mode === 'stays full' }, `ENOSPC (${mode}) at operation ${at} of ${steps}`);
      seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
      await fs.rm(root, { recursive: true, force: true });
    }
    for (const outcome of ['unchanged: lock', 'unchanged: snapshot', 'unchanged: staging'] as const) assert.ok(seen.has(outcome), `some step ends ${outcome}: ${JSON.stringify([...seen])}`);
    if (mode === 'once') assert.ok(seen.has('put back') && seen.has('applied'), `some step is put back, some complete: ${JSON.stringify([...seen])}`);
  } finally {
    await unmount(disk);
  }
}

test('ENOSPC once, at every step of apply: exit 1 with nothing changed, 3 with everything put back, or 0 complete; never 4', async () => {
  await sweep('once', CAN_FILL);
});

test('a disk that stays full from any step of apply on: exit 1 with nothing changed, or 3 with everything put back; never 4', async () => {
  await sweep('stays full', TAKES_SPACE);
});

// ---- a real tmpfs that runs out ----------------------------------------------------------------------

/** A node (1.28) on a fresh tmpfs, and the tmpfs' usage with it. */
async function nodeOnTmpfs(): Promise<{ disk: string; root: string; used: { inodes: number; pages: number } }> {
  const disk = await mountTmpfs();
  const root = await makeNode({ version: '1.28', parent: disk });
  return { disk, root, used: await usage(disk) };
}

/** The node part of a complete apply --profile cis on 1.28, and the node paths it writes. */
async function cisReference(): Promise<{ applied: Map<string, TreeEntry>; written: string[] }> {
  const root = await makeNode({ version: '1.28' });
  try {
    const plan = await runInProcessWith(['plan', '--root', root, '--profile', 'cis', '--json']);
    const parsed = JSON.parse(plan.stdout) as { files: { path: string }[]; companions: { path: string }[] };
    const run = await runInProcessWith(['apply', '--root', root, ...APPLY]);
    assert.is(run.status, 0, run.stderr);
    return { applied: nodePart(await wholeTree(root)), written: [...parsed.files, ...parsed.companions].map((f) => f.path) };
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}

for (const resource of ['inodes', 'pages'] as const) {
  test(`a real tmpfs that runs out of ${resource} part-way through apply --profile cis: never half-changed, never exit 4`, async () => {
    const { applied, written } = await cisReference();
    const seen = new Map<Outcome, number>();
    // One more inode (or page) each time, from none free until the apply goes through.
    for (let spare = 0; ; spare += 1) {
      assert.ok(spare < 200, 'the apply went through at last');
      const { disk, root, used } = await nodeOnTmpfs();
      try {
        remount(disk, resource === 'inodes' ? `nr_inodes=${used.inodes + spare}` : `size=${(used.pages + spare) * 4096}`);
        const before = await wholeTree(root);
        const run = await runInProcessWith(['apply', '--root', root, ...APPLY]);
        const outcome = await judge(run, { root, stateDir: path.join(root, STATE), before, applied, written }, `${spare} ${resource} free`);
        seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
        if (outcome === 'applied') break;
      } finally {
        await unmount(disk);
      }
    }
    // The tmpfs ran out at the lock, at the snapshot and while staging the new files, and went through at last.
    for (const outcome of ['unchanged: lock', 'unchanged: snapshot', 'unchanged: staging'] as const) assert.ok(seen.has(outcome), `some size ends ${outcome}: ${JSON.stringify([...seen])}`);
  });
}

test('a real tmpfs with 0 free pages, the state dir on another disk: the snapshot is taken, nothing changes, exit 1, no snapshot left', async () => {
  const { disk, root, used } = await nodeOnTmpfs();
  const state = await makeTempDir('harden-full-disk-state-');
  try {
    remount(disk, `size=${used.pages * 4096}`);
    const before = await wholeTree(root);
    const stateBefore = await wholeTree(state);
    const run = await runInProcessWith(['apply', '--root', root, '--state-dir', state, ...APPLY]);
    assert.is(run.status, 1, run.stderr);
    assert.equal(run.stderr.split('\n'), ['error: no space left on device to stage /var/snap/microk8s/current/args/kube-apiserver (ENOSPC); nothing was changed', FULL, '']);
    assert.match(run.stdout, /^Snapshot \d{8}T\d{6}Z-[0-9a-f]{4} in /);
    assert.equal(treeDiff(before, await wholeTree(root)), [], 'the node tree byte for byte as before');
    assert.equal(treeDiff(stateBefore, await wholeTree(state)), [], 'no snapshot left: it guards nothing');
  } finally {
    await unmount(disk);
    await fs.rm(state, { recursive: true, force: true });
  }
});

test('a real tmpfs with 0 free pages, the state dir on it too: exit 1 at the lock, the tree exactly as before', async () => {
  const { disk, root, used } = await nodeOnTmpfs();
  try {
    remount(disk, `size=${used.pages * 4096}`);
    const before = await wholeTree(root);
    const run = await runInProcessWith(['apply', '--root', root, ...APPLY]);
    assert.is(run.status, 1, run.stderr);
    assert.equal(run.stderr.split('\n'), [`error: cannot take the lock ${root}/${STATE}/lock (ENOSPC)`, FULL, '']);
    assert.equal(treeDiff(before, await wholeTree(root)), [], 'the tree byte for byte as before, no state dir');
  } finally {
    await unmount(disk);
  }
});

// ---- the put-back after a failed gate, on a disk that is full by then --------------------------------

test('a failed health gate on a tmpfs with no inode left: put back by rename, exit 3, every file as before, status put-back', async () => {
  const disk = await mountTmpfs();
  const node = await makeLiveNode({ version: '1.28', parent: disk });
  try {
    await node.rejectFlag('--authorization-mode=Node,RBAC');
    const before = nodePart(await wholeTree(node.root));
    let restartedManifest = '';
    let armed = false;
    let writing = false;
    let filled = false;
    // Once the restart is recorded, the disk is full: every inode taken, down to the last one, through the
    // health gate and until the put-back makes its first change (an inode the kernel frees late, such as the
    // old manifest's, is taken too).
    const full = async () => {
      if (!armed || writing) return;
      if (!filled) remount(disk, `nr_inodes=${(await usage(disk)).inodes}`);
      filled = true;
      await takeFreeInodes(disk);
    };
    const reading = <A extends unknown[], R>(op: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
      await full();
      return op(...args);
    };
    let lockHeld: boolean | null = null;
    const putBackBegins = async () => {
      if (!armed || writing) return;
      writing = true;
      lockHeld = await fs.lstat(path.join(node.stateDir, 'lock')).then(() => true, () => false);
    };
    const changing = <A extends unknown[], R>(op: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
      // Releasing the lock is not the put-back (and frees an inode, which is taken too).
      if (args[0] !== path.join(node.stateDir, 'lock')) await putBackBegins();
      return op(...args);
    };
    const ops: FileOps = {
      ...realFileOps,
      readFile: reading(realFileOps.readFile),
      lstat: reading(realFileOps.lstat),
      readdir: reading(realFileOps.readdir),
      writeNew: async (file, data, mode) => {
        await putBackBegins();
        await realFileOps.writeNew(file, data, mode);
        if (String(data).includes('"status": "restarted"')) restartedManifest = file;
      },
      rename: async (from, to) => {
        await putBackBegins();
        await realFileOps.rename(from, to);
        if (from === restartedManifest) armed = true;
      },
      link: changing(realFileOps.link),
      unlink: changing(realFileOps.unlink),
      chmod: changing(realFileOps.chmod),
      chown: changing(realFileOps.chown),
    };
    const services = systemServices({ env: { ...process.env, PATH: node.env.PATH } });
    const run = await runInProcessWith(['apply', '--root', node.root, '--yes', '--health-timeout', '3', '--health-window', '1'], { change: { ops, services } });
    assert.ok(filled, 'the disk filled up before the gate');
    assert.is(lockHeld, true, 'the lock is held until the put-back is over');
    assert.is(run.status, 3, run.stderr);
    assert.match(run.stderr, /^error: the change failed its health gate: kube-apiserver \/readyz: HTTP 500/m);
    assert.match(run.stderr, /^Put back: .*\/var\/snap\/microk8s\/current\/args\/kube-apiserver.* restored; snap\.microk8s\.daemon-kubelite restarted and healthy again\.$/m);
    assert.equal(treeDiff(before, nodePart(await wholeTree(node.root))), [], 'every node file, mode and owner as before');
    assert.equal(temps(await wholeTree(node.root)), []);
    const [snapshot] = await snapshots(node.stateDir);
    assert.is(snapshot.status, 'put-back');
  } finally {
    await node.close();
    await unmount(disk);
  }
});

test('the disk fills up once the change is healthy, before it is recorded verified: kept, exit 0, a warning, the snapshot says restarted', async () => {
  const node = await makeLiveNode({ version: '1.28' });
  try {
    const ops: FileOps = {
      ...realFileOps,
      writeNew: async (file, data, mode) => {
        if (String(data).includes('"status": "verified"')) throw Object.assign(new Error(`ENOSPC: no space left on device, open '${file}'`), { code: 'ENOSPC' });
        return realFileOps.writeNew(file, data, mode);
      },
    };
    const services = systemServices({ env: { ...process.env, PATH: node.env.PATH } });
    const run = await runInProcessWith(['apply', '--root', node.root, '--yes', '--health-timeout', '10', '--health-window', '1'], { change: { ops, services } });
    assert.is(run.status, 0, run.stderr);
    const [snapshot] = await snapshots(node.stateDir);
    assert.ok(run.stderr.includes(`warning: the change is applied and healthy, but the snapshot ${snapshot.id} still says restarted: cannot record the status verified in the snapshot ${snapshot.id} (ENOSPC)\n`), run.stderr);
    assert.match(run.stdout, /^Applied and verified: /m);
    assert.is(snapshot.status, 'restarted');
    assert.equal(temps(await wholeTree(node.root)), []);
  } finally {
    await node.close();
  }
});

test.run();
