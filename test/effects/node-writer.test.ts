import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { realFileOps, type FileOps } from '../../src/effects/file-ops.js';
import { stageChange } from '../../src/effects/node-change.js';
import { ownerIds, readNodeFile, resolveNode, resolveNodePath, setOwnerAndMode, type CreateOptions } from '../../src/effects/node-writer.js';
import { makeNode, makeTempDir, MICROK8S_GID } from '../helpers/node-root.js';
import { refusal } from '../helpers/refusal.js';

const asRoot = process.getuid?.() === 0;
const APISERVER = '/var/snap/microk8s/current/args/kube-apiserver';
const REV_ARGS = 'var/snap/microk8s/6089/args';


/** Real file ops with one of them failing with `code`. */
function failing(op: keyof FileOps, code = 'EIO'): FileOps {
  return {
    ...realFileOps,
    [op]: async () => {
      throw Object.assign(new Error(`${op} failed`), { code });
    },
  };
}

/** One file written as apply writes it: staged, committed, put back if the commit fails. */
async function write(ops: FileOps, root: string, nodePath: string, content: string, create?: CreateOptions): Promise<void> {
  const staged = await stageChange(ops, root, { writes: [{ path: nodePath, content, ...(create ? { create } : {}) }], removals: [], modes: [] });
  try {
    await staged.commit();
  } catch (error) {
    await staged.putBack();
    throw error;
  } finally {
    await staged.finish();
  }
}

/** One file removed as a put-back removes what an apply created. */
async function remove(root: string, nodePath: string): Promise<void> {
  const staged = await stageChange(realFileOps, root, { writes: [], removals: [nodePath], modes: [] });
  await staged.commit();
  await staged.finish();
}

async function snapshotOf(dir: string): Promise<Record<string, { bytes: string; mode: number; uid: number; gid: number; ino: number }>> {
  const out: Record<string, { bytes: string; mode: number; uid: number; gid: number; ino: number }> = {};
  for (const name of (await fs.readdir(dir)).sort()) {
    const stat = await fs.lstat(path.join(dir, name));
    const bytes = stat.isFile() ? (await fs.readFile(path.join(dir, name))).toString('base64') : stat.isSymbolicLink() ? `-> ${await fs.readlink(path.join(dir, name))}` : 'dir';
    out[name] = { bytes, mode: stat.mode, uid: stat.uid, gid: stat.gid, ino: stat.ino };
  }
  return out;
}

test('a write writes through `current` into the revision dir, keeping mode, owner and the symlink', async () => {
  const root = await makeNode({ version: '1.28' });
  const real = path.join(root, REV_ARGS, 'kube-apiserver');
  const before = await fs.lstat(real);
  await write(realFileOps, root, APISERVER, '--secure-port=16443\n--authorization-mode=RBAC,Node\n');

  assert.is(await fs.readFile(real, 'utf8'), '--secure-port=16443\n--authorization-mode=RBAC,Node\n');
  const after = await fs.lstat(real);
  assert.ok(after.isFile());
  assert.is.not(after.ino, before.ino, 'the revision-dir file is a new inode: it was renamed over');
  assert.is(after.mode & 0o7777, 0o660);
  if (asRoot) assert.equal([after.uid, after.gid], [0, MICROK8S_GID]);
  const current = await fs.lstat(path.join(root, 'var/snap/microk8s/current'));
  assert.ok(current.isSymbolicLink());
  assert.is(await fs.readlink(path.join(root, 'var/snap/microk8s/current')), '6089');
  assert.not.ok((await fs.readdir(path.join(root, REV_ARGS))).some((name) => name.endsWith('.tmp')), 'no temp file left');
});

test('a write replaces the target of an args-file symlink, never the link (absolute targets inside the root)', async () => {
  const root = await makeNode({ version: '1.28' });
  const args = path.join(root, REV_ARGS);
  await fs.rename(path.join(args, 'kube-scheduler'), path.join(args, 'kube-scheduler.real'));
  await fs.symlink('/var/snap/microk8s/current/args/kube-scheduler.real', path.join(args, 'kube-scheduler'));
  await write(realFileOps, root, '/var/snap/microk8s/current/args/kube-scheduler', 'new\n');
  assert.is(await fs.readlink(path.join(args, 'kube-scheduler')), '/var/snap/microk8s/current/args/kube-scheduler.real');
  assert.is(await fs.readFile(path.join(args, 'kube-scheduler.real'), 'utf8'), 'new\n');
  const resolved = await resolveNode(realFileOps, root, '/var/snap/microk8s/current/args/kube-scheduler');
  assert.is(resolved.nodePath, '/var/snap/microk8s/6089/args/kube-scheduler.real');
  assert.is(resolved.hostPath, path.join(args, 'kube-scheduler.real'));
  assert.is(await resolveNodePath(realFileOps, root, '/var/snap/microk8s/current/args/kube-scheduler'), path.join(args, 'kube-scheduler.real'));
});

test('a write refuses a missing file unless told how to create it', async () => {
  const root = await makeNode({ version: '1.28' });
  const nodePath = '/var/snap/microk8s/current/args/audit-policy.yaml';
  const error = await refusal(write(realFileOps, root, nodePath, 'x'));
  assert.is(error.message, `cannot write ${nodePath}: it does not exist; nothing was changed`);

  await write(realFileOps, root, nodePath, 'apiVersion: audit.k8s.io/v1\n', { mode: 0o640, uid: 0, gid: asRoot ? MICROK8S_GID : process.getgid!() });
  const file = path.join(root, REV_ARGS, 'audit-policy.yaml');
  assert.is(await fs.readFile(file, 'utf8'), 'apiVersion: audit.k8s.io/v1\n');
  const stat = await fs.stat(file);
  assert.is(stat.mode & 0o7777, 0o640);
  if (asRoot) assert.equal([stat.uid, stat.gid], [0, MICROK8S_GID]);
});

test('a write refuses what is not a regular file', async () => {
  const root = await makeNode({ version: '1.28' });
  const error = await refusal(write(realFileOps, root, '/var/snap/microk8s/current/args/certs.d', 'x'));
  assert.is(error.message, 'cannot write /var/snap/microk8s/current/args/certs.d (/var/snap/microk8s/6089/args/certs.d): it is not a regular file; nothing was changed');
});

for (const op of ['writeNew', 'chown', 'chmod', 'rename', 'fsyncDir'] as const) {
  test(`a failing ${op} leaves the original byte-identical and no temp file behind`, async () => {
    const root = await makeNode({ version: '1.28' });
    const args = path.join(root, REV_ARGS);
    const before = await snapshotOf(args);
    const error = await refusal(write(failing(op), root, APISERVER, 'replaced\n'));
    // Staging (the temp file, its owner and mode) fails before anything changed; the commit (rename, fsyncDir) after.
    assert.is(error.message, op === 'rename' || op === 'fsyncDir' ? `cannot write ${APISERVER} (EIO)` : `cannot stage ${APISERVER} (EIO); nothing was changed`);
    assert.is(error.exitCode, 1);
    const after = await snapshotOf(args);
    // Even after the rename (a failing fsyncDir), the original itself is renamed back: the same inode.
    assert.equal(after, before);
  });
}

test('a failing fsyncDir after creating a file removes the new file', async () => {
  const root = await makeNode({ version: '1.28' });
  const args = path.join(root, REV_ARGS);
  const before = (await fs.readdir(args)).sort();
  const nodePath = '/var/snap/microk8s/current/args/audit-policy.yaml';
  await refusal(write(failing('fsyncDir', 'EIO'), root, nodePath, 'x', { mode: 0o600, uid: process.getuid!(), gid: process.getgid!() }));
  assert.equal((await fs.readdir(args)).sort(), before);
});

test('a symlink leading out of the root is refused and nothing outside is touched', async () => {
  const parent = await makeTempDir();
  const root = path.join(parent, 'node');
  await fs.mkdir(root);
  await fs.mkdir(path.join(parent, 'outside/args'), { recursive: true });
  await fs.writeFile(path.join(parent, 'outside/args/kube-apiserver'), 'host file\n');
  await fs.mkdir(path.join(root, 'var/snap/microk8s'), { recursive: true });
  await fs.symlink('../../../../outside', path.join(root, 'var/snap/microk8s/current'));

  const error = await refusal(write(realFileOps, root, APISERVER, 'x'));
  assert.is(error.message, `${APISERVER} leads outside the node root (through the symlink /var/snap/microk8s/current -> ../../../../outside); nothing was changed`);
  assert.is(await fs.readFile(path.join(parent, 'outside/args/kube-apiserver'), 'utf8'), 'host file\n');
  assert.equal(await fs.readdir(path.join(parent, 'outside/args')), ['kube-apiserver']);
});

test('an absolute symlink is taken inside the root, not on the host', async () => {
  const root = await makeNode({ version: '1.28' });
  await fs.symlink('/etc/passwd', path.join(root, REV_ARGS, 'passwd-link'));
  const resolved = await resolveNode(realFileOps, root, '/var/snap/microk8s/current/args/passwd-link');
  assert.is(resolved.nodePath, '/etc/passwd');
  assert.is(resolved.hostPath, path.join(root, 'etc/passwd'));
});

test('a symlink loop is refused', async () => {
  const root = await makeNode({ version: '1.28' });
  await fs.symlink('b', path.join(root, REV_ARGS, 'a'));
  await fs.symlink('a', path.join(root, REV_ARGS, 'b'));
  const error = await refusal(write(realFileOps, root, '/var/snap/microk8s/current/args/a', 'x'));
  assert.is(error.message, 'cannot resolve /var/snap/microk8s/current/args/a (ELOOP); nothing was changed');
});

test('setOwnerAndMode changes the revision-dir file through `current`; a removal removes it', async () => {
  const root = await makeNode({ version: '1.28' });
  const real = path.join(root, REV_ARGS, 'kubelet');
  const before = await fs.stat(real);
  const owner = asRoot ? { uid: 0, gid: 0 } : { uid: before.uid, gid: before.gid };
  await setOwnerAndMode(realFileOps, root, '/var/snap/microk8s/current/args/kubelet', { ...owner, mode: 0o600, inode: { dev: before.dev, ino: before.ino }, onlyRemove: true });
  const stat = await fs.stat(real);
  assert.is(stat.mode & 0o7777, 0o600);
  assert.equal([stat.uid, stat.gid], [owner.uid, owner.gid]);
  assert.ok((await fs.lstat(path.join(root, 'var/snap/microk8s/current'))).isSymbolicLink());
  await remove(root, '/var/snap/microk8s/current/args/kubelet');
  assert.not.ok(await fs.lstat(real).catch(() => null));
  await remove(root, '/var/snap/microk8s/current/args/kubelet'); // already gone: fine
  const error = await refusal(setOwnerAndMode(realFileOps, root, '/var/snap/microk8s/current/args/kubelet', { ...owner, mode: 0o600, inode: null, onlyRemove: true }));
  assert.is(error.message, 'cannot change /var/snap/microk8s/current/args/kubelet: it does not exist');
});

test('setOwnerAndMode refuses a link, a second hard link, another inode, a new bit and a path outside the tree; nothing changes', async () => {
  const root = await makeNode({ version: '1.28' });
  const certs = path.join(root, 'var/snap/microk8s/6089/certs');
  const target = path.join(root, 'etc/target');
  await fs.writeFile(target, 'x');
  await fs.chmod(target, 0o640);
  const ca = path.join(certs, 'ca.crt');
  await fs.chmod(ca, 0o640);
  const caStat = await fs.stat(ca);
  const owner = { uid: caStat.uid, gid: caStat.gid };
  const inode = { dev: caStat.dev, ino: caStat.ino };
  const before = async () => [await snapshotOf(certs), await snapshotOf(path.join(root, 'etc'))];
  const start = await before();
  const change = (nodePath: string, extra: Partial<Parameters<typeof setOwnerAndMode>[3]> = {}) =>
    refusal(setOwnerAndMode(realFileOps, root, nodePath, { ...owner, mode: 0o600, inode: null, onlyRemove: true, ...extra }));

  await fs.symlink('/etc/target', path.join(certs, 'evil.crt'));
  let error = await change('/var/snap/microk8s/6089/certs/evil.crt');
  assert.is(error.message, 'cannot change /var/snap/microk8s/6089/certs/evil.crt: it is a symlink (to /etc/target), and harden never writes through one');
  await fs.unlink(path.join(certs, 'evil.crt'));

  error = await change('/var/snap/microk8s/current/certs/ca.crt', { inode: { dev: inode.dev, ino: inode.ino + 1 } });
  assert.is(error.message, 'cannot change /var/snap/microk8s/current/certs/ca.crt: it was replaced by another file since harden looked at it');
  error = await change('/var/snap/microk8s/current/certs/ca.crt', { inode, mode: 0o644 });
  assert.is(error.message, 'cannot change /var/snap/microk8s/current/certs/ca.crt: its mode is 0640 now, and 0644 would add to it');
  error = await change('/etc/target');
  assert.is(error.message, 'cannot change /etc/target: /etc/target is not under /var/snap/microk8s/ (the snap\'s data and common dirs) or /etc/systemd/system/snap.microk8s.daemon-NAME.service, /var/log/apiserver, /etc/sysctl.d/NN-harden-NAME.conf (or zz-harden-NAME.conf)');
  await fs.link(target, path.join(certs, 'hard.crt'));
  error = await change('/var/snap/microk8s/6089/certs/hard.crt');
  assert.is(error.message, 'cannot change /var/snap/microk8s/6089/certs/hard.crt: it has 2 hard links, so another name shares it');
  await fs.unlink(path.join(certs, 'hard.crt'));
  assert.equal(await before(), start, 'nothing changed');

  // A restore may give bits back; a change on a plan may not.
  await setOwnerAndMode(realFileOps, root, '/var/snap/microk8s/6089/certs/ca.crt', { ...owner, mode: 0o644, inode, onlyRemove: false });
  assert.is((await fs.stat(ca)).mode & 0o7777, 0o644);
});

test('readNodeFile gives bytes, real path, mode and owner', async () => {
  const root = await makeNode({ version: '1.28' });
  const state = await readNodeFile(realFileOps, root, APISERVER);
  assert.ok(state);
  assert.is(state!.realPath, '/var/snap/microk8s/6089/args/kube-apiserver');
  assert.equal(state!.content, await fs.readFile(path.join(root, REV_ARGS, 'kube-apiserver')));
  assert.is(state!.mode, 0o660);
  assert.is(await readNodeFile(realFileOps, root, '/var/snap/microk8s/current/args/none'), null);
});

test('ownerIds maps names with the node’s own passwd and group files', async () => {
  const root = await makeNode({ version: '1.28' });
  await fs.appendFile(path.join(root, 'etc/passwd'), 'kube:x:1234:4321::/:/bin/false\n');
  await fs.appendFile(path.join(root, 'etc/group'), 'kube:x:4321:\n');
  assert.equal(await ownerIds(root, 'root:root'), { uid: 0, gid: 0 });
  assert.equal(await ownerIds(root, 'root:microk8s'), { uid: 0, gid: MICROK8S_GID });
  assert.equal(await ownerIds(root, 'kube:kube'), { uid: 1234, gid: 4321 });
  assert.equal(await ownerIds(root, 'kube'), { uid: 1234, gid: 4321 });
  assert.equal(await ownerIds(root, '0:998'), { uid: 0, gid: 998 });
  const user = await refusal(ownerIds(root, 'nobody:root'));
  assert.is(user.message, 'cannot set the owner nobody:root: the node has no user nobody in /etc/passwd');
  const group = await refusal(ownerIds(root, 'root:wheel'));
  assert.is(group.message, 'cannot set the owner root:wheel: the node has no group wheel in /etc/group');
});

test('ownerIds: root and numbers need no lookup, so a node root without /etc serves them', async () => {
  const root = await makeNode({ version: '1.28' });
  await fs.rm(path.join(root, 'etc'), { recursive: true });
  assert.equal(await ownerIds(root, 'root:root'), { uid: 0, gid: 0 });
  assert.equal(await ownerIds(root, 'root'), { uid: 0, gid: 0 });
  assert.equal(await ownerIds(root, '0:998'), { uid: 0, gid: 998 });
  assert.equal(await ownerIds(root, 'root:0'), { uid: 0, gid: 0 });
});

test('ownerIds: a name to look up in a missing /etc/passwd or /etc/group is a clear error naming the file', async () => {
  const root = await makeNode({ version: '1.28' });
  await fs.rm(path.join(root, 'etc/group'));
  const group = await refusal(ownerIds(root, 'root:microk8s'));
  assert.is(group.message, `/etc/group: missing in the node root ${root}; the group microk8s of the owner root:microk8s is looked up there`);
  assert.is(group.hint, "check --root (the node's own /etc/group must be inside it), or give the owner as numbers (uid:gid) in the profile");
  await fs.rm(path.join(root, 'etc'), { recursive: true });
  const user = await refusal(ownerIds(root, 'kube:0'));
  assert.is(user.message, `/etc/passwd: missing in the node root ${root}; the user kube of the owner kube:0 is looked up there`);
  assert.is((await refusal(ownerIds(root, 'root:microk8s'))).message, `/etc/group: missing in the node root ${root}; the group microk8s of the owner root:microk8s is looked up there`);
});

test.run();
