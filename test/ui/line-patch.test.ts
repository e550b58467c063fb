// The plan's diff of a long file is made without the lines both sides share at the ends: the hunks must be
// exactly jsdiff's hunks of the whole files, line numbers included.
import { structuredPatch } from 'diff';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { linePatch } from '../../src/ui/plan-view.js';
import { makeRng, pick } from '../helpers/prng.js';

const whole = (before: string, after: string) => structuredPatch('', '', before, after, undefined, undefined, { context: 3 }).hunks;

/** A long args file whose lines are all different, so that no change can be placed in two ways. */
function longFile(lines: number): string[] {
  return Array.from({ length: lines }, (_, i) => `--audit-log-maxage=${i}`);
}

test('a change near the middle of a 20,000-line file: the same hunks as diffing the whole files', () => {
  const before = longFile(20_000);
  const after = [...before];
  after[9_000] = '--authorization-mode=Node,RBAC';
  after.splice(12_000, 1);
  after.splice(15_000, 0, '--profiling=false', '--anonymous-auth=false');
  const [a, b] = [`${before.join('\n')}\n`, `${after.join('\n')}\n`];
  const hunks = linePatch(a, b, 3).hunks;
  assert.equal(hunks, whole(a, b));
  assert.equal(hunks.map((h) => [h.oldStart, h.newStart]), [[8_998, 8_998], [11_998, 11_998], [14_999, 14_998]]);
});

test('random edits of long files, with and without a final newline: always jsdiff\'s hunks of the whole files', () => {
  for (let seed = 1; seed <= 40; seed += 1) {
    const rng = makeRng(seed);
    const before = longFile(1_000 + Math.floor(rng() * 3_000));
    const after = [...before];
    for (let edits = 1 + Math.floor(rng() * 4); edits > 0; edits -= 1) {
      const at = Math.floor(rng() * after.length);
      const kind = pick(rng, ['change', 'remove', 'add'] as const);
      if (kind === 'change') after[at] = `--changed-${seed}-${edits}=${at}`;
      else if (kind === 'remove') after.splice(at, 1);
      else after.splice(at, 0, `--added-${seed}-${edits}=${at}`);
    }
    const endA = rng() < 0.5 ? '\n' : '';
    const endB = rng() < 0.7 ? endA : endA === '' ? '\n' : '';
    const [a, b] = [before.join('\n') + endA, after.join('\n') + endB];
    assert.equal(linePatch(a, b, 3).hunks, whole(a, b), `seed ${seed}`);
  }
});

test('short files are diffed whole', () => {
  const a = 'a\nb\nc\nd\ne\nf\ng\nh\ni\n';
  const b = 'a\nb\nc\nd\nE\nf\ng\nh\ni\n';
  assert.equal(linePatch(a, b, 3).hunks, whole(a, b));
});

test.run();
