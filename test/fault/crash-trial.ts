// One crash trial: a fresh node, `harden apply --yes --profile cis` (or `harden rollback --yes` after a
// completed apply) spawned and killed with SIGKILL at a random moment, then what must hold: every file the
// change touches holds its old or its new content, mode and owner (never a third value); whenever anything
// changed, a complete snapshot of the old state exists; `harden rollback --yes --no-restart` brings every
// original back exactly; no harden temp file is left after that recovery run. The bench (bench/crash.js)
// runs hundreds of these; test/fault/crash.test.ts a few, with the same code.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { SnapshotManifest } from '../../src/effects/snapshots.js';
import { BIN, runInProcessWith } from '../helpers/cli.js';
import { makeLiveNode, readTree, type LiveNode, type TreeEntry } from '../helpers/live-node.js';
import { makeNode, makeTempDir } from '../helpers/node-root.js';
import { repoRoot, type FixtureVersion } from '../helpers/paths.js';
import { makeStandIns, type StandIns } from '../helpers/stand-ins.js';

export type TrialCommand = 'apply' | 'rollback';
export type Trigger = 'uniform' | 'snapshot';
export const PHASES = ['before any write', 'snapshot partial', 'snapshot complete', 'some written', 'all written', 'after finish'] as const;
export type Phase = (typeof PHASES)[number];

export interface TrialSpec {
  readonly index: number;
  readonly seed: number;
  readonly version: FixtureVersion;
  readonly command: TrialCommand;
  /** Live health gates and restarts (a live node), or --no-restart with the stand-ins only. */
  readonly live: boolean;
  /** uniform: the kill lands at `fraction` of the measured run time; snapshot: that fraction of the time from the snapshot dir's appearance to the end, after it appears. */
  readonly trigger: Trigger;
  readonly fraction: number;
}

/** What a run of one configuration took, unkilled (calibration), in ms from the spawn. */
export interface Timing {
  readonly totalMs: number;
  readonly snapshotMs: number;
}

export interface TrialResult {
  readonly spec: TrialSpec;
  readonly phase: Phase;
  /** How the recovery rollback ended: restored, or nothing to roll back. */
  readonly recovery: 'restored' | 'nothing to roll back' | 'failed';
  /** Invariant failures, each one line; empty when the trial passed. */
  readonly torn: string[];
  readonly missingSnapshot: string[];
  readonly unrecoverable: string[];
  readonly leftovers: string[];
  /** Temp files the killed run left (before recovery), and how many the recovery run reported removing. */
  readonly tempsAfterKill: number;
  readonly tempsNoted: number;
  readonly tookOverLock: boolean;
  /** ms from the spawn to the kill, or to the exit when the run finished first. */
  readonly killedAtMs: number;
  readonly ms: number;
}

/** mulberry32: a small seeded generator, so that a trial can be run again from its seed and index. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SpecOptions {
  readonly versions: readonly FixtureVersion[];
  /** Share of trials that kill a rollback (after a completed apply) instead of an apply. */
  readonly rollbackShare: number;
  /** Share of trials on live nodes (restarts and health gates) instead of --no-restart. */
  readonly liveShare: number;
}

/** The trial `index` of a run seeded `seed`: versions rotate, the rest is drawn from the trial's own generator. */
export function trialSpec(seed: number, index: number, options: SpecOptions): TrialSpec {
  const next = random((seed * 1_000_003 + index) >>> 0);
  return {
    index,
    seed,
    version: options.versions[index % options.versions.length],
    command: next() < options.rollbackShare ? 'rollback' : 'apply',
    live: next() < options.liveShare,
    trigger: next() < 0.5 ? 'uniform' : 'snapshot',
    fraction: next(),
  };
}

export const configKey = (spec: Pick<TrialSpec, 'version' | 'command' | 'live'>) => `${spec.command} ${spec.version} ${spec.live ? 'live' : 'no-restart'}`;

const TEMP = /^\..+\.harden-(\d+)-[0-9a-f]+\.tmp$/;
const SNAPSHOT_ID = /^\d{8}T\d{6}Z-[0-9a-f]{4}$/;
const GATES = ['--health-timeout', '10', '--health-window', '0.3'];

interface Node {
  readonly root: string;
  readonly stateDir: string;
  readonly env: Record<string, string>;
  close(): Promise<void>;
}

async function freshNode(version: FixtureVersion, live: boolean): Promise<Node> {
  if (live) {
    const n: LiveNode = await makeLiveNode({ version });
    return {
      root: n.root,
      stateDir: n.stateDir,
      env: { ...process.env, ...n.env } as Record<string, string>,
      close: async () => {
        await n.close();
        await fs.rm(n.root, { recursive: true, force: true });
        await fs.rm(n.standIns.dir, { recursive: true, force: true });
      },
    };
  }
  const root = await makeNode({ version });
  const standIns: StandIns = await makeStandIns();
  return {
    root,
    stateDir: path.join(root, 'var/lib/harden'),
    env: { ...(standIns.env as Record<string, string>), NO_COLOR: '1' },
    close: async () => {
      await fs.rm(root, { recursive: true, force: true });
      await fs.rm(standIns.dir, { recursive: true, force: true });
    },
  };
}

/** Copies a node's files, directories and symlinks (not sockets) with their modes and owners. */
async function copyTree(from: string, to: string): Promise<void> {
  for (const name of await fs.readdir(from)) {
    const source = path.join(from, name);
    const target = path.join(to, name);
    const stat = await fs.lstat(source);
    if (stat.isSymbolicLink()) await fs.symlink(await fs.readlink(source), target);
    else if (stat.isDirectory()) {
      await fs.mkdir(target);
      await copyTree(source, target);
    } else if (stat.isFile()) await fs.copyFile(source, target);
    else continue;
    await fs.lchown(target, stat.uid, stat.gid).catch(() => undefined);
    if (!stat.isSymbolicLink()) await fs.chmod(target, stat.mode & 0o7777);
  }
}

type Changes = Map<string, TreeEntry | null>;

/** What a completed `apply --no-restart --profile cis` changes on this node, found on a copy of it. */
async function applyChanges(root: string): Promise<Changes> {
  const copy = await makeTempDir('harden-crash-reference-');
  try {
    await copyTree(root, copy);
    const before = await readTree(copy);
    const run = await runInProcessWith(['apply', '--root', copy, '--yes', '--profile', 'cis', '--no-restart']);
    if (run.status !== 0) throw new Error(`the reference apply failed (${run.status}): ${run.stderr}`);
    const after = await readTree(copy);
    const changes: Changes = new Map();
    for (const [rel, entry] of after) if (!sameEntry(before.get(rel), entry)) changes.set(rel, entry);
    for (const rel of before.keys()) if (!after.has(rel)) changes.set(rel, null);
    return changes;
  } finally {
    await fs.rm(copy, { recursive: true, force: true });
  }
}

function overlay(tree: Map<string, TreeEntry>, changes: Changes): Map<string, TreeEntry> {
  const out = new Map(tree);
  for (const [rel, entry] of changes) {
    if (entry === null) out.delete(rel);
    else out.set(rel, entry);
  }
  return out;
}

const ATTRIBUTES = ['type', 'content', 'mode', 'uid', 'gid'] as const;

export function sameEntry(a: TreeEntry | undefined, b: TreeEntry | undefined): boolean {
  if (!a || !b) return a === b;
  return ATTRIBUTES.every((key) => a[key] === b[key]);
}

/** The tree without harden's temp files (counted apart). */
export function withoutTemps(tree: Map<string, TreeEntry>): { tree: Map<string, TreeEntry>; temps: string[] } {
  const out = new Map<string, TreeEntry>();
  const temps: string[] = [];
  for (const [rel, entry] of tree) {
    if (TEMP.test(path.basename(rel))) temps.push(rel);
    else out.set(rel, entry);
  }
  return { tree: out, temps };
}

/** Every attribute of every entry is the old one or the new one; returns one line per entry that is neither. */
export function tornEntries(old: Map<string, TreeEntry>, next: Map<string, TreeEntry>, now: Map<string, TreeEntry>): string[] {
  const out: string[] = [];
  for (const rel of new Set([...old.keys(), ...next.keys(), ...now.keys()])) {
    const [o, n, c] = [old.get(rel), next.get(rel), now.get(rel)];
    if (!c) {
      if (o && n) out.push(`${rel}: missing`);
      continue;
    }
    if (!o && !n) {
      out.push(`${rel}: unexpected`);
      continue;
    }
    for (const key of ATTRIBUTES) {
      const allowed = [o?.[key], n?.[key]].filter((v) => v !== undefined);
      if (!allowed.includes(c[key])) out.push(`${rel}: ${key} ${c[key]} is neither ${allowed.join(' nor ')}`);
    }
  }
  return out;
}

/** How far the kill got: how many (entry, attribute) pairs that change are new, out of how many. */
function progress(old: Map<string, TreeEntry>, next: Map<string, TreeEntry>, now: Map<string, TreeEntry>): { done: number; of: number } {
  let done = 0;
  let of = 0;
  for (const rel of new Set([...old.keys(), ...next.keys()])) {
    const [o, n, c] = [old.get(rel), next.get(rel), now.get(rel)];
    if (!o || !n) {
      of += 1;
      if (sameEntry(c, n)) done += 1;
      continue;
    }
    for (const key of ATTRIBUTES) {
      if (o[key] === n[key]) continue;
      of += 1;
      if (c && c[key] === n[key]) done += 1;
    }
  }
  return { done, of };
}

async function snapshotIds(stateDir: string): Promise<string[]> {
  return (await fs.readdir(path.join(stateDir, 'snapshots')).catch(() => [] as string[])).filter((name) => SNAPSHOT_ID.test(name)).sort();
}

async function readManifest(stateDir: string, id: string): Promise<SnapshotManifest | null> {
  return parseManifest(await fs.readFile(path.join(stateDir, 'snapshots', id, 'manifest.json')).catch(() => null));
}

function parseManifest(bytes: Buffer | null): SnapshotManifest | null {
  try {
    return bytes ? (JSON.parse(bytes.toString('utf8')) as SnapshotManifest) : null;
  } catch {
    return null;
  }
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/**
 * Whenever `now` differs from `old`, one complete snapshot of `kind` holds the old state of every entry that
 * changed: copies whose sha256 match the old contents, the old modes and owners. One line per problem. `read`
 * gives a file's bytes by its path relative to the root (null when missing); `stateRel` is the state dir's.
 */
export async function snapshotProblems(
  read: (rel: string) => Promise<Buffer | null>,
  stateRel: string,
  ids: readonly string[],
  kind: 'apply' | 'rollback',
  old: Map<string, TreeEntry>,
  now: Map<string, TreeEntry>,
): Promise<string[]> {
  const changed = [...new Set([...old.keys(), ...now.keys()])].filter((rel) => !sameEntry(old.get(rel), now.get(rel)));
  if (changed.length === 0) return [];
  for (const id of ids) {
    const manifest = parseManifest(await read(`${stateRel}/snapshots/${id}/manifest.json`));
    if (!manifest || manifest.kind !== kind) continue;
    const problems: string[] = [];
    const covered = new Set<string>();
    // A file's mode and owner as restoring this snapshot leaves them: its mode change's, else its own record.
    const modeChanges = new Map((manifest.modes ?? []).map((m) => [m.realPath.slice(1), m]));
    for (const file of manifest.files) {
      const rel = file.realPath.slice(1);
      covered.add(rel);
      const before = old.get(rel);
      const change = modeChanges.get(rel);
      const restoredMode = change ? { mode: change.modeBefore, uid: change.uidBefore, gid: change.gidBefore } : file;
      if (file.created) {
        if (before) problems.push(`${id}: ${rel} is recorded as created but existed`);
        continue;
      }
      const bytes = await read(`${stateRel}/snapshots/${id}/${file.copy ?? '-'}`);
      if (!bytes) problems.push(`${id}: the copy of ${rel} is missing`);
      else if (!before || sha256(bytes) !== before.content || file.sha256Before !== `sha256:${before.content}`) problems.push(`${id}: the copy of ${rel} does not hold its old content`);
      if (before && (restoredMode.mode !== before.mode || restoredMode.uid !== before.uid || restoredMode.gid !== before.gid)) {
        problems.push(`${id}: ${rel} is recorded with ${restoredMode.mode} ${restoredMode.uid}:${restoredMode.gid}, not ${before.mode} ${before.uid}:${before.gid}`);
      }
    }
    for (const mode of manifest.modes ?? []) {
      const rel = mode.realPath.slice(1);
      covered.add(rel);
      const before = old.get(rel);
      if (!before || mode.modeBefore !== before.mode || mode.uidBefore !== before.uid || mode.gidBefore !== before.gid) problems.push(`${id}: the mode change of ${rel} does not record its old mode and owner`);
    }
    for (const rel of changed) if (!covered.has(rel)) problems.push(`${id}: ${rel} changed but the snapshot does not cover it`);
    if (problems.length === 0) return [];
    return problems;
  }
  return [`${changed.length} entries changed (${changed.slice(0, 3).join(', ')}…) but no complete ${kind} snapshot exists`];
}

/** Snapshot dirs without a readable manifest, and harden temp files, anywhere in the root (state dir included). */
async function leftoversIn(root: string, stateDir: string): Promise<string[]> {
  const out: string[] = [];
  for (const [rel, entry] of await readTree(root, [])) {
    if (entry.type === 'file' && TEMP.test(path.basename(rel))) out.push(rel);
  }
  for (const id of await snapshotIds(stateDir)) {
    if (!(await readManifest(stateDir, id))) out.push(`${path.relative(root, stateDir)}/snapshots/${id} (incomplete snapshot)`);
  }
  return out;
}

interface Spawned {
  readonly status: number | null;
  readonly stderr: string;
  readonly killed: boolean;
  readonly killedAtMs: number;
  /** ms from the spawn until a new snapshot dir appeared, or null. */
  readonly snapshotMs: number | null;
}

/**
 * Spawns bin/harden.cjs in its own process group and kills the group (harden and any stand-in it runs) with
 * SIGKILL `uniformMs` after the spawn, or `afterSnapshotMs` after a new snapshot dir appears; Infinity for both
 * lets it finish.
 */
async function spawnAndKill(args: readonly string[], env: Record<string, string>, stateDir: string, known: readonly string[], when: { uniformMs: number; afterSnapshotMs: number }): Promise<Spawned> {
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], { env, cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  let exited = false;
  let killed = false;
  let killedAtMs = 0;
  let snapshotMs: number | null = null;
  const closed = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => resolve(status));
  });
  child.on('exit', () => {
    exited = true;
  });
  const kill = () => {
    if (exited || killed) return;
    killed = true;
    killedAtMs = performance.now() - started;
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const timers: NodeJS.Timeout[] = [];
  if (Number.isFinite(when.uniformMs)) timers.push(setTimeout(kill, when.uniformMs));
  // Poll for the new snapshot dir: fs.watch cannot follow a state dir that does not exist yet.
  const poll = async () => {
    while (!exited && snapshotMs === null) {
      const ids = await snapshotIds(stateDir);
      if (ids.some((id) => !known.includes(id))) {
        snapshotMs = performance.now() - started;
        if (Number.isFinite(when.afterSnapshotMs)) timers.push(setTimeout(kill, when.afterSnapshotMs));
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  };
  const polling = poll();
  const status = await closed;
  for (const timer of timers) clearTimeout(timer);
  await polling;
  if (!killed) killedAtMs = performance.now() - started;
  return { status, stderr, killed, killedAtMs, snapshotMs };
}

const run = (args: readonly string[], env: Record<string, string>) => spawnAndKill(args, env, '/nonexistent', [], { uniformMs: Infinity, afterSnapshotMs: Infinity });

/** The command line of the run a trial kills. */
function commandArgs(spec: TrialSpec, root: string): string[] {
  const restart = spec.live ? GATES : ['--no-restart'];
  return spec.command === 'apply' ? ['apply', '--root', root, '--yes', '--profile', 'cis', ...restart] : ['rollback', '--root', root, '--yes', ...restart];
}

/** A node ready for the trial's command: fresh for apply; after a completed apply for rollback. */
async function prepare(spec: TrialSpec, cache: Map<string, Changes>): Promise<{ node: Node; original: Map<string, TreeEntry>; old: Map<string, TreeEntry>; next: Map<string, TreeEntry>; known: string[] }> {
  const node = await freshNode(spec.version, spec.live);
  try {
    const original = await readTree(node.root);
    // A node without live ports is the same for every trial of a version: its changes are worked out once.
    const key = spec.live ? null : spec.version;
    let changes = key ? cache.get(key) : undefined;
    if (!changes) {
      changes = await applyChanges(node.root);
      if (key) cache.set(key, changes);
    }
    const applied = overlay(original, changes);
    if (spec.command === 'apply') return { node, original, old: original, next: applied, known: [] };
    const setUp = await runInProcessWith(['apply', '--root', node.root, '--yes', '--profile', 'cis', '--no-restart']);
    if (setUp.status !== 0) throw new Error(`the apply before the rollback failed (${setUp.status}): ${setUp.stderr}`);
    const now = await readTree(node.root);
    const off = [...new Set([...now.keys(), ...applied.keys()])].filter((rel) => !sameEntry(now.get(rel), applied.get(rel)));
    if (off.length > 0) throw new Error(`the apply before the rollback did not leave what the reference apply did: ${off.slice(0, 5).join(', ')}`);
    return { node, original, old: applied, next: original, known: await snapshotIds(node.stateDir) };
  } catch (error) {
    await node.close();
    throw error;
  }
}

/** One unkilled run of a configuration: how long it takes, and when its snapshot dir appears. */
export async function calibrate(spec: Pick<TrialSpec, 'version' | 'command' | 'live'>, cache: Map<string, Changes> = new Map()): Promise<Timing> {
  const full: TrialSpec = { ...spec, index: -1, seed: 0, trigger: 'uniform', fraction: 0 };
  const { node, known } = await prepare(full, cache);
  try {
    const result = await spawnAndKill(commandArgs(full, node.root), node.env, node.stateDir, known, { uniformMs: Infinity, afterSnapshotMs: Infinity });
    if (result.status !== 0) throw new Error(`calibration of ${configKey(spec)} failed (${result.status}): ${result.stderr}`);
    return { totalMs: result.killedAtMs, snapshotMs: result.snapshotMs ?? result.killedAtMs };
  } finally {
    await node.close();
  }
}

/** Runs one trial. `timing` is the unkilled run time of the trial's configuration. */
export async function runTrial(spec: TrialSpec, timing: Timing, cache: Map<string, Changes> = new Map()): Promise<TrialResult> {
  const started = performance.now();
  const { node, original, old, next, known } = await prepare(spec, cache);
  try {
    const when =
      spec.trigger === 'uniform'
        ? { uniformMs: spec.fraction * timing.totalMs, afterSnapshotMs: Infinity }
        : { uniformMs: Infinity, afterSnapshotMs: spec.fraction * Math.max(1, timing.totalMs - timing.snapshotMs) };
    const killed = await spawnAndKill(commandArgs(spec, node.root), node.env, node.stateDir, known, when);
    const torn: string[] = [];
    const unrecoverable: string[] = [];
    if (!killed.killed && killed.status !== 0) unrecoverable.push(`the ${spec.command} ended with ${killed.status} before the kill: ${killed.stderr.trim()}`);

    // Right after the kill.
    const { tree: now, temps } = withoutTemps(await readTree(node.root));
    torn.push(...tornEntries(old, next, now));
    const fresh = (await snapshotIds(node.stateDir)).filter((id) => !known.includes(id));
    const kind = spec.command;
    const fromDisk = (rel: string) => fs.readFile(path.join(node.root, rel)).catch(() => null);
    const missingSnapshot = await snapshotProblems(fromDisk, path.relative(node.root, node.stateDir), fresh, kind, old, now);
    const lockLeft = await fs.lstat(path.join(node.stateDir, 'lock')).then(() => true, () => false);

    let phase: Phase;
    const { done, of } = progress(old, next, now);
    if (!killed.killed) phase = 'after finish';
    else if (fresh.length === 0) phase = 'before any write';
    else if (!(await readManifest(node.stateDir, fresh[fresh.length - 1]))) phase = 'snapshot partial';
    else if (done === 0) phase = 'snapshot complete';
    else if (done < of) phase = 'some written';
    else phase = 'all written';

    // Recovery: a rollback that takes over the dead run's lock and puts every original back.
    const recovery = await run(['rollback', '--root', node.root, '--yes', '--no-restart'], node.env);
    let outcome: TrialResult['recovery'] = 'failed';
    if (recovery.status === 0) outcome = 'restored';
    else if (recovery.status === 1 && recovery.stderr.split('\n').includes(`error: no apply to roll back in ${node.stateDir}/snapshots`)) outcome = 'nothing to roll back';
    else unrecoverable.push(`the recovery rollback ended with ${recovery.status}: ${recovery.stderr.trim()}`);
    const tookOverLock = recovery.stderr.includes(`note: took over ${node.stateDir}/lock from harden pid `);
    if (lockLeft && !tookOverLock) unrecoverable.push(`the dead run's lock was left, and the recovery did not say it took it over: ${recovery.stderr.trim()}`);
    const { tree: restored } = withoutTemps(await readTree(node.root));
    const off = [...new Set([...original.keys(), ...restored.keys()])].filter((rel) => !sameEntry(original.get(rel), restored.get(rel)));
    if (off.length > 0) unrecoverable.push(`after the recovery (${outcome}), ${off.length} entries differ from the original: ${off.slice(0, 5).join(', ')}`);
    const leftovers = await leftoversIn(node.root, node.stateDir);
    const tempsNoted = (recovery.stderr.match(/^note: removed .*harden-\d+-[0-9a-f]+\.tmp/gm) ?? []).length;

    return { spec, phase, recovery: outcome, torn, missingSnapshot, unrecoverable, leftovers, tempsAfterKill: temps.length, tempsNoted, tookOverLock, killedAtMs: killed.killedAtMs, ms: performance.now() - started };
  } finally {
    await node.close();
  }
}

/** Whether a trial kept every promise. */
export function trialPassed(result: TrialResult): boolean {
  return result.torn.length + result.missingSnapshot.length + result.unrecoverable.length + result.leftovers.length === 0;
}

/** One line per broken promise of a trial, with what reruns it. */
export function trialFailures(result: TrialResult): string[] {
  const { spec } = result;
  const where = `trial ${spec.index} (seed ${spec.seed}, ${configKey(spec)}, ${spec.trigger} ${spec.fraction.toFixed(3)}, killed at ${result.killedAtMs.toFixed(0)} ms, ${result.phase})`;
  return [
    ...result.torn.map((line) => `${where}: torn: ${line}`),
    ...result.missingSnapshot.map((line) => `${where}: snapshot: ${line}`),
    ...result.unrecoverable.map((line) => `${where}: unrecoverable: ${line}`),
    ...result.leftovers.map((line) => `${where}: left over: ${line}`),
  ];
}

