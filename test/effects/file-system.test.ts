// The real filesystem's readRegularFile: a regular file's bytes up to a limit; a FIFO, a device or a symlink
// at the end of the path is refused without being waited on or followed.
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NOT_REGULAR, realFileSystem, regularBytes, TOO_LARGE } from '../../src/effects/file-system.js';
import { makeTempDir } from '../helpers/node-root.js';

const codeOf = async (work: Promise<unknown>): Promise<string | undefined> => work.then(() => undefined, (error: { code?: string }) => error.code);

test('a regular file is read whole, whatever its size against the first buffer; more than the limit is refused as too large', async () => {
  const dir = await makeTempDir();
  const file = path.join(dir, 'args');
  const bytes = Buffer.alloc(300_000, 'x');
  await fs.writeFile(file, bytes);
  assert.ok((await regularBytes(realFileSystem, file, 1_000_000)).equals(bytes));
  assert.is(await codeOf(regularBytes(realFileSystem, file, 1000)), TOO_LARGE);
  assert.is((await realFileSystem.readRegularFile(file, 1000)).content, null);
  await fs.writeFile(file, '');
  assert.is((await regularBytes(realFileSystem, file, 10)).length, 0);
});

test('a FIFO is refused at once (never waited on for a writer), as ENOTREGULAR', async () => {
  const fifo = path.join(await makeTempDir(), 'fifo');
  assert.is(spawnSync('mkfifo', [fifo]).status, 0);
  assert.is(await codeOf(regularBytes(realFileSystem, fifo, 100)), NOT_REGULAR);
});

test('a character device (mknod c 1 5, /dev/zero) is refused, not read forever', async () => {
  const device = path.join(await makeTempDir(), 'zero');
  assert.is(spawnSync('mknod', [device, 'c', '1', '5']).status, 0, 'mknod needs root');
  assert.is(await codeOf(regularBytes(realFileSystem, device, 100)), NOT_REGULAR);
});

test('a symlink at the end of the path is not followed (ELOOP)', async () => {
  const dir = await makeTempDir();
  await fs.writeFile(path.join(dir, 'real'), 'x');
  await fs.symlink('real', path.join(dir, 'link'));
  assert.is(await codeOf(realFileSystem.readRegularFile(path.join(dir, 'link'), 100)), 'ELOOP');
});

test.run();
