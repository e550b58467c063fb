// A staged change to a node (src/effects/node-change.ts): everything that takes space before the first
// write, the commit and the put-back by renames, unlinks, chowns and chmods only. The put-back brings back the
// originals themselves (the same inodes), and works when nothing may take space any more.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { realFileOps, type FileOps } from '../../src/effects/file-ops.js';
import { stageChange, type NodeChange } from '../../src/effects/node-change.js';
import { makeNode } from '../helpers/node-root.js';
import { refusal } from '../helpers/refusal.js';

const ARGS = 'var/snap/microk8s/6089/args';
const CURRENT = '/var/snap/microk8s/current/args';
const TEMP = /^\..+\.harden-\d+-[0-9a-f]+\.tmp$/;

type Listing = Record<string, { bytes: string; mode: number; uid: number; gid: number; ino: number }>;

/** Every entry of a directory with its bytes, mode, owner and inode number. */
async function listing(dir: string): Promise<Listing> {
  const out: Listing = {};
  for (const name of (await fs.readdir(dir)).sort()) {
    const stat = await fs.lstat(path.join(dir, name));
    const bytes = stat.isFile() ? (await fs.readFile(path.join(dir, name))).toString('base64') : stat.isSymbolicLink() ? `-> ${await fs.readlink(path.join(dir, name))}` : 'dir';
    out[name] = { bytes, mode: stat.mode & 0o7777, uid: stat.uid, gid: stat.gid, ino: stat.ino };
  }
  return out;
}

/** Two args files replaced, one created, one mode and owner changed (on a file whose content changes too). */
function change(): NodeChange {
  return {
    writes: [
      { path: `${CURRENT}/kube-apiserver`, content: '--authorization-mode=Node,RBAC\n' },
      { path: `${CURRENT}/kube-scheduler`, content: '--bind-address=127.0.0.1\n' },
      { path: `${CURRENT}/audit-policy.yaml`, content: 'apiVersion: audit.k8s.io/v1\n', create: { mode: 0o600, uid: 0, gid: 0 } },
    ],
    removals: [],
    modes: [{ path: `${CURRENT}/kube-apiserver`, to: { mode: 0o600, uid: 0, gid: 0 } }],
  };
}

const enospc = (what: string) => Object.assign(new Error(`ENOSPC: no space left on device, ${what}`), { code: 'ENOSPC' });

/** Real file ops in which the operations named fail with ENOSPC once `full()` says the disk is full. */
function fillable(names: readonly (keyof FileOps)[], full: () => boolean, onCall?: (name: keyof FileOps) => void): FileOps {
  const ops: Record<string, unknown> = { ...realFileOps };
  for (const name of names) {
    const real = realFileOps[name] as (...args: unknown[]) => Promise<unknown>;
    ops[name] = async (...args: unknown[]) => {
      onCall?.(name);
      if (full()) throw enospc(`${name} '${String(args[0])}'`);
      return real(...args);
    };
  }
  return ops as unknown as FileOps;
}

test('stage, commit, finish: new contents with the originals’ modes and owners, the new file, the mode; no temp left', async () => {
  const root = await makeNode({ version: '1.28' });
  const dir = path.join(root, ARGS);
  const before = await listing(dir);
  const staged = await stageChange(realFileOps, root, change());
  assert.equal(Object.keys(await listing(dir)).filter((name) => TEMP.test(name)).length, 5, 'three new contents and two originals staged');
  assert.equal((await listing(dir))['kube-apiserver'], before['kube-apiserver'], 'the node file itself is untouched while staged');
  await staged.commit();
  await staged.finish();
  const after = await listing(dir);
  assert.equal(Object.keys(after).filter((name) => TEMP.test(name)), []);
  assert.is(Buffer.from(after['kube-apiserver'].bytes, 'base64').toString(), '--authorization-mode=Node,RBAC\n');
  assert.equal([after['kube-apiserver'].mode, after['kube-apiserver'].uid, after['kube-apiserver'].gid], [0o600, 0, 0]);
  assert.equal([after['kube-scheduler'].mode, after['kube-scheduler'].uid, after['kube-scheduler'].gid], [before['kube-scheduler'].mode, before['kube-scheduler'].uid, before['kube-scheduler'].gid]);
  assert.is.not(after['kube-scheduler'].ino, before['kube-scheduler'].ino);
  assert.is(after['audit-policy.yaml'].mode, 0o600);
});

test('a full disk while staging: nothing changed (the same inodes), no temp left, the error says so', async () => {
  for (let spaceFor = 0; spaceFor < 5; spaceFor += 1) {
    const root = await makeNode({ version: '1.28' });
    const dir = path.join(root, ARGS);
    const before = await listing(dir);
    let taken = 0;
    const ops = fillable(['writeNew', 'link'], () => taken > spaceFor, () => (taken += 1));
    const error = await refusal(stageChange(ops, root, change()));
    assert.match(error.message, /^no space left on device to stage \/var\/snap\/microk8s\/current\/args\/(kube-apiserver|kube-scheduler|audit-policy\.yaml) \(ENOSPC\); nothing was changed$/);
    assert.is(error.hint, 'the disk is full: free some space and run harden again');
    assert.equal(await listing(dir), before, `room for ${spaceFor} files: the directory exactly as before`);
  }
});

test('a commit that fails part-way is put back by renames: the originals themselves (same inodes), modes and owners', async () => {
  for (const failing of ['rename', 'fsyncDir', 'setOwnerAndMode'] as const) {
    for (const nth of failing === 'rename' || failing === 'fsyncDir' ? [1, 2, 3] : [1]) {
      const root = await makeNode({ version: '1.28' });
      const dir = path.join(root, ARGS);
      const before = await listing(dir);
      // Once staged, the disk is full (nothing may take space, in the commit or the put-back), and the nth
      // call of `failing` in the commit fails.
      let committing = false;
      let calls = 0;
      const ops = fillable(['writeNew', 'link', 'mkdir'], () => committing);
      const real = realFileOps[failing] as (...args: unknown[]) => Promise<unknown>;
      (ops as unknown as Record<string, unknown>)[failing] = async (...args: unknown[]) => {
        if (committing && ++calls === nth) throw enospc(`${failing} '${String(args[0])}'`);
        return real(...args);
      };
      const staged = await stageChange(ops, root, change());
      committing = true;
      const error = await refusal(staged.commit());
      assert.match(error.message, /^cannot write \/var\/snap\/microk8s\/current\/args\/\S+ \(ENOSPC\)$/);
      const back = await staged.putBack();
      await staged.finish();
      assert.equal(back.failures, [], `${failing} #${nth}`);
      assert.equal(await listing(dir), before, `${failing} #${nth}: every file as before, the same inodes`);
    }
  }
});

test('the put-back after a complete commit needs no space: created files removed, originals renamed back', async () => {
  const root = await makeNode({ version: '1.28' });
  const dir = path.join(root, ARGS);
  const before = await listing(dir);
  let full = false;
  const ops = fillable(['writeNew', 'link', 'mkdir'], () => full);
  const staged = await stageChange(ops, root, change());
  await staged.commit();
  full = true;
  const back = await staged.putBack();
  await staged.finish();
  assert.equal(back.failures, []);
  assert.equal(back.restored, [`${CURRENT}/kube-apiserver`, `${CURRENT}/kube-scheduler`, `${CURRENT}/audit-policy.yaml`, `${CURRENT}/kube-apiserver (mode 0660, owner 0:998)`]);
  assert.equal(await listing(dir), before);
});

test('a removal is staged as a second name and put back by rename', async () => {
  const root = await makeNode({ version: '1.28' });
  const dir = path.join(root, ARGS);
  const before = await listing(dir);
  const staged = await stageChange(realFileOps, root, { writes: [], removals: [`${CURRENT}/kubelet`, `${CURRENT}/not-there`], modes: [] });
  await staged.commit();
  assert.not.ok(await fs.lstat(path.join(dir, 'kubelet')).catch(() => null), 'removed');
  await staged.putBack();
  await staged.finish();
  assert.equal(await listing(dir), before);
});

test('what a killed run staged is a harden temp file: the next run removes it, and the original stays', async () => {
  const root = await makeNode({ version: '1.28' });
  const dir = path.join(root, ARGS);
  const before = await listing(dir);
  await stageChange(realFileOps, root, change()); // and then the run is "killed": never committed nor finished
  const { removeLeftovers } = await import('../../src/effects/leftovers.js');
  const removed = await removeLeftovers(realFileOps, path.join(root, 'var/lib/harden'), [dir], () => false);
  assert.is(removed.length, 0, 'a temp file of this (live) process is kept');
  // As seen by a later run: this pid no longer runs.
  for (const name of (await fs.readdir(dir)).filter((n) => TEMP.test(n))) {
    await fs.rename(path.join(dir, name), path.join(dir, name.replace(/harden-\d+-/, 'harden-999999999-')));
  }
  const later = await removeLeftovers(realFileOps, path.join(root, 'var/lib/harden'), [dir], () => false);
  assert.is(later.length, 5);
  assert.equal(await listing(dir), before);
});

test.run();
