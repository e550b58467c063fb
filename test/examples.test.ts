// The bundled example node stays what scripts/build-example.js makes from the 1.28 fixture, and reads right.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBin } from './helpers/cli.js';
import { layOutNode, makeTempDir } from './helpers/node-root.js';
import { repoRoot } from './helpers/paths.js';

const EXAMPLE = path.join(repoRoot, 'examples', 'node-1.28');

async function tree(dir: string, prefix = ''): Promise<Record<string, string>> {
  const entries: Record<string, string> = {};
  for (const name of (await fs.readdir(dir)).sort()) {
    const full = path.join(dir, name);
    const stat = await fs.lstat(full);
    const key = `${prefix}${name}`;
    if (stat.isSymbolicLink()) entries[key] = `-> ${await fs.readlink(full)}`;
    else if (stat.isDirectory()) Object.assign(entries, await tree(full, `${key}/`));
    else entries[key] = await fs.readFile(full, 'utf8');
  }
  return entries;
}

test('examples/node-1.28 is exactly what the builder lays out from the 1.28 fixture', async () => {
  const fresh = await makeTempDir();
  await layOutNode(fresh, { version: '1.28', snapVersion: 'v1.28.15' });
  assert.equal(await tree(EXAMPLE), await tree(fresh));
});

test('the quick-start command reads the example node', () => {
  const run = runBin(['--root', 'examples/node-1.28', 'inspect', '--json']);
  assert.is(run.status, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  assert.is(report.version, '1.28.15');
  assert.is(report.era, 'kubelite');
  assert.is(report.datastore.kind, 'k8s-dqlite');
  const apiserver = report.files.find((f: any) => f.name === 'kube-apiserver');
  assert.is(apiserver.flags['--authorization-mode'], 'AlwaysAllow');
});

test.run();
