// A power cut at every point of a real apply (and of a real rollback): harden runs in-process with file ops
// that journal every operation (test/helpers/durable-ops.ts); for every cut point k, the tree that a power cut
// after operation k leaves is rebuilt from what was durable by then, and must hold every args file, companion,
// mode and owner old or new, and a durable, complete snapshot of the old state whenever anything is new. For a
// sample of cut points the tree is written out into a temp root and a real `harden rollback --yes --no-restart`
// must restore every original exactly. The journaled run reads a boot id of its own, so that the lock a cut
// leaves behind is one from an earlier boot, as after a real power cut.
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runInProcessWith } from '../helpers/cli.js';
import { DiskModel, journalingOps, materialise, type JournalOp, type ModelEntry } from '../helpers/durable-ops.js';
import { readTree, type TreeEntry } from '../helpers/live-node.js';
import { makeNode, makeTempDir } from '../helpers/node-root.js';
import type { FixtureVersion } from '../helpers/paths.js';
import { sameEntry, snapshotProblems, tornEntries, withoutTemps } from '../fault/crash-trial.js';

const STATE = 'var/lib/harden';
const VERSIONS: FixtureVersion[] = ['1.18', '1.28', '1.36'];
/** Cut points per run whose tree is written out and rolled back for real (spread over the distinct states). */
const SAMPLES = 4;
const SNAPSHOT_ID = /^\d{8}T\d{6}Z-[0-9a-f]{4}$/;
const APPLY = ['--yes', '--profile', 'cis', '--no-restart'];

const roots: string[] = [];
test.after(async () => {
  for (const root of roots.splice(0)) await fs.rm(root, { recursive: true, force: true });
});

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

/**
 * The temp files a cut leaves (staged contents, second names of originals) carry this process's pid; after a
 * real power cut their pid no longer runs. Renamed to a dead pid's, so that the rollback below, which runs in this
 * process, finds them to be the leftovers they are.
 */
async function fromADeadRun(dir: string, pid: number): Promise<void> {
  for (const [rel, entry] of await readTree(dir, [])) {
    const name = path.basename(rel);
    if (entry.type === 'file' && name.includes(`.harden-${process.pid}-`)) await fs.rename(path.join(dir, rel), path.join(dir, path.dirname(rel), name.replace(`.harden-${process.pid}-`, `.harden-${pid}-`)));
  }
}

async function tempRoot(): Promise<string> {
  const dir = await makeTempDir('harden-power-cut-');
  roots.push(dir);
  return dir;
}

/** The node part of a modelled tree (no state dir, no temp files), as readTree gives it. */
function nodePart(tree: Map<string, ModelEntry>): Map<string, TreeEntry> {
  const node = new Map<string, TreeEntry>();
  for (const [rel, entry] of tree) if (rel !== 'var/lib' && !rel.startsWith('var/lib/')) node.set(rel, entry);
  return withoutTemps(node).tree;
}

function differences(a: Map<string, TreeEntry>, b: Map<string, TreeEntry>): string[] {
  return [...new Set([...a.keys(), ...b.keys()])].filter((rel) => !sameEntry(a.get(rel), b.get(rel)));
}

interface CutReport {
  readonly cuts: number;
  readonly distinct: number;
  readonly withChanges: number;
  readonly rolledBack: number;
}

/**
 * Checks every cut point of `journal` replayed on `model`: the node is `old` or `next` entry by entry, and a
 * complete `kind` snapshot (not one of `known`) covers whatever is not old; then rolls back a sample for real.
 */
async function checkEveryCut(model: DiskModel, journal: readonly JournalOp[], old: Map<string, TreeEntry>, next: Map<string, TreeEntry>, original: Map<string, TreeEntry>, kind: 'apply' | 'rollback', known: readonly string[], what: string): Promise<CutReport> {
  const distinct: { k: number; tree: Map<string, ModelEntry>; changed: boolean }[] = [];
  let previous = '';
  for (let k = 0; k <= journal.length; k += 1) {
    if (k > 0) model.apply(journal[k - 1]);
    const tree = model.durableTree();
    const node = nodePart(tree);
    const where = `${what}: a power cut after operation ${k} of ${journal.length}${k > 0 ? ` (${describe(journal[k - 1])})` : ''}`;
    assert.equal(tornEntries(old, next, node), [], `${where}: torn`);
    const changed = differences(old, node).length > 0;
    if (changed) {
      const ids = [...tree.keys()].filter((rel) => rel.startsWith(`${STATE}/snapshots/`) && SNAPSHOT_ID.test(rel.slice(STATE.length + 11)) && !rel.slice(STATE.length + 11).includes('/')).map((rel) => rel.slice(STATE.length + 11));
      const fresh = ids.filter((id) => !known.includes(id)).sort();
      const problems = await snapshotProblems(async (rel) => tree.get(rel)?.bytes ?? null, STATE, fresh, kind, old, node);
      assert.equal(problems, [], `${where}: the snapshot is not durable`);
    }
    const key = [...tree].map(([rel, e]) => `${rel} ${e.type} ${e.mode} ${e.uid}:${e.gid} ${e.content}`).join('\n');
    if (key !== previous) distinct.push({ k, tree, changed });
    previous = key;
  }

  // A real rollback on a sample of the distinct states: evenly spread, always with the last one.
  const picks = new Set<number>([distinct.length - 1]);
  for (let i = 0; i < SAMPLES - 1; i += 1) picks.add(Math.floor(((i + 0.5) * distinct.length) / (SAMPLES - 1)));
  for (const index of [...picks].filter((i) => i < distinct.length).sort((a, b) => a - b)) {
    const { k, tree } = distinct[index];
    const dir = await tempRoot();
    await materialise(tree, dir);
    await fromADeadRun(dir, await deadPid());
    const run = await runInProcessWith(['rollback', '--root', dir, '--yes', '--no-restart']);
    const nothing = run.status === 1 && run.stderr.split('\n').includes(`error: no apply to roll back in ${path.join(dir, STATE)}/snapshots`);
    assert.ok(run.status === 0 || nothing, `${what}: the rollback after a power cut after operation ${k} failed (${run.status}): ${run.stderr}`);
    assert.equal(differences(original, await readTree(dir)), [], `${what}: the rollback after a power cut after operation ${k} did not restore every original`);
    await fs.rm(dir, { recursive: true, force: true });
  }
  return { cuts: journal.length + 1, distinct: distinct.length, withChanges: distinct.filter((d) => d.changed).length, rolledBack: picks.size };
}

function describe(op: JournalOp): string {
  const short = (p: string) => p.split('/').slice(-2).join('/');
  return 'from' in op ? `${op.op} ${short(op.from)} -> ${short(op.to)}` : `${op.op} ${short(op.path)}`;
}

/** The model must see what the disk holds once the run is over: the journal missed nothing. */
async function assertModelMatchesDisk(model: DiskModel, root: string): Promise<void> {
  const disk = await readTree(root, []);
  const visible = new Map<string, TreeEntry>([...model.visibleTree()].map(([rel, { bytes: _bytes, ...entry }]) => [rel, entry]));
  assert.equal(differences(disk, visible), [], 'the journal replayed gives the tree on disk');
}

for (const version of VERSIONS) {
  test(`${version}: a power cut at any point of apply --profile cis leaves each file old or new and a durable snapshot; rollback restores`, async () => {
    const root = await makeNode({ version });
    roots.push(root);
    const original = await readTree(root);
    const model = await DiskModel.load(root);
    const ops = journalingOps(root, { bootId: 'the-boot-before-the-cut' });
    const run = await runInProcessWith(['apply', '--root', root, ...APPLY], { change: { ops } });
    assert.is(run.status, 0, run.stderr);
    const applied = await readTree(root);
    assert.ok(differences(original, applied).length > 10, 'cis changes contents, modes and owners');
    // What the checks lean on: the journal holds every kind of write the apply makes.
    const kinds = new Set(ops.journal.map((op) => op.op));
    for (const op of ['mkdir', 'writeNew', 'rename', 'link', 'chmod', 'chown', 'unlink', 'fsync', 'fsyncDir']) assert.ok(kinds.has(op as JournalOp['op']), `the apply journals ${op}`);

    const report = await checkEveryCut(model, ops.journal, original, applied, original, 'apply', [], `${version} apply`);
    await assertModelMatchesDisk(model, root);
    assert.ok(report.withChanges > 5, `cut points where the node is part-way: ${report.withChanges}`);
  });

  test(`${version}: a power cut at any point of rollback leaves each file applied or original and a durable snapshot; rollback again restores`, async () => {
    const root = await makeNode({ version });
    roots.push(root);
    const original = await readTree(root);
    const first = await runInProcessWith(['apply', '--root', root, ...APPLY]);
    assert.is(first.status, 0, first.stderr);
    const applied = await readTree(root);
    const known = await fs.readdir(path.join(root, STATE, 'snapshots'));
    const model = await DiskModel.load(root);
    const ops = journalingOps(root, { bootId: 'the-boot-before-the-cut' });
    const run = await runInProcessWith(['rollback', '--root', root, '--yes', '--no-restart'], { change: { ops } });
    assert.is(run.status, 0, run.stderr);
    assert.equal(differences(original, await readTree(root)), []);

    const report = await checkEveryCut(model, ops.journal, applied, original, original, 'rollback', known, `${version} rollback`);
    await assertModelMatchesDisk(model, root);
    assert.ok(report.withChanges > 5, `cut points where the node is part-way: ${report.withChanges}`);
  });
}

test.run();
