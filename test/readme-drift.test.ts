// What the README says about the project itself that a test can keep true: the Debian packages the tests
// need are the ones .ci/run installs, and no command in it writes to the committed example node.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { repoRoot } from './helpers/paths.js';

const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');

test("the quick start names every Debian package .ci/run installs for the tests", () => {
  const ci = readFileSync(path.join(repoRoot, '.ci/run'), 'utf8');
  const packages = [...ci.matchAll(/^need \S+ (\S+)/gm)].map((match) => match[1]);
  assert.ok(packages.length >= 7, packages.join(' '));
  const quickStart = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('\n## ', readme.indexOf('## Quick start') + 1));
  for (const name of packages) assert.ok(quickStart.includes(`\`${name}\``), `the quick start does not name ${name}`);
  assert.match(quickStart, '`bash .ci/run` installs');
});

test('no README command applies or rolls back on the committed example node (only on a copy)', () => {
  const writing = readme.split('\n').filter((line) => /^\$ .*examples\/node-[\d.]+\b.*\b(apply|rollback)\b/.test(line) && !line.includes('cp -r'));
  assert.equal(writing, []);
});

test('the conventions table says which output formats check has, not which will come', () => {
  assert.not.match(readme, /will add `junit`/);
  assert.match(readme, '`check` also takes `junit`, `sarif` and `html`');
});

test.run();
