// `harden check --roots DIR`: a directory of node roots reads like the same roots given with --root.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { realFileSystem, type FileSystem } from '../../src/effects/file-system.js';
import { runInProcess } from '../helpers/cli.js';
import { layOutNode, makeTempDir } from '../helpers/node-root.js';
import type { FixtureVersion } from '../helpers/paths.js';

/** A fleet directory: a node root per name, plus what is not a node root (a file, a plain and a hidden dir). */
async function fleet(nodes: Record<string, FixtureVersion>, options: { worker?: string } = {}): Promise<string> {
  const dir = await makeTempDir('harden-fleet-');
  for (const [name, version] of Object.entries(nodes)) {
    await fs.mkdir(path.join(dir, name));
    await layOutNode(path.join(dir, name), { version, worker: options.worker === name });
  }
  await fs.writeFile(path.join(dir, 'README'), 'the fleet\n');
  await fs.mkdir(path.join(dir, 'notes'));
  await fs.mkdir(path.join(dir, '.cache/var/snap/microk8s'), { recursive: true });
  return dir;
}

const withRoots = (roots: readonly string[]) => roots.flatMap((root) => ['--root', root]);

test('--roots DIR checks every node root in DIR, by name, exactly as the same roots given with --root', async () => {
  const dir = await fleet({ 'node-c': '1.13', 'node-a': '1.28', 'node-b': '1.21' }, { worker: 'node-b' });
  const roots = ['node-a', 'node-b', 'node-c'].map((name) => path.join(dir, name));
  for (const format of ['text', 'json', 'sarif']) {
    const byDir = await runInProcess(['check', '--roots', dir, '--format', format]);
    const byRoot = await runInProcess([...withRoots(roots), 'check', '--format', format]);
    assert.is(byDir.status, 2, byDir.stderr);
    assert.is(byDir.stderr, '');
    assert.is(byDir.stdout, byRoot.stdout, format);
    assert.is(byDir.status, byRoot.status);
  }
  const doc = JSON.parse((await runInProcess(['check', '--roots', dir, '--json'])).stdout);
  assert.equal(Object.keys(doc), roots);
});

test('--root and --roots add up: the --root nodes first, then those found in DIR; a root named twice is read once', async () => {
  const dir = await fleet({ one: '1.28', two: '1.36' });
  const other = await makeTempDir();
  await layOutNode(other, { version: '1.18' });
  const run = await runInProcess(['--root', other, '--root', path.join(dir, 'two'), 'check', '--roots', dir, '--json']);
  assert.is(run.status, 2, run.stderr);
  assert.equal(Object.keys(JSON.parse(run.stdout)), [other, path.join(dir, 'two'), path.join(dir, 'one')]);
});

test('many roots are reported in the order given, whatever order they finish reading in', async () => {
  const dir = await fleet(Object.fromEntries(Array.from({ length: 24 }, (_, i) => [`node-${String(i).padStart(2, '0')}`, (['1.13', '1.28', '1.21', '1.36'] as const)[i % 4]])));
  const roots = (await fs.readdir(dir)).filter((name) => name.startsWith('node-')).sort().reverse().map((name) => path.join(dir, name));
  const run = await runInProcess([...withRoots(roots), 'check']);
  assert.is(run.status, 2, run.stderr);
  const headers = run.stdout.split('\n').filter((line) => line.startsWith('Profile baseline on '));
  assert.equal(headers, roots.map((root, i) => `Profile baseline on ${root} (MicroK8s ${['1.13', '1.28', '1.21', '1.36'][(23 - i) % 4]}.0)`));
});

test('a root in DIR that cannot be read is named on stderr and reported in its place; the others are still checked, exit 1', async () => {
  const dir = await fleet({ good: '1.28' });
  await fs.mkdir(path.join(dir, 'broken/var/snap/microk8s'), { recursive: true });
  const run = await runInProcess(['check', '--roots', dir, '--json']);
  assert.is(run.status, 1);
  assert.is(run.stderr, `error: ${path.join(dir, 'broken')}: /var/snap/microk8s/current not found: MicroK8s is not installed in this root\nhint: check --root; on a node, \`snap list microk8s\` shows whether MicroK8s is installed\n`);
  // Every root has its entry, in name order: the document has one shape whatever failed.
  const doc = JSON.parse(run.stdout);
  assert.equal(Object.keys(doc), [path.join(dir, 'broken'), path.join(dir, 'good')]);
  assert.equal(doc[path.join(dir, 'broken')], {
    schema: 'harden.check/v1',
    root: path.join(dir, 'broken'),
    profile: doc[path.join(dir, 'good')].profile,
    version: null,
    results: [],
    error: { message: '/var/snap/microk8s/current not found: MicroK8s is not installed in this root', hint: 'check --root; on a node, `snap list microk8s` shows whether MicroK8s is installed' },
  });
  assert.is(doc[path.join(dir, 'good')].results.length, 25);
});

test('a root whose reading hits a bug is reported in its place with the bug; the others are still checked, exit 1', async () => {
  const dir = await fleet({ a: '1.28', b: '1.36', c: '1.21' });
  const buggy: FileSystem = {
    ...realFileSystem,
    // A link target that is no string: reading that root fails with a TypeError, as a bug would.
    readlink: async (file) => (file.startsWith(path.join(dir, 'b/')) ? 42 as never : realFileSystem.readlink(file)),
  };
  const run = await runInProcess(['check', '--roots', dir], buggy);
  assert.is(run.status, 1);
  const lines = run.stderr.split('\n');
  assert.is(lines[0], `error: ${path.join(dir, 'b')}: internal error (a bug): TypeError: target.startsWith is not a function`);
  assert.is(lines[1], 'TypeError: target.startsWith is not a function');
  assert.is(lines[lines.length - 2], 'Please report the internal error with the command you ran.');
  const reports = run.stdout.split('\n\n').filter((part) => part.startsWith('Profile '));
  assert.is(reports[0].split('\n')[0], `Profile baseline on ${path.join(dir, 'a')} (MicroK8s 1.28.0)`);
  assert.is(reports[1], `Profile baseline on ${path.join(dir, 'b')}\nerror: internal error (a bug): TypeError: target.startsWith is not a function\nhint: please report it with the command you ran`);
  assert.is(reports[2].split('\n')[0], `Profile baseline on ${path.join(dir, 'c')} (MicroK8s 1.21.0)`);
  assert.ok(run.stdout.includes('\nnot checked\n'));
  for (const format of ['junit', 'sarif']) {
    const other = await runInProcess(['check', '--roots', dir, '--format', format], buggy);
    assert.is(other.status, 1, format);
  }
  const junit = (await runInProcess(['check', '--roots', dir, '--format', 'junit'], buggy)).stdout;
  assert.ok(junit.includes(`<testsuite name="baseline on ${path.join(dir, 'b')}" tests="1" failures="0" errors="1" skipped="0">`), junit);
  const sarif = JSON.parse((await runInProcess(['check', '--roots', dir, '--format', 'sarif'], buggy)).stdout);
  assert.equal(sarif.runs[0].invocations, [{
    executionSuccessful: false,
    toolExecutionNotifications: [{ level: 'error', message: { text: `${path.join(dir, 'b')}: internal error (a bug): TypeError: target.startsWith is not a function` }, properties: { root: path.join(dir, 'b'), hint: 'please report it with the command you ran' } }],
  }]);
});

const refusals: [string, (dir: string) => Promise<string>, (target: string) => string][] = [
  ['a missing DIR', async (dir) => path.join(dir, 'nowhere'), (t) => `error: --roots ${t} does not exist\nhint: pass a directory whose subdirectories are node roots\n`],
  ['a file instead of a DIR', async (dir) => {
    await fs.writeFile(path.join(dir, 'fleet.txt'), 'node-a\n');
    return path.join(dir, 'fleet.txt');
  }, (t) => `error: --roots ${t} is not a directory\nhint: pass a directory whose subdirectories are node roots; --root takes one node\n`],
  ['an empty DIR', async (dir) => dir, (t) => `error: --roots ${t} holds no node root\nhint: each node root is a subdirectory with var/snap/microk8s inside (a copy of a node's /)\n`],
  ['a DIR of things that are not node roots', async (dir) => {
    await fs.mkdir(path.join(dir, 'var/snap/microk8s'), { recursive: true }); // DIR itself is a root, not a fleet
    await fs.mkdir(path.join(dir, 'docs'));
    return dir;
  }, (t) => `error: --roots ${t} holds no node root\nhint: each node root is a subdirectory with var/snap/microk8s inside (a copy of a node's /)\n`],
];
for (const [what, make, expected] of refusals) {
  test(`${what} is a one-line error with a hint, exit 1, nothing on stdout`, async () => {
    const target = await make(await makeTempDir());
    const run = await runInProcess(['check', '--roots', target]);
    assert.is(run.status, 1);
    assert.is(run.stdout, '');
    assert.is(run.stderr, expected(target));
  });
}

test('--roots goes without --args-dir and --state-dir, and only with the commands that read several nodes', async () => {
  const dir = await fleet({ one: '1.28' });
  const run = await runInProcess(['check', '--roots', dir, '--args-dir', path.join(dir, 'one/var/snap/microk8s/current/args')]);
  assert.is(run.status, 1);
  assert.is(run.stderr, 'error: --args-dir and --state-dir go with a single --root, not with --roots\nhint: drop them, or run once per root\n');
  const plan = await runInProcess(['plan', '--roots', dir]);
  assert.is(plan.status, 1);
  assert.is(plan.stderr, 'error: plan takes no --roots (check does)\nhint: see harden plan --help\n');
});

test.run();
