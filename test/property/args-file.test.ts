// The args-file model on generated files: parse then print gives back every byte, whatever the input
// (CRLF, lone CR, no final newline, BOM, tabs, comments, quotes, backslashes, unicode, NUL, empty and very
// long lines), and the model describes the text: one line per physical line, numbered in order, each with
// its own line end; a flag line's name, separator and raw value are the text right after its indent; the
// value is the raw value unquoted. Both readers place every word on a line the file has, in order.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseArgsFile, printArgsFile, printLine, unquote } from '../../src/core/args-file.js';
import { readWithBash } from '../../src/core/bash-reader.js';
import { readWithKubelite } from '../../src/core/kubelite-reader.js';
import type { ReaderEnv } from '../../src/core/reader.js';
import { generateArgsFile, generateHostileArgsFile } from '../helpers/generate-args.js';
import { between, chance, forAll, pick, property, type Rng } from '../helpers/prng.js';

const SUITE = 'property/args-file\\.test\\.js$';
const ENV: ReaderEnv = { vars: { SNAP: '/snap/microk8s/6089', SNAP_DATA: '/var/snap/microk8s/6089', SNAP_COMMON: '/var/snap/microk8s/common' }, unknownVariables: 'keep' };

// Any mix of the characters args files are made of, and worse.
const SOUP = ['-', '--', '=', ' ', '  ', '\t', '"', "'", '\\', '#', '#~', '$', '${SNAP}', '\r', '\n', '\r\n', 'a', 'flag', 'x=y', '<', '|', ';', '(', ')', '`', '$(', 'é', '\u00a0', '\u2028', '\u{1F512}', '\uFEFF', '\0', '*', '~', '{', '}'];

function soup(rng: Rng): string {
  let text = '';
  for (let n = between(rng, 0, 60); n > 0; n--) text += pick(rng, SOUP);
  return text;
}

/** A file from one of the generators, then changed the ways files get changed by hand and by tools. */
function anyFile(rng: Rng): string {
  const kind = rng();
  let text = kind < 0.35 ? soup(rng) : kind < 0.7 ? generateArgsFile(rng) : generateHostileArgsFile(rng);
  if (chance(rng, 0.15)) text = text.replace(/\r?\n/g, '\r\n');
  if (chance(rng, 0.15)) text = text.replace(/\r?\n$/, '');
  if (chance(rng, 0.08)) text = `\uFEFF${text}`;
  if (chance(rng, 0.1)) text = text.replace(/ /g, '\t');
  if (chance(rng, 0.1)) text += '\n'.repeat(between(rng, 1, 3));
  if (chance(rng, 0.005)) text += `--long=${'x'.repeat(70_000)}\n`;
  return text;
}

/** The physical lines of a text, each with its line end, as the model must split it. */
function physicalLines(text: string): { body: string; eol: string }[] {
  const parts = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  return parts.map((part) => {
    if (part.endsWith('\r\n')) return { body: part.slice(0, -2), eol: '\r\n' };
    if (part.endsWith('\n')) return { body: part.slice(0, -1), eol: '\n' };
    return { body: part, eol: '' };
  });
}

function checkModel(text: string): void {
  const file = parseArgsFile(text);
  assert.is(printArgsFile(file), text, 'parse then print gives back every byte');
  assert.equal(parseArgsFile(printArgsFile(file)), file, 'parsing the printed text gives the same model');
  const physical = physicalLines(text);
  assert.is(file.lines.length, physical.length, 'one model line per physical line');
  file.lines.forEach((line, i) => {
    const where = `line ${i + 1}`;
    assert.is(line.number, i + 1, `${where}: numbered in order`);
    assert.is(line.eol, physical[i].eol, `${where}: line end`);
    assert.is(printLine({ ...line, eol: '' }), physical[i].body, `${where}: text`);
    assert.match(line.indent, /^[ \t]*$/, `${where}: indent`);
    const afterIndent = physical[i].body.slice(line.indent.length);
    const expectedKind = afterIndent.trim() === '' ? 'blank' : afterIndent.startsWith('#~') ? 'marker' : afterIndent.startsWith('#') ? 'comment' : afterIndent.startsWith('-') ? 'flag' : 'other';
    assert.is(line.kind, expectedKind, `${where}: kind`);
    if (line.kind !== 'flag') {
      assert.is(line.flag, null, `${where}: no flag`);
      return;
    }
    const flag = line.flag!;
    assert.ok(flag.name.startsWith('-') && !/[=\s]/.test(flag.name), `${where}: flag name ${JSON.stringify(flag.name)}`);
    assert.ok(afterIndent.startsWith(flag.name + flag.separator + (flag.rawValue ?? '')), `${where}: the flag's parts are the text after the indent`);
    assert.match(flag.separator, /^(=|[ \t]*)$/, `${where}: separator`);
    if (flag.rawValue === null) assert.is(flag.value, null, `${where}: a bare flag has no value`);
    else assert.is(flag.value, unquote(flag.rawValue), `${where}: value is the raw value unquoted`);
  });
  for (const read of [readWithBash(text, ENV), readWithKubelite(text, ENV)]) {
    let previous = 1;
    for (const word of read.argv) {
      assert.ok(word.line >= previous && word.line <= Math.max(file.lines.length, 1), `${read.reader} word ${JSON.stringify(word.value)} on line ${word.line} of ${file.lines.length}`);
      previous = word.line;
    }
    for (const finding of read.findings) assert.ok(finding.line >= 0 && finding.line <= Math.max(file.lines.length, 1), `${read.reader} finding on line ${finding.line}`);
  }
}

const roundTrip = property('args files print back byte for byte and the model describes their lines', { runs: 4000, seed: 20261122 });

test(`${roundTrip.name} (${roundTrip.runs} files from seed ${roundTrip.seed})`, () => {
  forAll(roundTrip, SUITE, anyFile, checkModel);
});

test.run();
