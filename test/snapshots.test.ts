import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { repoRoot } from './helpers/paths.js';

interface SnapshotScript {
  readonly SNAPSHOTS_DIR: string;
  planSnapshots(): Promise<Record<string, string>>;
}

test('snapshots/ holds the exact plan text of each shipped profile on each fixture version', async () => {
  const { SNAPSHOTS_DIR, planSnapshots } = (await import(path.join(repoRoot, 'scripts', 'plan-snapshots.js'))) as SnapshotScript;
  const made = await planSnapshots();
  const committed = readdirSync(SNAPSHOTS_DIR).filter((name) => name.startsWith('plan-')).sort();
  assert.equal(committed, Object.keys(made).sort(), 'run `npm run build && node scripts/plan-snapshots.js --write`');
  // Owners in mode changes are names only when the test can chown (as root, like CI); elsewhere they are ids.
  const asRoot = process.getuid?.() === 0;
  for (const name of committed) {
    if (!asRoot && name.startsWith('plan-cis-')) continue;
    assert.fixture(made[name], readFileSync(path.join(SNAPSHOTS_DIR, name), 'utf8'), `${name}: run \`npm run build && node scripts/plan-snapshots.js --write\``);
  }
});

test.run();
