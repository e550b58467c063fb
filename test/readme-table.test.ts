import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { repoRoot } from './helpers/paths.js';

interface TableScript {
  readonly START: string;
  readonly END: string;
  cisTable(): Promise<string>;
}

test('the README table of `check --profile cis` per fixture version is what scripts/cis-table.js prints now', async () => {
  const script = path.join(repoRoot, 'scripts', 'cis-table.js');
  const { START, END, cisTable } = (await import(script)) as TableScript;
  const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const start = readme.indexOf(START);
  assert.ok(start >= 0, 'README.md has the table markers');
  const committed = readme.slice(start + START.length + 1, readme.indexOf(END, start) - 1);
  assert.fixture(committed, await cisTable(), 'run `npm run build && node scripts/cis-table.js --write`');
});

test.run();
