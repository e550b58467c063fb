// A saved plan says which node it was made for (the root's real path, its revision, its machine-id), and
// `apply PLAN` refuses it on any other, even a byte-exact copy that reads and plans the same, unless --force.
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runInProcessWith } from '../helpers/cli.js';
import { readTree, treeDiff } from '../helpers/live-node.js';
import { DEFAULT_REVISIONS, makeNode, makeTempDir } from '../helpers/node-root.js';

const HINT = 'hint: make a new plan on this node with harden plan --out FILE, or pass --force to apply it here anyway\n';
const MACHINE_A = '0123456789abcdef0123456789abcdef';
const MACHINE_B = 'fedcba9876543210fedcba9876543210';
const REVISION = DEFAULT_REVISIONS['1.28'];

/** A 1.28 node at `<dir>/a`, with a machine-id when one is given, and a plan of it saved to `<dir>/plan.json`. */
async function plannedNode(machineId?: string): Promise<{ dir: string; root: string; plan: string }> {
  const dir = await makeTempDir('harden-identity-');
  const root = path.join(dir, 'a');
  await fs.rename(await makeNode({ version: '1.28' }), root);
  await fs.mkdir(path.join(root, 'var/lib'), { recursive: true });
  if (machineId !== undefined) await fs.writeFile(path.join(root, 'etc/machine-id'), `${machineId}\n`);
  const plan = path.join(dir, 'plan.json');
  const made = await runInProcessWith(['--root', root, 'plan', '--out', plan]);
  assert.is(made.status, 0, made.stderr);
  return { dir, root, plan };
}

const applyPlan = (root: string, plan: string, ...more: string[]) => runInProcessWith(['--root', root, 'apply', plan, '--yes', '--no-restart', ...more]);

test('plan --out records the real path of the root, its revision and its machine-id', async () => {
  const { dir, plan } = await plannedNode(MACHINE_A);
  // Through a symlink to the root, the real path is recorded.
  await fs.symlink('a', path.join(dir, 'link'));
  const other = path.join(dir, 'other.json');
  assert.is((await runInProcessWith(['--root', path.join(dir, 'link'), 'plan', '--out', other])).status, 0);
  const real = await fs.realpath(path.join(dir, 'a'));
  for (const file of [plan, other]) {
    const doc = JSON.parse(await fs.readFile(file, 'utf8'));
    assert.is(doc.schema, 'harden.plan/v3');
    assert.equal(doc.identity, { path: real, revision: REVISION, machineId: MACHINE_A });
  }
});

test('a plan applied to a byte-exact copy of its root (cp -a): refused, exit 1, nothing written', async () => {
  const { dir, root, plan } = await plannedNode(MACHINE_A);
  const copy = path.join(dir, 'b');
  execFileSync('cp', ['-a', root, copy]);
  const before = await readTree(copy, []);
  const run = await applyPlan(copy, plan);
  assert.is(run.status, 1, run.stderr);
  assert.is(run.stdout, '');
  assert.is(run.stderr, `error: ${plan} was made for ${root} (machine-id ${MACHINE_A}, revision ${REVISION}), not this one: here the root is ${copy}\n${HINT}`);
  assert.equal(treeDiff(before, await readTree(copy, [])), [], 'nothing written, not even the state dir');
});

test('with --force, the copy is applied, and stderr says the plan was made for another node', async () => {
  const { dir, root, plan } = await plannedNode();
  const copy = path.join(dir, 'b');
  execFileSync('cp', ['-a', root, copy]);
  const run = await applyPlan(copy, plan, '--force');
  assert.is(run.status, 0, run.stderr);
  assert.is(run.stderr, `warning: ${plan} was made for ${root} (no machine-id, revision ${REVISION}), not this one: here the root is ${copy}; applying it here as --force asks\n`);
  assert.match(run.stdout, /^Wrote 3 files\.$/m);
  const doc = JSON.parse(await fs.readFile(plan, 'utf8'));
  for (const file of doc.files) assert.is(await fs.readFile(path.join(copy, file.path), 'utf8'), file.after, file.path);
});

test('a plan applied on the root it was made on: applied, nothing said about identity', async () => {
  const { root, plan } = await plannedNode(MACHINE_A);
  const run = await applyPlan(root, plan);
  assert.is(run.status, 0, run.stderr);
  assert.is(run.stderr, '');
  assert.match(run.stdout, /^Wrote 3 files\.$/m);
});

test('the same root with another machine-id (alone): refused', async () => {
  const { root, plan } = await plannedNode(MACHINE_A);
  await fs.writeFile(path.join(root, 'etc/machine-id'), `${MACHINE_B}\n`);
  const run = await applyPlan(root, plan);
  assert.is(run.status, 1, run.stderr);
  assert.is(run.stderr, `error: ${plan} was made for ${root} (machine-id ${MACHINE_A}, revision ${REVISION}), not this one: here the machine-id is ${MACHINE_B}\n${HINT}`);
  await fs.rm(path.join(root, 'etc/machine-id'));
  const gone = await applyPlan(root, plan);
  assert.is(gone.stderr, `error: ${plan} was made for ${root} (machine-id ${MACHINE_A}, revision ${REVISION}), not this one: here there is no machine-id\n${HINT}`);
  assert.equal(await fs.readdir(path.join(root, 'var/lib')), [], 'nothing written');
});

test('the same root on another snap revision (alone, the args files the same): refused', async () => {
  const { root, plan } = await plannedNode(MACHINE_A);
  const snap = path.join(root, 'var/snap/microk8s');
  execFileSync('cp', ['-a', path.join(snap, REVISION), path.join(snap, '9999')]);
  await fs.unlink(path.join(snap, 'current'));
  await fs.symlink('9999', path.join(snap, 'current'));
  const run = await applyPlan(root, plan);
  assert.is(run.status, 1, run.stderr);
  assert.is(run.stderr, `error: ${plan} was made for ${root} (machine-id ${MACHINE_A}, revision ${REVISION}), not this one: here the revision is 9999\n${HINT}`);
  assert.equal(await fs.readdir(path.join(root, 'var/lib')), [], 'nothing written');
});

test.run();
