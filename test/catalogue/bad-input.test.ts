// The bad-input catalogue, run: every case of cases.ts in a fresh temporary tree, its exact exit code, stderr
// and stdout, and a digest of the whole tree before and after (nothing may change but what the case names).
// The last test renders docs/bad-input.md from the real results and requires the committed file to be equal;
// HARDEN_UPDATE_DOCS=1 rewrites it instead.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { repoRoot } from '../helpers/paths.js';
import { CASES } from './cases.js';
import { renderCatalogue, type CaseResult } from './render.js';
import { treeDiff } from '../helpers/live-node.js';
import { Box } from './sandbox.js';

const DOC = path.join(repoRoot, 'docs', 'bad-input.md');
const results = new Map<string, CaseResult>();
/**
 * Refusals that print no error today: a No at the confirm says `Nothing was changed.` on stdout and exits 1,
 * as the README documents (apply.ts and rollback.ts decide it).
 */
const ANSWERED_NO = new Set(['apply-declined', 'rollback-declined']);

test('the catalogue: at least 40 cases, ids stable kebab-case and unique, each error one line and a hint', () => {
  assert.ok(CASES.length >= 40, `${CASES.length} cases`);
  const ids = CASES.map((c) => c.id);
  assert.equal([...new Set(ids)], ids, 'unique ids');
  for (const c of CASES) {
    assert.match(c.id, /^[a-z0-9]+(-[a-z0-9]+)*$/, c.id);
    // 0 and 2 are answers (compliant, or rules that fail or are blocked), not refusals.
    if (c.expect.status === 0 || c.expect.status === 2) continue;
    if (ANSWERED_NO.has(c.id)) {
      assert.is(c.expect.stderr, '', c.id);
      assert.ok(c.expect.stdout?.endsWith('\nNothing was changed.\n'), c.id);
      continue;
    }
    // Every refusal ends with `hint:`; its `error:` lines (several only for a profile's problems) come first.
    const lines = c.expect.stderr.replace(/\n$/, '').split('\n').filter((line) => !line.startsWith('note: '));
    assert.ok(lines.length >= 2 && lines.slice(0, -1).every((line) => line.startsWith('error: ')) && lines[lines.length - 1].startsWith('hint: '), `${c.id}: ${c.expect.stderr}`);
  }
});

for (const c of CASES) {
  test(`${c.id}: ${c.what}`, async () => {
    const box = await Box.make();
    try {
      const injection = (await c.setup?.(box)) ?? null;
      if (c.injected !== undefined && injection === null) assert.unreachable(`${c.id} says it injects but its setup injects nothing`);
      if (c.injected === undefined && injection !== null) assert.unreachable(`${c.id} injects without saying what`);
      if (c.bin && injection !== null) assert.unreachable(`${c.id}: the bin cannot take an injection`);
      const before = await box.digest();
      const run = await box.run(c.argv, injection, c.bin ?? false);
      const after = await box.digest();
      const result: CaseResult = {
        status: run.status,
        stdout: await box.placeholders(run.stdout),
        stderr: await box.placeholders(run.stderr),
        changes: await Promise.all(treeDiff(before, after).map((line) => box.placeholders(line))),
      };
      results.set(c.id, result);
      assert.is(result.stderr, c.expect.stderr, `${c.id}: stderr`);
      assert.is(result.stdout, c.expect.stdout ?? '', `${c.id}: stdout`);
      assert.is(result.status, c.expect.status, `${c.id}: exit code`);
      assert.equal(result.changes, c.expect.changes ?? [], `${c.id}: what changed on disk`);
      assert.equal(await box.restarts(), [], `${c.id}: nothing restarted`);
    } finally {
      await box.cleanup();
    }
  });
}

test('docs/bad-input.md is rendered from these cases and their real outputs', () => {
  const rendered = renderCatalogue(CASES, results);
  if (process.env.HARDEN_UPDATE_DOCS === '1') {
    writeFileSync(DOC, rendered);
    return;
  }
  const committed = readFileSync(DOC, 'utf8');
  assert.fixture(rendered, committed, 'run HARDEN_UPDATE_DOCS=1 npm test (or the catalogue suite alone) to rewrite docs/bad-input.md');
});

test.run();
