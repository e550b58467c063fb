import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { realFileOps, type FileOps } from '../../src/effects/file-ops.js';
import { readNodeFile } from '../../src/effects/node-writer.js';
import {
  createSnapshot,
  listSnapshots,
  pruneSnapshots,
  readSnapshot,
  setStatus,
  sha256Of,
  type SnapshotFile,
  type SnapshotManifest,
} from '../../src/effects/snapshots.js';
import { makeNode, makeTempDir } from '../helpers/node-root.js';
import { refusal } from '../helpers/refusal.js';

const APISERVER = '/var/snap/microk8s/current/args/kube-apiserver';
const KUBELET = '/var/snap/microk8s/current/args/kubelet';
const POLICY = '/var/snap/microk8s/6089/args/audit-policy.yaml';


const at = (iso: string) => () => new Date(iso);

function base(status: SnapshotManifest['status'] = 'planned'): Omit<SnapshotManifest, 'id' | 'history'> {
  return {
    schema: 'harden.snapshot/v1',
    createdAt: '',
    toolVersion: '0.1.0',
    kind: 'apply',
    profile: { name: 'cis', source: 'builtin' },
    version: 'v1.28.0',
    revision: '6089',
    status,
    plan: { schema: 'harden.plan/v1' },
    restartsOwed: [],
    files: [],
  };
}

/** The copies apply would hand in: two args files read off a node, and a companion it will create. */
async function nodeCopies(root: string): Promise<{ file: SnapshotFile; content: Buffer | null }[]> {
  const copies: { file: SnapshotFile; content: Buffer | null }[] = [];
  for (const nodePath of [APISERVER, KUBELET]) {
    const state = (await readNodeFile(realFileOps, root, nodePath))!;
    copies.push({
      file: { path: nodePath, realPath: state.realPath, created: false, sha256Before: sha256Of(state.content), sha256After: sha256Of('after\n'), mode: '0660', uid: state.uid, gid: state.gid, owner: 'root:microk8s', copy: null },
      content: state.content,
    });
  }
  copies.push({
    file: { path: POLICY, realPath: POLICY, created: true, sha256Before: null, sha256After: sha256Of('policy\n'), mode: '0600', uid: 0, gid: 0, owner: 'root:root', copy: null },
    content: null,
  });
  return copies;
}

async function modeOf(file: string): Promise<number> {
  return (await fs.stat(file)).mode & 0o7777;
}

test('createSnapshot writes private, verified copies; setStatus records history; readSnapshot reads it back', async () => {
  const root = await makeNode({ version: '1.28' });
  const stateDir = path.join(await makeTempDir(), 'state');
  const copies = await nodeCopies(root);
  const manifest = await createSnapshot(realFileOps, stateDir, base(), copies, at('2026-11-22T18:30:00.123Z'));

  assert.match(manifest.id, /^20261122T183000Z-[0-9a-f]{4}$/);
  assert.is(manifest.createdAt, '2026-11-22T18:30:00.123Z');
  assert.equal(manifest.history, [{ status: 'planned', at: '2026-11-22T18:30:00.123Z' }]);
  assert.equal(manifest.files.map((f) => f.copy), ['01-kube-apiserver', '02-kubelet', null]);
  assert.equal(manifest.files.map((f) => f.realPath), ['/var/snap/microk8s/6089/args/kube-apiserver', '/var/snap/microk8s/6089/args/kubelet', POLICY]);

  const dir = path.join(stateDir, 'snapshots', manifest.id);
  assert.is(await modeOf(stateDir), 0o700);
  assert.is(await modeOf(path.join(stateDir, 'snapshots')), 0o700);
  assert.is(await modeOf(dir), 0o700);
  assert.equal((await fs.readdir(dir)).sort(), ['01-kube-apiserver', '02-kubelet', 'manifest.json']);
  for (const name of await fs.readdir(dir)) assert.is(await modeOf(path.join(dir, name)), 0o600, name);
  assert.equal(await fs.readFile(path.join(dir, '01-kube-apiserver')), copies[0].content);
  assert.equal(JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8')), manifest);

  await setStatus(realFileOps, stateDir, manifest.id, 'written', { restartsOwed: ['snap.microk8s.daemon-kubelite'] }, at('2026-11-22T18:30:01.000Z'));
  const last = await setStatus(realFileOps, stateDir, manifest.id, 'verified', { restartsOwed: [] }, at('2026-11-22T18:30:09.000Z'));
  assert.equal(last.history, [
    { status: 'planned', at: '2026-11-22T18:30:00.123Z' },
    { status: 'written', at: '2026-11-22T18:30:01.000Z' },
    { status: 'verified', at: '2026-11-22T18:30:09.000Z' },
  ]);
  assert.equal((await fs.readdir(dir)).sort(), ['01-kube-apiserver', '02-kubelet', 'manifest.json'], 'no temp manifest left');
  assert.is(await modeOf(path.join(dir, 'manifest.json')), 0o600);

  const read = await readSnapshot(realFileOps, stateDir, manifest.id);
  assert.equal(read.manifest, last);
  assert.equal([...read.contents.keys()], [APISERVER, KUBELET]);
  assert.equal(read.contents.get(APISERVER), copies[0].content);
  assert.equal(read.contents.get(KUBELET), copies[1].content);
});

test('createSnapshot makes everything durable before it returns: the state dirs it creates, copies and manifest synced, the manifest renamed into place whole, then dir, parent, state dir', async () => {
  const root = await makeNode({ version: '1.28' });
  const stateDir = path.join(await makeTempDir(), 'state');
  const calls: string[] = [];
  const rel = (p: string) => path.relative(stateDir, p) || '.';
  const recording: FileOps = {
    ...realFileOps,
    writeNew: async (p, data, mode) => {
      calls.push(`writeNew ${path.basename(p).replace(/harden-\d+-[0-9a-f]+/, 'harden-PID-HEX')}`);
      await realFileOps.writeNew(p, data, mode);
    },
    rename: async (from, to) => {
      calls.push(`rename ${path.basename(from).replace(/harden-\d+-[0-9a-f]+/, 'harden-PID-HEX')} ${path.basename(to)}`);
      await realFileOps.rename(from, to);
    },
    fsyncDir: async (p) => {
      calls.push(`fsyncDir ${rel(p).replace(/\d{8}T\d{6}Z-[0-9a-f]{4}/, 'ID')}`);
      await realFileOps.fsyncDir(p);
    },
  };
  await createSnapshot(recording, stateDir, base(), await nodeCopies(root), at('2026-11-22T18:30:00Z'));
  assert.equal(calls, [
    'fsyncDir ..', // the state dir's entry in its parent
    'fsyncDir .', // the snapshots dir's entry in the state dir
    'writeNew 01-kube-apiserver',
    'writeNew 02-kubelet',
    'writeNew .manifest.json.harden-PID-HEX.tmp',
    'rename .manifest.json.harden-PID-HEX.tmp manifest.json',
    'fsyncDir snapshots/ID',
    'fsyncDir snapshots',
    'fsyncDir .',
  ]);
});

test('a state dir that exists with looser modes is tightened to 0700', async () => {
  const root = await makeNode({ version: '1.28' });
  const stateDir = path.join(await makeTempDir(), 'state');
  await fs.mkdir(stateDir, { mode: 0o755 });
  await fs.chmod(stateDir, 0o755);
  await createSnapshot(realFileOps, stateDir, base(), await nodeCopies(root), at('2026-11-22T18:30:00Z'));
  assert.is(await modeOf(stateDir), 0o700);
});

test('createSnapshot refuses a copy whose bytes do not match the digest it was given', async () => {
  const root = await makeNode({ version: '1.28' });
  const stateDir = path.join(await makeTempDir(), 'state');
  const copies = await nodeCopies(root);
  copies[0] = { ...copies[0], content: Buffer.from('something else\n') };
  const error = await refusal(createSnapshot(realFileOps, stateDir, base(), copies, at('2026-11-22T18:30:00Z')));
  assert.is(error.message, `${APISERVER} changed while its snapshot was taken`);
});

test('a failed snapshot write leaves no snapshot behind', async () => {
  const root = await makeNode({ version: '1.28' });
  const stateDir = path.join(await makeTempDir(), 'state');
  const ops: FileOps = {
    ...realFileOps,
    writeNew: async (p, data, mode) => {
      if (path.basename(p).includes('manifest.json')) throw Object.assign(new Error('full'), { code: 'ENOSPC' });
      await realFileOps.writeNew(p, data, mode);
    },
  };
  const error = await refusal(createSnapshot(ops, stateDir, base(), await nodeCopies(root), at('2026-11-22T18:30:00Z')));
  assert.match(error.message, /^cannot write the snapshot 20261122T183000Z-[0-9a-f]{4} in .*\/snapshots \(ENOSPC\)$/);
  assert.equal(await fs.readdir(path.join(stateDir, 'snapshots')), []);
  assert.equal(await listSnapshots(realFileOps, stateDir), []);
});

test('readSnapshot refuses a corrupted copy, a missing copy and a tampered manifest', async () => {
  const root = await makeNode({ version: '1.28' });
  const stateDir = path.join(await makeTempDir(), 'state');
  const { id } = await createSnapshot(realFileOps, stateDir, base(), await nodeCopies(root), at('2026-11-22T18:30:00Z'));
  const dir = path.join(stateDir, 'snapshots', id);
  const manifestText = await fs.readFile(path.join(dir, 'manifest.json'), 'utf8');
  const copy = await fs.readFile(path.join(dir, '02-kubelet'));

  await fs.appendFile(path.join(dir, '02-kubelet'), '--x=1\n');
  let error = await refusal(readSnapshot(realFileOps, stateDir, id));
  assert.is(error.message, `snapshot ${id} is damaged: the copy of ${KUBELET} (02-kubelet) does not match its recorded sha256`);
  assert.is(error.hint, 'harden will not restore from it; restore the files from another snapshot or by hand');

  await fs.rm(path.join(dir, '02-kubelet'));
  error = await refusal(readSnapshot(realFileOps, stateDir, id));
  assert.is(error.message, `snapshot ${id} is damaged: the copy of ${KUBELET} (02-kubelet) is missing`);
  await fs.writeFile(path.join(dir, '02-kubelet'), copy);
  await readSnapshot(realFileOps, stateDir, id);

  const tampered = JSON.parse(manifestText) as SnapshotManifest;
  tampered.files[0].sha256Before = sha256Of('forged\n');
  await fs.writeFile(path.join(dir, 'manifest.json'), JSON.stringify(tampered));
  error = await refusal(readSnapshot(realFileOps, stateDir, id));
  assert.is(error.message, `snapshot ${id} is damaged: the copy of ${APISERVER} (01-kube-apiserver) does not match its recorded sha256`);

  tampered.files[0].copy = '../../../etc/shadow';
  await fs.writeFile(path.join(dir, 'manifest.json'), JSON.stringify(tampered));
  error = await refusal(readSnapshot(realFileOps, stateDir, id));
  assert.is(error.message, `snapshot ${id} is damaged: manifest.json has a malformed file entry 1`);

  await fs.writeFile(path.join(dir, 'manifest.json'), manifestText.slice(0, 100));
  error = await refusal(readSnapshot(realFileOps, stateDir, id));
  assert.is(error.message, `snapshot ${id} is damaged: manifest.json is not valid JSON`);
  error = await refusal(setStatus(realFileOps, stateDir, id, 'written'));
  assert.is(error.message, `snapshot ${id} is damaged: manifest.json is not valid JSON`);

  error = await refusal(readSnapshot(realFileOps, stateDir, '20261122T183000Z-zzzz'));
  assert.is(error.message, '20261122T183000Z-zzzz is not a snapshot id');
  error = await refusal(readSnapshot(realFileOps, stateDir, '20201122T183000Z-0000'));
  assert.is(error.message, `no snapshot 20201122T183000Z-0000 in ${path.join(stateDir, 'snapshots')}`);
});

test('a failing rename in setStatus leaves the manifest as it was and no temp file', async () => {
  const root = await makeNode({ version: '1.28' });
  const stateDir = path.join(await makeTempDir(), 'state');
  const { id } = await createSnapshot(realFileOps, stateDir, base(), await nodeCopies(root), at('2026-11-22T18:30:00Z'));
  const dir = path.join(stateDir, 'snapshots', id);
  const before = await fs.readFile(path.join(dir, 'manifest.json'), 'utf8');
  const ops: FileOps = { ...realFileOps, rename: async () => Promise.reject(Object.assign(new Error('io'), { code: 'EIO' })) };
  const error = await refusal(setStatus(ops, stateDir, id, 'written'));
  assert.is(error.message, `cannot record the status written in the snapshot ${id} (EIO)`);
  assert.is(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8'), before);
  assert.equal((await fs.readdir(dir)).sort(), ['01-kube-apiserver', '02-kubelet', 'manifest.json']);
});

test('listSnapshots is oldest first and skips an interrupted snapshot; prune keeps the newest N and unsettled ones', async () => {
  const root = await makeNode({ version: '1.28' });
  const stateDir = path.join(await makeTempDir(), 'state');
  assert.equal(await listSnapshots(realFileOps, stateDir), []);
  const copies = await nodeCopies(root);
  const times = ['2026-11-22T18:30:05Z', '2026-11-20T08:00:00Z', '2026-11-21T08:00:00Z', '2026-11-22T18:30:00Z'];
  const ids: string[] = [];
  for (const time of times) ids.push((await createSnapshot(realFileOps, stateDir, base('verified'), copies, at(time))).id);
  // An apply that needs a person: never pruned.
  await setStatus(realFileOps, stateDir, ids[1], 'put-back-failed');
  await fs.mkdir(path.join(stateDir, 'snapshots', '20261101T000000Z-abcd')); // interrupted: no manifest

  const listed = (await listSnapshots(realFileOps, stateDir)).map((m) => m.id);
  assert.equal(listed, [ids[1], ids[2], ids[3], ids[0]]);

  const removed = await pruneSnapshots(realFileOps, stateDir, 2);
  assert.equal(removed, [ids[2]]);
  assert.equal((await listSnapshots(realFileOps, stateDir)).map((m) => m.id), [ids[1], ids[3], ids[0]]);
  assert.equal((await fs.readdir(path.join(stateDir, 'snapshots'))).sort(), ['20261101T000000Z-abcd', ids[1], ids[3], ids[0]].sort());

  assert.equal(await pruneSnapshots(realFileOps, stateDir, 1), [ids[3]]);
  assert.equal(await pruneSnapshots(realFileOps, stateDir, 5), []);
});

test('readSnapshot follows no link and opens nothing but regular files: a copy or a snapshot dir that is a symlink, a group-writable copy', async () => {
  const root = await makeNode({ version: '1.28' });
  const stateDir = path.join(await makeTempDir(), 'state');
  const { id } = await createSnapshot(realFileOps, stateDir, base(), await nodeCopies(root), at('2026-11-22T18:30:00Z'));
  const dir = path.join(stateDir, 'snapshots', id);
  const copy = path.join(dir, '02-kubelet');
  const bytes = await fs.readFile(copy);
  const elsewhere = path.join(path.dirname(stateDir), 'elsewhere');
  await fs.writeFile(elsewhere, bytes);
  await fs.rm(copy);
  await fs.symlink(elsewhere, copy);
  let error = await refusal(readSnapshot(realFileOps, stateDir, id));
  assert.is(error.message, `will not trust the snapshot ${id}: ${copy} is a symlink: harden never follows links in its state dir`);
  assert.is(error.hint, 'harden restores only from regular files no other user can write: find out who made it, and remove the snapshot if it is not yours');

  await fs.rm(copy);
  await fs.writeFile(copy, bytes, { mode: 0o660 });
  await fs.chmod(copy, 0o660);
  error = await refusal(readSnapshot(realFileOps, stateDir, id));
  assert.is(error.message, `will not trust the snapshot ${id}: ${copy} has mode 0660, which lets group write to it`);
  await fs.chmod(copy, 0o600);
  await readSnapshot(realFileOps, stateDir, id);

  const moved = path.join(path.dirname(stateDir), 'moved');
  await fs.rename(dir, moved);
  await fs.symlink(moved, dir);
  error = await refusal(readSnapshot(realFileOps, stateDir, id));
  assert.is(error.message, `will not trust the snapshot ${id}: ${dir} is a symlink: harden never follows links in its state dir`);
  error = await refusal(listSnapshots(realFileOps, stateDir));
  assert.is(error.message, `will not trust the snapshot ${id}: ${dir} is a symlink: harden never follows links in its state dir`);
});

test.run();
