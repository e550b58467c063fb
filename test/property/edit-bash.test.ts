// Edits that harden lets through never make real bash run anything (test/helpers/edit-bash.ts): bash-read args
// files full of payloads inside quotes (`$(touch M)`, backticks, quoted strings across lines holding flag lines,
// comments with quotes), random subsets of the shipped profiles' flag rules applied as `plan` applies them, and
// real bash reading the original and the edited file as MicroK8s' wrappers do, every file of a run in one bash
// process. The original never runs a payload; an edit the check passes never does either. Edits the check
// refuses are read too: some of them would run a payload, which shows the cases reach what the check is for.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readWithBash } from '../../src/core/bash-reader.js';
import { argvOfRealBash, EDIT_ENV, flagRules, runEditCases } from '../helpers/edit-bash.js';
import { generateArgsFile, generateHostileArgsFile } from '../helpers/generate-args.js';
import { caseSeeds, makeRng, pick, property, withCase } from '../helpers/prng.js';

const SUITE = 'property/edit-bash\\.test\\.js$';
const edits = property('edits of bash-read files: what the check lets through, real bash reads without running anything', { runs: 3000, seed: 20261206 });

test(`${edits.name} (${edits.runs} files from seed ${edits.seed})`, async () => {
  const results = runEditCases(caseSeeds(edits), await flagRules());
  const counts = { applied: 0, refused: 0, unchanged: 0, caught: 0, appliedAcrossQuotes: 0 };
  for (const result of results) {
    const { seed, input, outcome } = result;
    withCase(edits, seed, { ...input, after: outcome.after, problems: outcome.problems }, SUITE, () => {
      assert.not.ok(result.originalRan, 'the generated original runs a payload: the generator is wrong');
      if (outcome.after === input.before) counts.unchanged += 1;
      else if (outcome.applied) {
        counts.applied += 1;
        if (/['"]\n/.test(outcome.after)) counts.appliedAcrossQuotes += 1;
        assert.not.ok(result.editedRan, 'the check let through an edit after which bash runs a payload');
      } else {
        counts.refused += 1;
        if (result.editedRan) counts.caught += 1;
      }
    });
  }
  // The cases must reach both sides of the check, and edits that would have run a payload.
  const enough = (n: number) => n >= edits.runs / 20 || edits.runs < 200;
  const shown = JSON.stringify(counts);
  assert.ok(enough(counts.applied), `only ${counts.applied} edits applied: ${shown}`);
  assert.ok(enough(counts.refused), `only ${counts.refused} edits refused: ${shown}`);
  assert.ok(enough(counts.appliedAcrossQuotes), `only ${counts.appliedAcrossQuotes} applied edits of files with quoted strings across lines: ${shown}`);
  assert.ok(counts.caught > 0 || edits.runs < 200, `no refused edit would have run a payload: ${shown}`);
});

// The proof rests on the reader's word about where each line starts. Where it says a line starts between words,
// real bash must read the lines before it and the lines from it on as two files of their own, word for word.
const starts = property('a line the bash reader says starts between words splits the file without changing a word', { runs: 600, seed: 20261207 });

test(`${starts.name} (${starts.runs} files from seed ${starts.seed})`, () => {
  const cases = caseSeeds(starts).flatMap((seed) => {
    const rng = makeRng(seed);
    const text = rng() < 0.5 ? generateArgsFile(rng) : generateHostileArgsFile(rng);
    const read = readWithBash(text, EDIT_ENV);
    // Files bash would run a command from or refuse are not handed to bash; `[n]=` words set array elements
    // rather than add words, so a split file gives other words whatever the line starts.
    if (read.findings.some((f) => f.severity === 'error' || f.message.startsWith('array subscript'))) return [];
    const between = read.lineStarts.flatMap((start, index) => (start === 0 && index > 0 ? [index] : []));
    if (between.length === 0) return [];
    const at = pick(rng, between);
    const lines = text.split('\n');
    return [{ seed, text, at: at + 1, head: `${lines.slice(0, at).join('\n')}\n`, tail: lines.slice(at).join('\n') }];
  });
  const argvs = argvOfRealBash(cases.flatMap((c) => [c.text, c.head, c.tail]));
  cases.forEach((c, n) => {
    const [whole, head, tail] = argvs.slice(3 * n, 3 * n + 3);
    withCase(starts, c.seed, { text: c.text, splitAtLine: c.at }, SUITE, () => {
      if (whole === null) return;
      assert.ok(head !== null && tail !== null, 'bash reads the file but not one of its parts');
      assert.equal([...head!, ...tail!], whole, `split before line ${c.at}`);
    });
  });
  assert.ok(cases.length >= starts.runs / 3 || starts.runs < 100, `only ${cases.length} files to split`);
});

test.run();
