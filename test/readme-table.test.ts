import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { repoRoot } from './helpers/paths.js';

interface TableScript {
  readonly TABLES: ReadonlyArray<{ readonly profile: string; readonly START: string; readonly END: string }>;
  cisTable(profile: string): Promise<string>;
}

const script = path.join(repoRoot, 'scripts', 'cis-table.js');
const { TABLES, cisTable } = (await import(script)) as TableScript;

test('scripts/cis-table.js makes a table for each CIS profile', () => {
  assert.equal(TABLES.map((table) => table.profile), ['cis', 'cis-1-12']);
});

for (const { profile, START, END } of TABLES) {
  test(`the README table of \`check --profile ${profile}\` per fixture version is what scripts/cis-table.js prints now`, async () => {
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const start = readme.indexOf(START);
    assert.ok(start >= 0, `README.md has the ${profile} table markers`);
    const committed = readme.slice(start + START.length + 1, readme.indexOf(END, start) - 1);
    assert.fixture(committed, await cisTable(profile), 'run `npm run build && node scripts/cis-table.js --write`');
  });
}

test.run();
