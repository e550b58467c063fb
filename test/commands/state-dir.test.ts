// harden's state dir as an input: who owns it and its parents, links on the way to it and inside it, files
// that are not regular, snapshots forged or damaged so that a rollback would write something bash runs, and
// node files whose mode changed after the apply. Real files as root (chown to nobody), real bash.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SnapshotManifest } from '../../src/effects/snapshots.js';
import { BIN, runInProcessWith, spawnCollecting } from '../helpers/cli.js';
import { readTree, treeDiff, type TreeEntry } from '../helpers/live-node.js';
import { layOutNode, makeNode, makeTempDir, MICROK8S_GID } from '../helpers/node-root.js';

const NOBODY = 65534;
const ARGS = '/var/snap/microk8s/current/args';
const asRoot = process.getuid?.() === 0;
const sha = (bytes: string | Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const harden = (...args: string[]) => runInProcessWith(args);

/** A 1.28 node at `<tmp>/root` (with the `var/lib` every root has), and the apply of one flag rule by --no-restart. */
async function appliedNode(): Promise<{ tmp: string; root: string; stateDir: string; id: string }> {
  const tmp = await makeTempDir('harden-state-');
  const root = path.join(tmp, 'root');
  await fs.mkdir(root);
  await layOutNode(root, { version: '1.28' });
  await fs.mkdir(path.join(root, 'var/lib'), { mode: 0o755 });
  const run = await harden('--root', root, 'apply', '--only', 'kube-scheduler.bind-address', '--yes', '--no-restart');
  assert.is(run.status, 0, run.stderr);
  const stateDir = path.join(root, 'var/lib/harden');
  const [id] = await fs.readdir(path.join(stateDir, 'snapshots'));
  return { tmp, root, stateDir, id };
}

/**
 * Adds args/<name> to a snapshot as if the apply had changed it: a copy holding `text`, its sha256 recomputed in
 * the manifest, and the node's present bytes as what the apply left (so that nothing looks drifted).
 */
async function forge(root: string, stateDir: string, id: string, name: string, text: string): Promise<void> {
  const dir = path.join(stateDir, 'snapshots', id);
  const manifest = JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8')) as SnapshotManifest;
  const now = await fs.readFile(path.join(root, 'var/snap/microk8s/6089/args', name));
  const copy = `0${manifest.files.length + 1}-${name}`;
  await fs.writeFile(path.join(dir, copy), text, { mode: 0o600 });
  manifest.files.push({
    path: `${ARGS}/${name}`,
    realPath: `/var/snap/microk8s/6089/args/${name}`,
    created: false,
    sha256Before: sha(text),
    sha256After: sha(now),
    mode: '0660',
    uid: 0,
    gid: asRoot ? MICROK8S_GID : 0,
    owner: 'root:microk8s',
    copy,
  });
  await fs.writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
}

/** What MicroK8s' wrapper does with an args file: `declare -a args="($(cat file))"`, in real bash. */
function bashReads(file: string, cwd: string): void {
  spawnSync('bash', ['-c', 'declare -a args="($(cat "$1"))"', 'wrapper', file], { cwd, stdio: 'ignore' });
}

function noDiff(before: Map<string, TreeEntry>, after: Map<string, TreeEntry>, what: string): void {
  assert.equal(treeDiff(before, after), [], what);
}

const DQLITE_FORGED = (marker: string) => `--storage-dir=\${SNAP_DATA}/var/kubernetes/backend/\n--listen=unix://\${SNAP_DATA}/var/kubernetes/backend/kine.sock:12379\n--x=$(touch ${marker})\n`;

test('a state dir owned by another user (nobody, 0777) holding a forged snapshot: rollback refuses it, writes nothing, and bash runs nothing', async () => {
  if (!asRoot) return;
  const { tmp, root, stateDir, id } = await appliedNode();
  const marker = path.join(tmp, 'MARKER');
  await forge(root, stateDir, id, 'k8s-dqlite', DQLITE_FORGED(marker));
  spawnSync('chown', ['-R', `${NOBODY}:${NOBODY}`, stateDir]);
  await fs.chmod(stateDir, 0o777);
  const before = await readTree(tmp, []);

  const run = await harden('--root', root, 'rollback', '--yes', '--no-restart');
  assert.is(run.status, 1, run.stderr);
  assert.is(
    run.stderr,
    `error: will not use the state directory ${stateDir}: it is owned by nobody (uid ${NOBODY}) rather than root, and has mode 0777, which lets group and others write to it\n` +
      `hint: harden trusts only state no other user can write: check what ${stateDir} holds, then chown root:root ${stateDir}; chmod go-w ${stateDir}; or choose another place with --state-dir\n`,
  );
  assert.is(run.stdout, '');
  noDiff(before, await readTree(tmp, []), 'nothing written');
  bashReads(path.join(root, 'var/snap/microk8s/current/args/k8s-dqlite'), tmp);
  assert.is(await fs.stat(marker).then(() => true, () => false), false, 'the wrapper ran no command');

  // `snapshots list` reads the same state: refused the same way.
  const list = await harden('--root', root, 'snapshots', 'list');
  assert.is(list.status, 1);
  assert.match(list.stderr, /^error: will not use the state directory .*: it is owned by nobody/);
});

test('a snapshot dir, a manifest or a copy owned by another user inside a root-owned state dir is refused', async () => {
  if (!asRoot) return;
  for (const target of ['dir', 'manifest.json', '01-kube-scheduler'] as const) {
    const { tmp, root, stateDir, id } = await appliedNode();
    const dir = path.join(stateDir, 'snapshots', id);
    const file = target === 'dir' ? dir : path.join(dir, target);
    await fs.chown(file, NOBODY, NOBODY);
    const before = await readTree(tmp, []);
    const run = await harden('--root', root, 'rollback', '--yes', '--no-restart');
    assert.is(run.status, 1, run.stderr);
    assert.is(run.stderr.split('\n')[0], `error: will not trust the snapshot ${id}: ${file} is owned by nobody (uid ${NOBODY}) rather than root`, target);
    assert.is(run.stderr.split('\n')[1], 'hint: harden restores only from regular files no other user can write: find out who made it, and remove the snapshot if it is not yours', target);
    noDiff(before, await readTree(tmp, []), `${target}: nothing written`);
  }
  // Group-writable is refused like another owner.
  const { root, stateDir, id } = await appliedNode();
  const manifest = path.join(stateDir, 'snapshots', id, 'manifest.json');
  await fs.chmod(manifest, 0o620);
  const run = await harden('--root', root, 'snapshots', 'show', id);
  assert.is(run.status, 1);
  assert.is(run.stderr.split('\n')[0], `error: will not trust the snapshot ${id}: ${manifest} has mode 0620, which lets group write to it`);
});

test('a parent of the state dir that others can write is refused; a sticky one (like /tmp) is not', async () => {
  const { tmp, root } = await appliedNode();
  const shared = path.join(tmp, 'shared');
  await fs.mkdir(shared);
  await fs.chmod(shared, 0o777);
  const stateDir = path.join(shared, 'state');
  const run = await harden('--root', root, '--state-dir', stateDir, 'apply', '--yes', '--no-restart');
  assert.is(run.status, 1, run.stderr);
  assert.is(run.stderr.split('\n')[0], `error: will not use the state directory ${stateDir}: its parent ${shared} has mode 0777, which lets group and others write to it (and replace what it holds)`);
  assert.equal(await fs.readdir(shared), [], 'nothing created');

  await fs.chmod(shared, 0o1777);
  const sticky = await harden('--root', root, '--state-dir', stateDir, 'apply', '--yes', '--no-restart');
  assert.is(sticky.status, 0, sticky.stderr);
  assert.is((await fs.stat(stateDir)).mode & 0o7777, 0o700);
});

test('a forged or damaged root-owned snapshot whose copy bash would run is refused without --force, naming the file and line', async () => {
  const { tmp, root, stateDir, id } = await appliedNode();
  const marker = path.join(tmp, 'MARKER');
  await forge(root, stateDir, id, 'k8s-dqlite', DQLITE_FORGED(marker));
  const before = await readTree(tmp, []);
  const run = await harden('--root', root, 'rollback', '--yes', '--no-restart');
  assert.is(run.status, 1, run.stderr);
  assert.is(
    run.stderr,
    `error: will not roll back ${id}: the snapshot's copy of ${ARGS}/k8s-dqlite has an error on line 3: command substitution $(...): bash would run it as root when reading the file; write the value literally\n` +
      'hint: look at harden snapshots diff ID; pass --force to restore the snapshot anyway\n',
  );
  noDiff(before, await readTree(tmp, []), 'nothing written');

  const forced = await harden('--root', root, 'rollback', '--yes', '--no-restart', '--force');
  assert.is(forced.status, 0, forced.stderr);
  assert.is(await fs.readFile(path.join(root, 'var/snap/microk8s/6089/args/k8s-dqlite'), 'utf8'), DQLITE_FORGED(marker), '--force restores it as it is');
});

test('the default state dir through a link that leaves the root is refused, and nothing is written there', async () => {
  const { tmp, root } = await appliedNode();
  const elsewhere = path.join(tmp, 'elsewhere');
  await fs.mkdir(elsewhere);
  await fs.rm(path.join(root, 'var/lib'), { recursive: true });
  await fs.symlink(elsewhere, path.join(root, 'var/lib'));
  const before = await readTree(tmp, []);
  for (const argv of [['apply', '--yes', '--no-restart'], ['rollback', '--yes', '--no-restart'], ['snapshots', 'list']]) {
    const run = await harden('--root', root, ...argv);
    assert.is(run.status, 1, run.stderr);
    assert.is(
      run.stderr,
      `error: will not use the state directory ${root}/var/lib/harden: it leads out of --root through the symlink ${root}/var/lib -> ${elsewhere}\n` +
        'hint: harden keeps its state inside the node it changes: make that path a real directory inside the root, or choose a place with --state-dir\n',
      argv[0],
    );
  }
  noDiff(before, await readTree(tmp, []), 'nothing written');
  assert.equal(await fs.readdir(elsewhere), []);

  // A link that stays inside the root is followed once, and the state is kept where it leads.
  await fs.rm(path.join(root, 'var/lib'));
  await fs.mkdir(path.join(root, 'srv/lib'), { recursive: true, mode: 0o755 });
  await fs.symlink('../srv/lib', path.join(root, 'var/lib'));
  const run = await harden('--root', root, 'apply', '--yes', '--no-restart');
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stdout, new RegExp(`^Snapshot \\S+ in ${root}/srv/lib/harden/snapshots/`, 'm'));
});

test('a manifest that is a FIFO, or a symlink to /dev/zero, is refused at once (never opened, never read without bound)', async () => {
  for (const kind of ['fifo', 'zero', 'copy-zero'] as const) {
    const { tmp, root, stateDir, id } = await appliedNode();
    const dir = path.join(stateDir, 'snapshots', id);
    const file = path.join(dir, kind === 'copy-zero' ? '01-kube-scheduler' : 'manifest.json');
    await fs.rm(file);
    if (kind === 'fifo') spawnSync('mkfifo', ['-m', '0600', file]);
    else await fs.symlink('/dev/zero', file);
    const before = await readTree(tmp, []);
    for (const argv of [['rollback', '--yes', '--no-restart'], ['snapshots', 'show', id], ['check']]) {
      const run = await harden('--root', root, ...argv);
      if (argv[0] === 'check') continue; // reads the state only for a warning; what matters is that it returns
      assert.is(run.status, 1, `${kind} ${argv[0]}: ${run.stderr}`);
      const what = kind === 'fifo' ? 'is a FIFO, not a regular file' : 'is a symlink: harden never follows links in its state dir';
      assert.is(run.stderr.split('\n')[0], `error: will not trust the snapshot ${id}: ${file} ${what}`, `${kind} ${argv[0]}`);
    }
    noDiff(before, await readTree(tmp, []), `${kind}: nothing written`);
  }
});

test('an incomplete snapshot that is a symlink to another directory: apply neither follows it nor removes what it points to', async () => {
  const { tmp, root, stateDir } = await appliedNode();
  const victim = path.join(tmp, 'victim');
  await fs.mkdir(victim);
  await fs.writeFile(path.join(victim, 'keep'), 'precious\n');
  await fs.symlink(victim, path.join(stateDir, 'snapshots', '20200101T000000Z-abcd'));
  await harden('--root', root, 'apply', '--yes', '--no-restart');
  assert.equal(await fs.readdir(victim), ['keep']);
  assert.is(await fs.readFile(path.join(victim, 'keep'), 'utf8'), 'precious\n');
});

test('apply creates a missing <root>/var/lib 0755 as a system has it (the state dir alone is 0700), whatever the umask', async () => {
  const root = await makeNode({ version: '1.28' });
  const previous = process.umask(0o077);
  const run = await spawnCollecting(process.execPath, [BIN, '--root', root, 'apply', '--only', 'kube-scheduler.bind-address', '--yes', '--no-restart']).finally(() => process.umask(previous));
  assert.is(run.status, 0, run.stderr);
  const mode = async (rel: string) => ((await fs.stat(path.join(root, rel))).mode & 0o7777).toString(8);
  assert.is(await mode('var/lib'), '755');
  assert.is(await mode('var/lib/harden'), '700');
  assert.is(await mode('var/lib/harden/snapshots'), '700');
});

test('rollback counts a mode or owner change since the apply as drift: refused, naming the file and both modes, unless --force', async () => {
  const tmp = await makeTempDir('harden-state-');
  const root = path.join(tmp, 'root');
  await fs.mkdir(root);
  await layOutNode(root, { version: '1.28' });
  const applied = await harden('--root', root, 'apply', '--profile', 'cis', '--only', 'files.scheduler-args,files.cis-hardening-lock,kube-scheduler.bind-address', '--yes', '--no-restart');
  assert.is(applied.status, 0, applied.stderr);
  const [id] = await fs.readdir(path.join(root, 'var/lib/harden/snapshots'));
  const scheduler = path.join(root, 'var/snap/microk8s/6089/args/kube-scheduler');
  assert.is((await fs.stat(scheduler)).mode & 0o777, 0o600, 'the apply made it 0600');
  await fs.chmod(scheduler, 0o640);
  const before = await readTree(tmp, []);
  const run = await harden('--root', root, 'rollback', '--yes', '--no-restart');
  assert.is(run.status, 1, run.stderr);
  assert.is(run.stderr, `error: will not roll back ${id}: /var/snap/microk8s/6089/args/kube-scheduler changed mode since the apply (0600 then, 0640 now)\nhint: look at harden snapshots diff ID; pass --force to restore the snapshot anyway\n`);
  noDiff(before, await readTree(tmp, []), 'nothing written');

  const forced = await harden('--root', root, 'rollback', '--yes', '--no-restart', '--force');
  assert.is(forced.status, 0, forced.stderr);
  assert.ok(forced.stdout.includes('~ /var/snap/microk8s/6089/args/kube-scheduler: mode 0640 -> 0660, owner root:root -> root:microk8s'), forced.stdout);
  assert.is((await fs.stat(scheduler)).mode & 0o777, 0o660);
});

test('a user other than root runs harden on their own offline copy with --no-restart, state dir and all', async () => {
  if (!asRoot) return;
  const home = await makeTempDir('harden-user-');
  await fs.chmod(home, 0o755);
  const root = path.join(home, 'root');
  await fs.mkdir(root);
  await layOutNode(root, { version: '1.28' });
  spawnSync('chown', ['-R', `${NOBODY}:${NOBODY}`, root]);
  const asNobody = (...args: string[]) => spawnSync(process.execPath, [BIN, '--root', root, ...args], { uid: NOBODY, gid: NOBODY, encoding: 'utf8', env: { PATH: process.env.PATH, NO_COLOR: '1' } });
  const applied = asNobody('apply', '--only', 'kube-scheduler.bind-address', '--yes', '--no-restart');
  assert.is(applied.status, 0, applied.stderr);
  const stat = await fs.stat(path.join(root, 'var/lib/harden'));
  assert.is(stat.uid, NOBODY);
  assert.is(stat.mode & 0o7777, 0o700);
  const rolled = asNobody('rollback', '--yes', '--no-restart');
  assert.is(rolled.status, 0, rolled.stderr);
});

test.run();
