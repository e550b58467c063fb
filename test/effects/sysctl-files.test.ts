// readSysctlFiles on real node roots in temp dirs: links followed inside the root, masks, and entries that are
// listed but never opened.
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { persistedSysctls } from '../../src/core/sysctl.js';
import { NodeReadError } from '../../src/errors.js';
import { realFileSystem } from '../../src/effects/file-system.js';
import { RootedReader } from '../../src/effects/node-reader.js';
import { readSysctlFiles } from '../../src/effects/sysctl-files.js';
import { makeTempDir } from '../helpers/node-root.js';

async function put(root: string, nodePath: string, text: string): Promise<void> {
  await fs.mkdir(path.dirname(path.join(root, nodePath)), { recursive: true });
  await fs.writeFile(path.join(root, nodePath), text);
}

async function link(root: string, nodePath: string, target: string): Promise<void> {
  await fs.mkdir(path.dirname(path.join(root, nodePath)), { recursive: true });
  await fs.symlink(target, path.join(root, nodePath));
}

const read = (root: string) => readSysctlFiles(new RootedReader(realFileSystem, root));

test('every .conf entry of each dir, dirs in precedence order and names in byte order; other names and hidden ones left out', async () => {
  const root = await makeTempDir();
  await put(root, 'usr/lib/sysctl.d/50-default.conf', 'kernel.panic = 0\n');
  await put(root, 'etc/sysctl.d/b.conf', 'vm.b = 1\n');
  await put(root, 'etc/sysctl.d/A.conf', 'vm.a = 1\n');
  await put(root, 'etc/sysctl.d/README', 'not a conf\n');
  await put(root, 'etc/sysctl.d/.hidden.conf', 'vm.h = 1\n');
  await put(root, 'etc/sysctl.d/x.conf.dpkg-old', 'vm.x = 1\n');
  await put(root, 'run/sysctl.d/empty.conf', '');
  assert.equal(await read(root), [
    { dir: '/etc/sysctl.d', name: 'A.conf', text: 'vm.a = 1\n', via: null },
    { dir: '/etc/sysctl.d', name: 'b.conf', text: 'vm.b = 1\n', via: null },
    { dir: '/run/sysctl.d', name: 'empty.conf', text: '', via: null },
    { dir: '/usr/lib/sysctl.d', name: '50-default.conf', text: 'kernel.panic = 0\n', via: null },
  ]);
});

test('no sysctl dirs at all: nothing, no error', async () => {
  assert.equal(await read(await makeTempDir()), []);
});

test('99-sysctl.conf -> ../sysctl.conf is read (the root’s /etc/sysctl.conf, not the host’s), and its value counts', async () => {
  const root = await makeTempDir();
  await put(root, 'etc/sysctl.conf', 'vm.overcommit_memory = 1\n');
  await link(root, 'etc/sysctl.d/99-sysctl.conf', '../sysctl.conf');
  const files = await read(root);
  assert.equal(files, [{ dir: '/etc/sysctl.d', name: '99-sysctl.conf', text: 'vm.overcommit_memory = 1\n', via: '../sysctl.conf' }]);
  assert.equal(persistedSysctls(files, ['vm.overcommit_memory']).get('vm.overcommit_memory'), {
    key: 'vm.overcommit_memory',
    value: '1',
    file: '/etc/sysctl.d/99-sysctl.conf',
    line: 1,
    via: '../sysctl.conf',
  });
});

test('an absolute symlink is taken inside the root', async () => {
  const root = await makeTempDir();
  await put(root, 'opt/conf/kubelet.conf', 'kernel.panic = 10\n');
  await link(root, 'etc/sysctl.d/90-kubelet.conf', '/opt/conf/kubelet.conf');
  assert.equal(await read(root), [{ dir: '/etc/sysctl.d', name: '90-kubelet.conf', text: 'kernel.panic = 10\n', via: '/opt/conf/kubelet.conf' }]);
});

test('a sysctl dir that is itself a symlink (absolute) is followed inside the root', async () => {
  const root = await makeTempDir();
  await put(root, 'srv/sysctl/a.conf', 'vm.a = 1\n');
  await fs.mkdir(path.join(root, 'etc'), { recursive: true });
  await fs.symlink('/srv/sysctl', path.join(root, 'etc/sysctl.d'));
  assert.equal(await read(root), [{ dir: '/etc/sysctl.d', name: 'a.conf', text: 'vm.a = 1\n', via: null }]);
});

test('a link climbing out of the root (../../../../etc/x) stays inside it: the root’s /etc/x is read, never the host’s', async () => {
  const root = await makeTempDir();
  await put(root, 'etc/x', 'kernel.panic = 42\n');
  await link(root, 'etc/sysctl.d/10-up.conf', '../../../../../../../../etc/x');
  // Also a target that exists on the host only: inside the root it is missing, so the entry is unread.
  await link(root, 'etc/sysctl.d/20-host.conf', '../../../../../../../../etc/hostname');
  assert.equal(await read(root), [
    { dir: '/etc/sysctl.d', name: '10-up.conf', text: 'kernel.panic = 42\n', via: '../../../../../../../../etc/x' },
    { dir: '/etc/sysctl.d', name: '20-host.conf', text: null, via: '../../../../../../../../etc/hostname', unread: 'a dangling symlink' },
  ]);
});

test('a link to /dev/null is a mask, whether or not the root has a /dev/null; it hides the /usr/lib file of its name', async () => {
  const root = await makeTempDir();
  await put(root, 'usr/lib/sysctl.d/50-kubelet.conf', 'vm.overcommit_memory = 1\n');
  await link(root, 'etc/sysctl.d/50-kubelet.conf', '/dev/null');
  await link(root, 'run/sysctl.d/60-rel.conf', '../../dev/null');
  const files = await read(root);
  // With a real /dev/null (mknod c 1 3) in the root, the same.
  const withDevice = await makeTempDir();
  await fs.mkdir(path.join(withDevice, 'dev'));
  assert.is(spawnSync('mknod', [path.join(withDevice, 'dev/null'), 'c', '1', '3']).status, 0, 'mknod needs root');
  await link(withDevice, 'etc/sysctl.d/50-kubelet.conf', '/dev/null');
  assert.equal(await read(withDevice), [{ dir: '/etc/sysctl.d', name: '50-kubelet.conf', text: null, via: '/dev/null' }]);
  assert.equal(files, [
    { dir: '/etc/sysctl.d', name: '50-kubelet.conf', text: null, via: '/dev/null' },
    { dir: '/run/sysctl.d', name: '60-rel.conf', text: null, via: '../../dev/null' },
    { dir: '/usr/lib/sysctl.d', name: '50-kubelet.conf', text: 'vm.overcommit_memory = 1\n', via: null },
  ]);
  assert.is(persistedSysctls(files, ['vm.overcommit_memory']).get('vm.overcommit_memory'), null);
});

test('a FIFO is listed unread at once (never opened, no waiting for a writer), and hides a same-named file', async () => {
  const root = await makeTempDir();
  await fs.mkdir(path.join(root, 'etc/sysctl.d'), { recursive: true });
  assert.is(spawnSync('mkfifo', [path.join(root, 'etc/sysctl.d/50-kubelet.conf')]).status, 0);
  await link(root, 'etc/sysctl.d/60-fifo-link.conf', '50-kubelet.conf');
  await put(root, 'usr/lib/sysctl.d/50-kubelet.conf', 'vm.overcommit_memory = 1\n');
  const started = Date.now();
  const files = await read(root);
  assert.ok(Date.now() - started < 2000);
  assert.equal(files.slice(0, 2), [
    { dir: '/etc/sysctl.d', name: '50-kubelet.conf', text: null, via: null, unread: 'a FIFO' },
    { dir: '/etc/sysctl.d', name: '60-fifo-link.conf', text: null, via: '50-kubelet.conf', unread: 'a FIFO' },
  ]);
  assert.is(persistedSysctls(files, ['vm.overcommit_memory']).get('vm.overcommit_memory'), null);
});

test('a directory, a character device, a dangling link and a link loop named *.conf are listed unread', async () => {
  const root = await makeTempDir();
  await fs.mkdir(path.join(root, 'etc/sysctl.d/10-dir.conf'), { recursive: true });
  assert.is(spawnSync('mknod', [path.join(root, 'etc/sysctl.d/20-zero.conf'), 'c', '1', '5']).status, 0, 'mknod needs root');
  await link(root, 'etc/sysctl.d/30-gone.conf', 'nowhere.conf');
  await link(root, 'etc/sysctl.d/40-loop.conf', '40-loop.conf');
  assert.equal(await read(root), [
    { dir: '/etc/sysctl.d', name: '10-dir.conf', text: null, via: null, unread: 'a directory' },
    { dir: '/etc/sysctl.d', name: '20-zero.conf', text: null, via: null, unread: 'a character device' },
    { dir: '/etc/sysctl.d', name: '30-gone.conf', text: null, via: 'nowhere.conf', unread: 'a dangling symlink' },
    { dir: '/etc/sysctl.d', name: '40-loop.conf', text: null, via: '40-loop.conf', unread: 'a symlink loop' },
  ]);
});

test('a file over the reader’s size limit is refused, naming the node path and what harden cannot tell', async () => {
  const root = await makeTempDir();
  await put(root, 'etc/sysctl.d/huge.conf', '');
  await fs.truncate(path.join(root, 'etc/sysctl.d/huge.conf'), 16 * 1024 * 1024 + 1);
  try {
    await read(root);
    assert.unreachable('read a file over the limit');
  } catch (error) {
    assert.instance(error, NodeReadError);
    assert.is((error as NodeReadError).message, '/etc/sysctl.d/huge.conf is over 16777216 bytes, more than harden reads of a sysctl file');
    assert.is(
      (error as NodeReadError).hint,
      'systemd-sysctl reads it at boot and harden cannot tell what it sets: move it out of the sysctl.d directories or shrink it',
    );
  }
});

test('an unreadable file is an error naming the node path (EACCES, as a non-root user would meet it)', async () => {
  const root = await makeTempDir();
  await put(root, 'etc/sysctl.d/a.conf', 'vm.a = 1\n');
  const denying = {
    ...realFileSystem,
    readRegularFile: async () => {
      throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    },
  };
  try {
    await readSysctlFiles(new RootedReader(denying, root));
    assert.unreachable('read a file it may not');
  } catch (error) {
    assert.instance(error, NodeReadError);
    assert.is((error as NodeReadError).message, 'cannot read /etc/sysctl.d/a.conf (EACCES)');
  }
});

test('a NUL byte or bytes that are not UTF-8 do not stop the read: systemd reads such a file too, NUL ending a line', async () => {
  const root = await makeTempDir();
  await fs.mkdir(path.join(root, 'etc/sysctl.d'), { recursive: true });
  await fs.writeFile(path.join(root, 'etc/sysctl.d/a.conf'), Buffer.concat([Buffer.from('vm.a = 1\0vm.b = 2\n# \xff'), Buffer.from([0xff, 0xfe]), Buffer.from('\nkernel.panic = 10\n')]));
  const files = await read(root);
  assert.equal(
    [...persistedSysctls(files, ['vm.a', 'vm.b', 'kernel.panic']).values()].map((a) => a && `${a.value}:${a.line}`),
    ['1:1', '2:2', '10:4'],
  );
});

test.run();
