// What a snapshot's manifest holds, and the check that a parsed one has that shape before any field is used.
// Pure: the store (effects/snapshots.ts) reads and writes it.

export const SNAPSHOT_SCHEMA = 'harden.snapshot/v1';

/** `interrupted`: a person stopped the put-back after a signal, and the node was left as it was then. */
export type SnapshotStatus = 'planned' | 'written' | 'restarted' | 'verified' | 'put-back' | 'put-back-failed' | 'rolled-back' | 'interrupted';
export const STATUSES: readonly SnapshotStatus[] = ['planned', 'written', 'restarted', 'verified', 'put-back', 'put-back-failed', 'rolled-back', 'interrupted'];
/** Snapshots in these states are finished with; the others may still be needed to put a node back. */
export const SETTLED: readonly SnapshotStatus[] = ['verified', 'put-back', 'rolled-back'];

export interface SnapshotFile {
  /** Node path as the plan names it (through `current`). */
  path: string;
  /** Resolved node path inside the revision dir. */
  realPath: string;
  /** Apply created the file: rolling back removes it. */
  created: boolean;
  sha256Before: string | null;
  sha256After: string | null;
  sha256AfterRestart?: string | null;
  /** Mode before apply (for a created file: the mode apply gives it), `0660`. */
  mode: string;
  uid: number;
  gid: number;
  owner: string;
  /** The copy's file name inside the snapshot dir; null for a created file. */
  copy: string | null;
}

/** A mode or owner change apply makes without touching the content. */
export interface SnapshotModeChange {
  path: string;
  realPath: string;
  modeBefore: string;
  modeAfter: string;
  uidBefore: number;
  gidBefore: number;
  ownerBefore: string;
  uidAfter: number;
  gidAfter: number;
  ownerAfter: string;
  /** The entry's inode when the change was planned: writes and restores change that inode only. */
  inode?: { dev: number; ino: number };
}

/** A directory apply created: rolling back removes it while it is empty, and keeps it (saying so) when not. */
export interface SnapshotDirectory {
  path: string;
  realPath: string;
  mode: string;
  owner: string;
}

/** A kernel parameter's running value apply set in place: rolling back writes `before` again. */
export interface SnapshotRunning {
  key: string;
  /** `/proc/sys/vm/overcommit_memory`. */
  path: string;
  before: string;
  after: string;
}

export interface SnapshotManifest {
  schema: typeof SNAPSHOT_SCHEMA;
  id: string;
  createdAt: string;
  toolVersion: string;
  kind: 'apply' | 'rollback';
  /** The plan's profile (ProfileIdentity); snapshots taken before plans named their source and digest have only name and source. */
  profile: { name: string; source: string; file?: string | null; sha256?: string } | null;
  version: string | null;
  revision: string | null;
  status: SnapshotStatus;
  history: { status: SnapshotStatus; at: string }[];
  plan: unknown;
  restartsOwed: string[];
  files: SnapshotFile[];
  modes?: SnapshotModeChange[];
  directories?: SnapshotDirectory[];
  running?: SnapshotRunning[];
  /** The rollout this change belongs to (`harden apply --rollout ID`): a rollback undoes exactly one rollout's snapshots. */
  rollout?: string;
  /** The rules that pass once the change is made (verified: as found then), what `harden drift` holds the node to. */
  passed?: string[];
  /** The node's `var/lock` entries when the change was planned (drift tells the cis-hardening addon's disable by them). */
  locks?: string[];
}

/** A kernel parameter's value as harden records it: numbers and words, one space or tab between them. */
const RUNNING_VALUE = /^[A-Za-z0-9_.:-]+([ \t][A-Za-z0-9_.:-]+)*$/;

/** A rollout id: a word a playbook can pass and match, short enough to read in a listing. */
export const ROLLOUT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

/** What is wrong with a parsed manifest, or null. */
export function manifestProblem(value: unknown, id: string): string | null {
  if (!isObject(value)) return 'is not an object';
  if (value.schema !== SNAPSHOT_SCHEMA) return `has schema ${JSON.stringify(value.schema)}, not ${SNAPSHOT_SCHEMA}`;
  if (value.id !== id) return `names the snapshot ${JSON.stringify(value.id)}`;
  if (!STATUSES.includes(value.status as SnapshotStatus)) return `has an unknown status ${JSON.stringify(value.status)}`;
  if (typeof value.createdAt !== 'string' || !Array.isArray(value.history) || !Array.isArray(value.restartsOwed)) return 'lacks createdAt, history or restartsOwed';
  if (value.kind !== 'apply' && value.kind !== 'rollback') return `has an unknown kind ${JSON.stringify(value.kind)}`;
  if (!Array.isArray(value.files)) return 'has no files list';
  for (const [index, file] of value.files.entries()) {
    const ok =
      isObject(file) &&
      typeof file.path === 'string' &&
      typeof file.realPath === 'string' &&
      typeof file.created === 'boolean' &&
      (file.sha256Before === null || typeof file.sha256Before === 'string') &&
      (file.sha256After === null || typeof file.sha256After === 'string') &&
      typeof file.mode === 'string' &&
      /^[0-7]{4}$/.test(file.mode) &&
      Number.isInteger(file.uid) &&
      Number.isInteger(file.gid) &&
      (file.copy === null ? file.sha256Before === null : typeof file.copy === 'string' && /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(file.copy) && typeof file.sha256Before === 'string');
    if (!ok) return `has a malformed file entry ${index + 1}`;
  }
  if (value.modes !== undefined && !Array.isArray(value.modes)) return 'has a malformed modes list';
  if (value.directories !== undefined) {
    if (!Array.isArray(value.directories)) return 'has a malformed directories list';
    for (const [index, directory] of value.directories.entries()) {
      const ok = isObject(directory) && [directory.path, directory.realPath, directory.owner].every((field) => typeof field === 'string' && field.length <= 4096) && typeof directory.mode === 'string' && /^[0-7]{4}$/.test(directory.mode);
      if (!ok) return `has a malformed directory entry ${index + 1}`;
    }
  }
  if (value.running !== undefined) {
    if (!Array.isArray(value.running)) return 'has a malformed running list';
    for (const [index, item] of value.running.entries()) {
      const ok =
        isObject(item) &&
        typeof item.key === 'string' &&
        /^[a-z0-9_]+(\.[a-z0-9_]+)+$/.test(item.key) &&
        item.path === `/proc/sys/${item.key.replace(/\./g, '/')}` &&
        [item.before, item.after].every((v) => typeof v === 'string' && RUNNING_VALUE.test(v));
      if (!ok) return `has a malformed running entry ${index + 1}`;
    }
  }
  if (value.rollout !== undefined && !(typeof value.rollout === 'string' && ROLLOUT_ID.test(value.rollout))) return 'has a malformed rollout id';
  for (const field of ['passed', 'locks'] as const) {
    const list = value[field];
    if (list !== undefined && !(Array.isArray(list) && list.length <= 100_000 && list.every((item) => typeof item === 'string' && item.length <= 256))) return `has a malformed ${field} list`;
  }
  return null;
}

/**
 * The change an interrupted run left on the node, or null: the newest snapshot, when its change was written but
 * never verified nor put back — `interrupted`, `restarted`, or `written` with restarts the plan needed and no
 * `--no-restart` owing them — and no live run holds the lock (a run holding it may be that change, going on).
 */
export function interruptedChange(manifests: readonly SnapshotManifest[], lockHeld: boolean): { id: string; kind: SnapshotManifest['kind']; status: SnapshotStatus } | null {
  if (lockHeld) return null;
  const newest = manifests[manifests.length - 1];
  if (!newest) return null;
  const restarts = isObject(newest.plan) && Array.isArray(newest.plan.restarts) ? newest.plan.restarts : [];
  const unfinished =
    newest.status === 'interrupted' || newest.status === 'restarted' || (newest.status === 'written' && newest.restartsOwed.length === 0 && restarts.length > 0);
  return unfinished ? { id: newest.id, kind: newest.kind, status: newest.status } : null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
