// Arrays of any length: appendAll and largest take a million items, where a spread into a call overflows the
// stack; and no source file spreads into a call (a lint over src/, scripts/, bench/ and bin/).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { appendAll, largest } from '../../src/core/lists.js';
import { repoRoot } from '../helpers/paths.js';

const MILLION = 1_000_000;

test('appendAll appends a million items in order, where push(...items) overflows the stack', () => {
  const items = Array.from({ length: MILLION }, (_, i) => i);
  assert.throws(() => [0].push(...items), (error: unknown) => error instanceof RangeError);
  const target = [-1];
  assert.is(appendAll(target, items), target);
  assert.is(target.length, MILLION + 1);
  assert.is(target[0], -1);
  assert.is(target[MILLION], MILLION - 1);
});

test('largest: the largest of a million numbers, or the floor when there are none or all are below it', () => {
  const values = Array.from({ length: MILLION }, (_, i) => (i * 7919) % MILLION);
  assert.is(largest(values), MILLION - 1);
  assert.is(largest([], 3), 3);
  assert.is(largest([1, 2], 3), 3);
  assert.is(largest([]), -Infinity);
});

/** Every .ts/.js/.cjs/.mjs file under `dir`, relative to the repository. */
function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(repoRoot, dir), { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) appendAll(out, sources(rel));
    else if (/\.(ts|js|cjs|mjs)$/.test(entry.name)) out.push(rel);
  }
  return out;
}

test('no source file spreads an array into a call (push(...a), Math.max(...a), new X(...a)): an array may be any length', () => {
  const found: string[] = [];
  const files = ['src', 'scripts', 'bench', 'bin'].flatMap(sources);
  assert.ok(files.length > 50, `${files.length} files`);
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(path.join(repoRoot, file), 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isSpreadElement(node) && (ts.isCallExpression(node.parent) || ts.isNewExpression(node.parent))) {
        const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
        found.push(`${file}:${line + 1}: ${node.parent.getText(source).split('\n')[0]}`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  assert.equal(found, [], 'use appendAll/largest (src/core/lists.ts) or a loop');
});

test.run();
