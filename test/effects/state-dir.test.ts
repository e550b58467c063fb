import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ensurePrivateDir, realFileOps, type FileOps } from '../../src/effects/file-ops.js';
import { realFileSystem } from '../../src/effects/file-system.js';
import { checkStateDir, resolveStateDir } from '../../src/effects/state-dir.js';
import { makeTempDir } from '../helpers/node-root.js';
import { refusal } from '../helpers/refusal.js';

const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;

test('checkStateDir: the missing directories outermost first, a sticky parent allowed, the links on the way resolved', async () => {
  const tmp = await makeTempDir();
  const sticky = path.join(tmp, 'sticky');
  await fs.mkdir(sticky);
  await fs.chmod(sticky, 0o1777);
  const walked = await checkStateDir(realFileOps, path.join(sticky, 'a/b/state'));
  assert.equal(walked.missing, [path.join(sticky, 'a'), path.join(sticky, 'a/b'), path.join(sticky, 'a/b/state')]);
  assert.is(walked.real, path.join(sticky, 'a/b/state'));

  await fs.mkdir(path.join(tmp, 'real'), { mode: 0o755 });
  await fs.symlink('real', path.join(tmp, 'link'));
  const linked = await checkStateDir(realFileOps, path.join(tmp, 'link/state'));
  assert.is(linked.real, path.join(tmp, 'real/state'));
  assert.equal(linked.links, [{ link: path.join(tmp, 'link'), target: 'real' }]);
});

test('checkStateDir refuses the state dir itself when others can write it even with the sticky bit, and a link another user owns', async () => {
  const tmp = await makeTempDir();
  const state = path.join(tmp, 'state');
  await fs.mkdir(state);
  await fs.chmod(state, 0o1777);
  let error = await refusal(checkStateDir(realFileOps, state));
  assert.is(error.message, `will not use the state directory ${state}: it has mode 1777, which lets group and others write to it`);
  if (!asRoot) return;
  await fs.chmod(state, 0o700);
  const link = path.join(tmp, 'link');
  await fs.symlink('state', link);
  await fs.lchown(link, NOBODY, NOBODY);
  error = await refusal(checkStateDir(realFileOps, link));
  assert.is(error.message, `will not use the state directory ${link}: its parent ${link} is owned by nobody (uid ${NOBODY}) rather than root`);
});

test('ensurePrivateDir checks again what it made: a directory another user slipped in first (mkdir -p takes it silently) is refused', async () => {
  if (!asRoot) return;
  const tmp = await makeTempDir();
  await fs.chmod(tmp, 0o1777);
  const state = path.join(tmp, 'state');
  const racing: FileOps = {
    ...realFileOps,
    mkdir: async (dir, mode) => {
      await fs.mkdir(dir, { mode: 0o700 });
      await fs.chown(dir, NOBODY, NOBODY);
      await realFileOps.mkdir(dir, mode);
    },
  };
  const error = await refusal(ensurePrivateDir(racing, state));
  assert.is(error.message, `will not use the state directory ${state}: it is owned by nobody (uid ${NOBODY}) rather than root`);
});

test('resolveStateDir: a state dir inside the root may follow links that stay inside, never one that leads out', async () => {
  const tmp = await makeTempDir();
  const root = path.join(tmp, 'root');
  await fs.mkdir(path.join(root, 'var'), { recursive: true, mode: 0o755 });
  await fs.mkdir(path.join(root, 'data'), { mode: 0o755 });
  await fs.symlink('../data', path.join(root, 'var/lib'));
  assert.is(await resolveStateDir(realFileOps, root, path.join(root, 'var/lib/harden')), path.join(root, 'data/harden'));
  // An absolute link is taken as this machine takes it, which is outside the root.
  await fs.rm(path.join(root, 'var/lib'));
  await fs.symlink('/data', path.join(root, 'var/lib'));
  const error = await refusal(resolveStateDir(realFileOps, root, path.join(root, 'var/lib/harden')));
  assert.is(error.message, `will not use the state directory ${root}/var/lib/harden: it leads out of --root through the symlink ${root}/var/lib -> /data`);
  // A state dir given outside the root is the user's choice.
  assert.is(await resolveStateDir(realFileOps, root, path.join(tmp, 'state')), path.join(tmp, 'state'));
});

test('readRegularFile: a regular file up to the limit; over it, a FIFO (not waited on) or a device: no content; a symlink: ELOOP', async () => {
  const tmp = await makeTempDir();
  const file = path.join(tmp, 'f');
  await fs.writeFile(file, 'abcd');
  for (const reader of [realFileOps, realFileSystem]) {
    assert.equal((await reader.readRegularFile(file, 4)).content, Buffer.from('abcd'));
    assert.is((await reader.readRegularFile(file, 3)).content, null);
  }
  const fifo = path.join(tmp, 'fifo');
  spawnSync('mkfifo', [fifo]);
  const read = await realFileOps.readRegularFile(fifo, 10);
  assert.is(read.content, null);
  assert.is(read.stat.isFile(), false);
  const zero = await realFileOps.readRegularFile('/dev/zero', 10);
  assert.is(zero.content, null);
  await fs.symlink(file, path.join(tmp, 'link'));
  const error = await realFileOps.readRegularFile(path.join(tmp, 'link'), 10).then(() => null, (e: NodeJS.ErrnoException) => e.code);
  assert.is(error, 'ELOOP');
});

test.run();
