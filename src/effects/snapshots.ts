// The snapshot store, `<stateDir>/snapshots/<id>/`: a manifest and a byte copy of every file apply changes,
// all durable before apply touches an args file. Reading a snapshot back verifies every copy against the
// digest the manifest recorded, so a rollback never writes a damaged copy onto a node.
import path from 'node:path';
import { compareStrings } from '../core/order.js';
import { HardenError } from '../errors.js';
import { builtin } from '../lazy.js';
import { ensurePrivateDir, errorHint, tempPath, type FileOps } from './file-ops.js';
import { errorCode, type EntryStat } from './file-system.js';
import { checkStateDir, stateEntryProblem, type StateReader } from './state-dir.js';
import { manifestProblem, SETTLED, SNAPSHOT_SCHEMA, type SnapshotFile, type SnapshotManifest, type SnapshotStatus } from '../core/snapshot-manifest.js';

export { SNAPSHOT_SCHEMA, type SnapshotFile, type SnapshotManifest, type SnapshotModeChange, type SnapshotStatus } from '../core/snapshot-manifest.js';

/** What reading the store needs: FileOps, or the read-only FileSystem of commands that change nothing. */
export type SnapshotReader = StateReader;
const MANIFEST = 'manifest.json';
/** A copy is an args file, which harden reads only up to 16 MiB; a manifest holds a plan of a few of them. */
const MAX_COPY_BYTES = 16 * 1024 * 1024;
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

export type Clock = () => Date;
const systemClock: Clock = () => new Date();

const ID = /^\d{8}T\d{6}Z-[0-9a-f]{4}$/;

/** `sha256:<hex>` of bytes. */
export function sha256Of(bytes: Buffer | string): string {
  return `sha256:${builtin('node:crypto').createHash('sha256').update(bytes).digest('hex')}`;
}

export function snapshotsDir(stateDir: string): string {
  return path.join(stateDir, 'snapshots');
}

/**
 * Writes a snapshot and returns its manifest once everything is durable. The manifest's files are built from
 * `copies` (copy names assigned here, each digest checked against the bytes); `manifest.files` is ignored.
 */
export async function createSnapshot(
  ops: FileOps,
  stateDir: string,
  manifest: Omit<SnapshotManifest, 'id' | 'history'>,
  copies: readonly { file: SnapshotFile; content: Buffer | null }[],
  clock: Clock = systemClock,
): Promise<SnapshotManifest> {
  const now = clock();
  await ensurePrivateDir(ops, stateDir);
  const parent = snapshotsDir(stateDir);
  await ensurePrivateDir(ops, parent);

  let id = '';
  for (let attempt = 0; ; attempt += 1) {
    id = `${compactTime(now)}-${builtin('node:crypto').randomBytes(2).toString('hex')}`;
    if (!(await exists(ops, path.join(parent, id)))) break;
    if (attempt > 20) throw new HardenError(`cannot pick a new snapshot id in ${parent}`, { hint: 'remove old snapshots and try again' });
  }
  const dir = path.join(parent, id);

  const files: SnapshotFile[] = copies.map(({ file, content }, index) => {
    const digest = content === null ? null : sha256Of(content);
    if (file.sha256Before !== null && file.sha256Before !== digest) {
      throw new HardenError(`${file.path} changed while its snapshot was taken`, { hint: 'run harden apply again' });
    }
    const copy = content === null ? null : `${String(index + 1).padStart(2, '0')}-${path.basename(file.realPath).replace(/[^A-Za-z0-9._-]/g, '_')}`;
    return { ...file, sha256Before: digest, copy };
  });
  const full: SnapshotManifest = { ...manifest, schema: SNAPSHOT_SCHEMA, id, createdAt: now.toISOString(), history: [{ status: manifest.status, at: now.toISOString() }], files };

  try {
    await ops.mkdir(dir, 0o700);
    await ops.chmod(dir, 0o700);
    for (const [index, { content }] of copies.entries()) {
      const name = files[index].copy;
      if (name === null || content === null) continue;
      await writePrivate(ops, path.join(dir, name), content);
    }
    // The manifest last, renamed into place whole: a directory with a manifest is a complete snapshot, even
    // when the run is killed while writing it.
    await replacePrivate(ops, path.join(dir, MANIFEST), `${JSON.stringify(full, null, 2)}\n`);
    await ops.fsyncDir(dir);
    await ops.fsyncDir(parent);
    await ops.fsyncDir(stateDir);
  } catch (error) {
    await removeDir(ops, dir).catch(() => undefined);
    throw storeError(`cannot write the snapshot ${id} in ${parent}`, error);
  }
  return full;
}

/** Records a new status (and any other fields) in a snapshot's manifest, atomically and durably. */
export async function setStatus(
  ops: FileOps,
  stateDir: string,
  id: string,
  status: SnapshotStatus,
  patch: Partial<SnapshotManifest> = {},
  clock: Clock = systemClock,
): Promise<SnapshotManifest> {
  return (await stageStatus(ops, stateDir, id, status, patch, clock)).commit();
}

export interface StagedStatus {
  /** Renames the new manifest into place and fsyncs the snapshot dir: needs no space. */
  commit(): Promise<SnapshotManifest>;
  /** Removes the new manifest, leaving the status as it was. Never throws. */
  discard(): Promise<void>;
}

/**
 * A new status written whole next to the manifest, ready to be renamed into place: what takes space happens
 * before the change it records, so that recording it cannot fail for want of space.
 */
export async function stageStatus(
  ops: FileOps,
  stateDir: string,
  id: string,
  status: SnapshotStatus,
  patch: Partial<SnapshotManifest> = {},
  clock: Clock = systemClock,
): Promise<StagedStatus> {
  const dir = await checkedSnapshotDir(ops, stateDir, id);
  const current = await readManifest(ops, dir, id);
  const next: SnapshotManifest = {
    ...current,
    ...patch,
    schema: SNAPSHOT_SCHEMA,
    id,
    createdAt: current.createdAt,
    status,
    history: [...current.history, { status, at: clock().toISOString() }],
  };
  const file = path.join(dir, MANIFEST);
  const temp = tempPath(file);
  try {
    await writePrivate(ops, temp, `${JSON.stringify(next, null, 2)}\n`);
  } catch (error) {
    await ops.unlink(temp).catch(() => undefined);
    throw storeError(`cannot record the status ${status} in the snapshot ${id}`, error);
  }
  return {
    async commit() {
      try {
        await ops.rename(temp, file);
        await ops.fsyncDir(dir);
      } catch (error) {
        await ops.unlink(temp).catch(() => undefined);
        throw storeError(`cannot record the status ${status} in the snapshot ${id}`, error);
      }
      return next;
    },
    async discard() {
      await ops.unlink(temp).catch(() => undefined);
    },
  };
}

/** Every complete snapshot, oldest first (a directory without a manifest is an interrupted one: left out). */
export async function listSnapshots(ops: SnapshotReader, stateDir: string): Promise<SnapshotManifest[]> {
  const parent = await existingSnapshotsDir(ops, stateDir);
  if (parent === null) return [];
  const manifests: SnapshotManifest[] = [];
  for (const name of (await listNames(ops, parent)).filter((n) => ID.test(n))) {
    const dir = path.join(parent, name);
    await checkSnapshotEntry(ops, name, dir, await lstatIn(ops, dir), 'directory');
    if (!(await exists(ops, path.join(dir, MANIFEST)))) continue;
    manifests.push(await readManifest(ops, dir, name));
  }
  return manifests.sort((a, b) => compareStrings(a.createdAt, b.createdAt) || compareStrings(a.id, b.id));
}

/**
 * Snapshot dirs without a manifest: snapshots a run was stopped while taking (or a prune stopped while removing).
 * They guard nothing — no node file is written before a snapshot's manifest is durable. Only real directories
 * harden could have made count: anything else under a snapshot's name is left alone (and refused by a reader).
 */
export async function incompleteSnapshots(ops: FileOps, stateDir: string): Promise<string[]> {
  const parent = await existingSnapshotsDir(ops, stateDir);
  if (parent === null) return [];
  const out: string[] = [];
  for (const name of (await listNames(ops, parent)).filter((n) => ID.test(n)).sort()) {
    const dir = path.join(parent, name);
    const stat = await ops.lstat(dir).catch(() => null);
    if (!stat || (await stateEntryProblem(ops, stat, 'directory')) !== null) continue;
    if (!(await exists(ops, path.join(dir, MANIFEST)))) out.push(name);
  }
  return out;
}

/** Removes an incomplete snapshot's dir (see incompleteSnapshots), durably. */
export async function removeIncompleteSnapshot(ops: FileOps, stateDir: string, id: string): Promise<void> {
  try {
    const dir = await checkedSnapshotDir(ops, stateDir, id);
    if (await exists(ops, path.join(dir, MANIFEST))) throw new HardenError(`snapshot ${id} is complete`, { hint: 'this is a bug in harden: please report it' });
    await removeDir(ops, dir);
    await ops.fsyncDir(path.dirname(dir));
  } catch (error) {
    throw storeError(`cannot remove the incomplete snapshot ${id}`, error);
  }
}

/**
 * Removes a complete snapshot whose change never reached the node (it guards nothing), durably: the manifest
 * first, so that a crash part-way leaves an incomplete snapshot, which the next run removes. Needs no space.
 */
export async function removeSnapshot(ops: FileOps, stateDir: string, id: string): Promise<void> {
  try {
    await removeDir(ops, snapshotDir(stateDir, id));
    await ops.fsyncDir(snapshotsDir(stateDir));
  } catch (error) {
    throw storeError(`cannot remove the snapshot ${id}`, error);
  }
}

/** A snapshot with the bytes of every copy, each checked against the digest its manifest recorded. */
export async function readSnapshot(ops: SnapshotReader, stateDir: string, id: string): Promise<{ manifest: SnapshotManifest; contents: Map<string, Buffer> }> {
  const dir = await checkedSnapshotDir(ops, stateDir, id);
  const manifest = await readManifest(ops, dir, id);
  const contents = new Map<string, Buffer>();
  for (const file of manifest.files) {
    if (file.copy === null) continue;
    const bytes = await readStateFile(ops, id, path.join(dir, file.copy), MAX_COPY_BYTES, (code) =>
      damaged(id, code === 'ENOENT' ? `the copy of ${file.path} (${file.copy}) is missing` : `the copy of ${file.path} (${file.copy}) cannot be read (${code ?? 'error'})`),
    );
    if (sha256Of(bytes) !== file.sha256Before) throw damaged(id, `the copy of ${file.path} (${file.copy}) does not match its recorded sha256`);
    contents.set(file.path, bytes);
  }
  return { manifest, contents };
}

/** Removes all but the newest `keep` snapshots; unsettled ones (an apply that needs a person) are never removed. */
export async function pruneSnapshots(ops: FileOps, stateDir: string, keep: number): Promise<string[]> {
  if (!Number.isInteger(keep) || keep < 0) throw new HardenError(`cannot keep ${keep} snapshots`, { hint: 'give a whole number, 0 or more' });
  const all = await listSnapshots(ops, stateDir);
  const old = all.slice(0, Math.max(0, all.length - keep)).filter((manifest) => SETTLED.includes(manifest.status));
  const parent = snapshotsDir(stateDir);
  const removed: string[] = [];
  for (const manifest of old) {
    const dir = path.join(parent, manifest.id);
    try {
      await removeDir(ops, dir);
    } catch (error) {
      throw storeError(`cannot remove the snapshot ${manifest.id}`, error);
    }
    removed.push(manifest.id);
  }
  if (removed.length > 0) await ops.fsyncDir(parent).catch(() => undefined);
  return removed;
}

/** Removes a snapshot dir, the manifest first: a crash part-way leaves an incomplete snapshot, which nothing reads. */
async function removeDir(ops: FileOps, dir: string): Promise<void> {
  await ops.unlink(path.join(dir, MANIFEST)).catch((error) => {
    if (errorCode(error) !== 'ENOENT') throw error;
  });
  for (const name of await ops.readdir(dir)) await ops.unlink(path.join(dir, name));
  await ops.rmdir(dir);
}

function snapshotDir(stateDir: string, id: string): string {
  if (!ID.test(id)) throw new HardenError(`${id} is not a snapshot id`, { hint: 'snapshot ids look like 20261122T183000Z-1a2b' });
  return path.join(snapshotsDir(stateDir), id);
}

async function readManifest(ops: SnapshotReader, dir: string, id: string): Promise<SnapshotManifest> {
  const bytes = await readStateFile(ops, id, path.join(dir, MANIFEST), MAX_MANIFEST_BYTES, (code, error) =>
    code === 'ENOENT' ? new HardenError(`no snapshot ${id} in ${path.dirname(dir)}`, { hint: 'choose one of the snapshots that exist' }) : storeError(`cannot read the snapshot ${id}`, error),
  );
  const text = bytes.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw damaged(id, 'manifest.json is not valid JSON');
  }
  const problem = manifestProblem(value, id);
  if (problem) throw damaged(id, `manifest.json ${problem}`);
  return value as SnapshotManifest;
}

/**
 * A file of a snapshot, read as state is read: never through a link, never a FIFO or device, never more than
 * `limit` bytes, and only when root (or this user) alone can write it. `failed` words an errno.
 */
async function readStateFile(ops: SnapshotReader, id: string, file: string, limit: number, failed: (code: string | undefined, error: unknown) => HardenError): Promise<Buffer> {
  let read;
  try {
    read = await ops.readRegularFile(file, limit);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ELOOP') throw untrustedEntry(id, file, 'is a symlink: harden never follows links in its state dir');
    throw failed(code, error);
  }
  await checkSnapshotEntry(ops, id, file, read.stat, 'file');
  if (read.content === null) throw untrustedEntry(id, file, `is over the ${limit / (1024 * 1024)} MiB a snapshot file may hold`);
  return read.content;
}

/** The state dir's snapshots dir (checked, links resolved on the way to the state dir), or null when there is none. */
async function existingSnapshotsDir(ops: SnapshotReader, stateDir: string): Promise<string | null> {
  const state = await checkStateDir(ops, stateDir).catch((error) => Promise.reject(storeError(`cannot read the state directory ${stateDir}`, error)));
  if (state.missing.length > 0) return null;
  const parent = snapshotsDir(state.real);
  const stat = await ops.lstat(parent).catch((error) => (errorCode(error) === 'ENOENT' ? null : Promise.reject(storeError(`cannot list the snapshots in ${parent}`, error))));
  if (stat === null) return null;
  const problem = await stateEntryProblem(ops, stat, 'directory');
  if (problem !== null) {
    throw new HardenError(`will not use the state directory ${stateDir}: ${parent} ${problem}`, {
      hint: `harden trusts only state no other user can write: check what ${parent} holds, or choose another place with --state-dir`,
    });
  }
  return parent;
}

/** A snapshot's dir, checked all the way from `/`: the state dir, its snapshots dir and the snapshot's own. */
async function checkedSnapshotDir(ops: SnapshotReader, stateDir: string, id: string): Promise<string> {
  const name = snapshotDir(stateDir, id); // refuses an id that is not one
  const parent = await existingSnapshotsDir(ops, stateDir);
  if (parent === null) throw new HardenError(`no snapshot ${id} in ${path.dirname(name)}`, { hint: 'choose one of the snapshots that exist' });
  const dir = path.join(parent, id);
  const stat = await ops.lstat(dir).catch((error) => (errorCode(error) === 'ENOENT' ? null : Promise.reject(storeError(`cannot read the snapshot ${id}`, error))));
  if (stat === null) throw new HardenError(`no snapshot ${id} in ${path.dirname(name)}`, { hint: 'choose one of the snapshots that exist' });
  await checkSnapshotEntry(ops, id, dir, stat, 'directory');
  return dir;
}

async function checkSnapshotEntry(ops: SnapshotReader, id: string, entry: string, stat: EntryStat, want: 'directory' | 'file'): Promise<void> {
  const problem = await stateEntryProblem(ops, stat, want);
  if (problem !== null) throw untrustedEntry(id, entry, problem);
}

async function lstatIn(ops: SnapshotReader, entry: string): Promise<EntryStat> {
  try {
    return await ops.lstat(entry);
  } catch (error) {
    throw storeError(`cannot read ${entry}`, error);
  }
}

async function listNames(ops: SnapshotReader, dir: string): Promise<string[]> {
  try {
    return await ops.readdir(dir);
  } catch (error) {
    throw storeError(`cannot list the snapshots in ${dir}`, error);
  }
}

function untrustedEntry(id: string, entry: string, problem: string): HardenError {
  return new HardenError(`will not trust the snapshot ${id}: ${entry} ${problem}`, {
    hint: 'harden restores only from regular files no other user can write: find out who made it, and remove the snapshot if it is not yours',
  });
}

/** A new 0600 file, its content and mode durable (the chmod undoes a umask that took more than group and other). */
async function writePrivate(ops: FileOps, file: string, data: Buffer | string): Promise<void> {
  await ops.writeNew(file, data, 0o600);
  await ops.chmod(file, 0o600);
  await ops.fsync(file);
}

/** writePrivate to a temp file, renamed over `file`: readers see the old file or the whole new one. */
async function replacePrivate(ops: FileOps, file: string, data: Buffer | string): Promise<void> {
  const temp = tempPath(file);
  try {
    await writePrivate(ops, temp, data);
    await ops.rename(temp, file);
  } catch (error) {
    await ops.unlink(temp).catch(() => undefined);
    throw error;
  }
}

async function exists(ops: SnapshotReader, file: string): Promise<boolean> {
  try {
    await ops.lstat(file);
    return true;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw storeError(`cannot read ${file}`, error);
  }
}

function compactTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

function damaged(id: string, what: string): HardenError {
  return new HardenError(`snapshot ${id} is damaged: ${what}`, {
    hint: 'harden will not restore from it; restore the files from another snapshot or by hand',
  });
}

function storeError(message: string, error: unknown): HardenError {
  if (error instanceof HardenError) return error;
  const code = errorCode(error);
  return new HardenError(`${message} (${code ?? (error instanceof Error ? error.message : String(error))})`, { hint: errorHint(code) });
}

/**
 * Restarts an `apply --no-restart` (or `rollback --no-restart`) left owed: the newest snapshot's, while no later
 * apply or rollback has taken place. Never throws: this only feeds a warning.
 */
export async function owedRestarts(ops: SnapshotReader, stateDir: string): Promise<{ id: string; restarts: string[] } | null> {
  try {
    const all = await listSnapshots(ops, stateDir);
    const newest = all[all.length - 1];
    return newest && newest.restartsOwed.length > 0 ? { id: newest.id, restarts: [...newest.restartsOwed] } : null;
  } catch {
    return null;
  }
}
