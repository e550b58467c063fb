// Node text for a terminal: every control, separator and bidi character shown as an escape, the backslash
// doubled, so that what is shown says exactly what is there; the whole-document filter; JSON without them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { jsonText, shown, terminalSafe } from '../../src/ui/terminal-text.js';
import { between, chance, forAll, pick, property } from '../helpers/prng.js';

/** Every character a terminal must never get raw from the node. */
const UNSAFE: number[] = [
  ...Array.from({ length: 0x20 }, (_, i) => i),
  ...Array.from({ length: 0x21 }, (_, i) => 0x7f + i),
  0x061c, 0x200e, 0x200f, 0x2028, 0x2029, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069,
];
const isUnsafe = (code: number) => UNSAFE.includes(code);
const unsafeIn = (text: string) => [...text].map((c) => c.codePointAt(0)!).filter(isUnsafe);

/** The inverse of `shown`, as a reader of the escapes would undo them. */
function unescape(text: string): string {
  return text.replace(/\\(\\|t|n|r|x([0-9a-f]{2})|u([0-9a-f]{4}))/g, (_, what: string, x?: string, u?: string) => {
    if (what === '\\') return '\\';
    if (what === 't') return '\t';
    if (what === 'n') return '\n';
    if (what === 'r') return '\r';
    return String.fromCharCode(Number.parseInt((x ?? u)!, 16));
  });
}

test('shown: the escapes, exactly', () => {
  assert.is(shown('kubelet'), 'kubelet');
  assert.is(shown('x\nerror: fake'), 'x\\nerror: fake');
  assert.is(shown('a\tb\rc'), 'a\\tb\\rc');
  assert.is(shown('\u001b[2J\u001b]0;title\u0007'), '\\x1b[2J\\x1b]0;title\\x07');
  assert.is(shown('\u0000\u007f\u0080\u009b'), '\\x00\\x7f\\u0080\\u009b');
  assert.is(shown('a\u2028b\u2029c'), 'a\\u2028b\\u2029c');
  assert.is(shown('\u202eevil\u202c \u2066x\u2069 \u200e\u200f\u061c'), '\\u202eevil\\u202c \\u2066x\\u2069 \\u200e\\u200f\\u061c');
  // The backslash itself is doubled: a name that reads `\n` is not a name with a newline.
  assert.is(shown('C:\\n'), 'C:\\\\n');
  // Everything else (Unicode letters, emoji, quotes) as it is.
  assert.is(shown('prüfung 名前 🚀 "q" \'s\''), 'prüfung 名前 🚀 "q" \'s\'');
});

test('shown: no unsafe character survives, for each one alone and amid text', () => {
  for (const code of UNSAFE) {
    const c = String.fromCharCode(code);
    for (const text of [c, `a${c}b`, `${c}${c}`, `\\${c}`]) {
      const out = shown(text);
      assert.equal(unsafeIn(out), [], `U+${code.toString(16)} in ${JSON.stringify(text)}`);
      assert.is(unescape(out), text, `U+${code.toString(16)} round trip`);
    }
  }
});

test('shown: every other BMP character passes as it is', () => {
  for (let code = 0; code <= 0xffff; code += 1) {
    if (isUnsafe(code) || code === 0x5c || (code >= 0xd800 && code <= 0xdfff)) continue;
    const c = String.fromCharCode(code);
    if (shown(c) !== c) assert.unreachable(`U+${code.toString(16)} was escaped`);
  }
});

const prop = property('shown: unambiguous and safe', { runs: 400, seed: 1214 });
test(prop.name, () => {
  const alphabet = ['a', 'Z', ' ', '-', '=', '\\', 'n', 'x', '1', 'b', '"', 'é', '名', '🚀', ...UNSAFE.map((code) => String.fromCharCode(code))];
  forAll(prop, 'ui/terminal-text\\.test\\.js$', (rng) => {
    const length = between(rng, 0, 40);
    return Array.from({ length }, () => (chance(rng, 0.3) ? pick(rng, UNSAFE.map((code) => String.fromCharCode(code))) : pick(rng, alphabet))).join('');
  }, (text) => {
    const out = shown(text);
    assert.equal(unsafeIn(out), []);
    assert.is(unescape(out), text);
    // Nothing shown is taken by the whole-document filter for something to escape again.
    assert.is(terminalSafe(out), out);
  });
});

test('terminalSafe: colour codes, newlines and tabs pass; any other control is escaped', () => {
  const red = '\u001b[31mFAIL\u001b[39m';
  assert.is(terminalSafe(`${red}\tok\n`), `${red}\tok\n`);
  assert.is(terminalSafe('\u001b[1;31mx\u001b[0m'), '\u001b[1;31mx\u001b[0m');
  assert.is(terminalSafe('a\u001b[2Jb\u001b]0;t\u0007\r\u2028'), 'a\\x1b[2Jb\\x1b]0;t\\x07\\r\\u2028');
  for (const code of UNSAFE) {
    if (code === 0x09 || code === 0x0a) continue;
    assert.equal(unsafeIn(terminalSafe(`x${String.fromCharCode(code)}y`)), [], `U+${code.toString(16)}`);
  }
});

test('terminalSafe: the rewrite of the progress line (carriage return then clear-to-end) passes; either alone is escaped', () => {
  assert.is(terminalSafe('\r\u001b[Kafter: waiting'), '\r\u001b[Kafter: waiting');
  assert.is(terminalSafe('a\rb'), 'a\\rb');
  assert.is(terminalSafe('a\u001b[Kb'), 'a\\x1b[Kb');
  assert.is(terminalSafe('\u001b[K\r'), '\\x1b[K\\r');
});

test('jsonText: the same value, with no raw control, separator or bidi character', () => {
  const all = UNSAFE.map((code) => String.fromCharCode(code)).join('');
  const value = { name: `x\n${all}\\`, list: [all, 'plain'], n: 1 };
  const text = jsonText(value);
  assert.equal(JSON.parse(text), value);
  assert.equal(unsafeIn(text.replace(/\n {0,}/g, '')), []);
  assert.ok(text.includes('\\u2028') && text.includes('\\u202e') && text.includes('\\u007f') && text.includes('\\u009b'));
  assert.is(jsonText({ a: 'plain' }), JSON.stringify({ a: 'plain' }, null, 2));
});

test.run();
