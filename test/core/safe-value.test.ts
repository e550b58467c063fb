// One definition of a safe value, shared by the profile schema and the editor: proved on every character.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { editArgsFile } from '../../src/core/edit-args.js';
import { parseProfile } from '../../src/core/profile.js';
import { isSafeValue, unsafeValueReason, VALUE_PATTERN } from '../../src/core/safe-value.js';
import { profileValidator } from '../../src/effects/profile-validator.js';
import { repoRoot } from '../helpers/paths.js';

const schema = JSON.parse(readFileSync(path.join(repoRoot, 'profiles', 'schema.json'), 'utf8'));

/** A profile whose one rule sets --hostname-override to `value`, as data (what the YAML parser hands the schema). */
const profileWith = (value: string) => ({
  apiVersion: 'harden/v1',
  kind: 'Profile',
  name: 'mine',
  title: 'T',
  rules: [{ id: 'kubelet.hostname', title: 'T', rationale: 'R', severity: 'low', component: 'kubelet', operation: 'set-flag', flag: '--hostname-override', value }],
});

const schemaAccepts = (value: string) => profileValidator()(profileWith(value));

function editorAccepts(value: string): boolean {
  try {
    editArgsFile('--v=2\n', [{ kind: 'set', flag: '--hostname-override', value, ruleId: 'kubelet.hostname' }]);
    return true;
  } catch (error) {
    if (!/unsafe value/.test((error as Error).message)) throw error;
    return false;
  }
}

/** Every BMP code point (lone surrogates included) and a few astral ones: emoji, a tag character, private use. */
function* everyCharacter(): Generator<string> {
  for (let code = 0; code <= 0xffff; code += 1) yield String.fromCharCode(code);
  for (const code of [0x10000, 0x1f600, 0xe0020, 0xe0041, 0xf0000, 0x10fffd, 0x1d173]) yield String.fromCodePoint(code);
}

const ALLOWED = new Set([...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#%*+,./:=?@^_~[]-']);

test('the schema\'s value pattern is the one the editor uses', () => {
  assert.is(schema.definitions.value.pattern, VALUE_PATTERN);
});

test('on every character, alone and inside a value, the schema and the editor agree, and accept only the allow-list', () => {
  let accepted = 0;
  for (const char of everyCharacter()) {
    for (const value of [char, `node${char}1`, `\${SNAP_DATA}/a${char}`]) {
      const bySchema = schemaAccepts(value);
      const byEditor = editorAccepts(value);
      if (bySchema !== byEditor) assert.unreachable(`U+${char.codePointAt(0)!.toString(16)} in ${JSON.stringify(value)}: schema ${bySchema}, editor ${byEditor}`);
      if (bySchema !== ALLOWED.has(char)) assert.unreachable(`U+${char.codePointAt(0)!.toString(16)} in ${JSON.stringify(value)}: accepted ${bySchema}`);
      assert.is(isSafeValue(value), bySchema);
      assert.is(unsafeValueReason(value) === null, bySchema);
    }
    if (ALLOWED.has(char)) accepted += 1;
  }
  assert.is(accepted, ALLOWED.size);
});

test('every whitespace, control, format and separator character is refused by both', () => {
  const refused = /[\s\p{C}\p{Z}]/u;
  let seen = 0;
  for (const char of everyCharacter()) {
    if (!refused.test(char)) continue;
    seen += 1;
    assert.not.ok(schemaAccepts(`a${char}b`) || editorAccepts(`a${char}b`), `U+${char.codePointAt(0)!.toString(16)}`);
  }
  assert.ok(seen > 2000);
});

test('the three snap variables are the only $ either accepts', () => {
  for (const value of ['${SNAP}/a', '${SNAP_DATA}/b', '${SNAP_COMMON}/c', '${SNAP_DATA}${SNAP}']) {
    assert.ok(schemaAccepts(value) && editorAccepts(value), value);
  }
  for (const value of ['$SNAP/a', '${HOME}', '${SNAP_DATA', '$', '${SNAP:-x}', '$(id)', '${snap}']) {
    assert.not.ok(schemaAccepts(value) || editorAccepts(value), value);
  }
});

test('a refused value says which character and where, in the schema\'s message and the editor\'s', async () => {
  const cases: [string, string][] = [
    ['node\u00a01', 'it holds U+00A0 (a no-break space) at character 5'],
    ['a\u2028b', 'it holds U+2028 (a line separator) at character 2'],
    ['\u2029', 'it holds U+2029 (a paragraph separator) at character 1'],
    ['x\u3000', 'it holds U+3000 (an ideographic space) at character 2'],
    ['1\v', 'it holds U+000B (a vertical tab) at character 2'],
    ['1\f', 'it holds U+000C (a form feed) at character 2'],
    ['${SNAP_DATA}/a;b', 'it holds ";" at character 15'],
    ['a$b', 'it holds "$" outside ${SNAP}, ${SNAP_DATA}, ${SNAP_COMMON} at character 2'],
    ['caf\u00e9', 'it holds U+00E9 at character 4'],
    ['\u{1f600}', 'it holds U+1F600 at character 1'],
  ];
  for (const [value, reason] of cases) {
    assert.is(unsafeValueReason(value), reason, JSON.stringify(value));
    assert.throws(() => editArgsFile('', [{ kind: 'set', flag: '--a', value, ruleId: 'r.x' }]), (error: Error) => error.message.endsWith(reason));
    const yaml = `apiVersion: harden/v1\nkind: Profile\nname: mine\ntitle: T\nrules:\n  - id: kubelet.x\n    title: T\n    rationale: R\n    severity: low\n    component: kubelet\n    operation: set-flag\n    flag: --x\n    value: ${JSON.stringify(value)}\n`;
    const parsed = await parseProfile(yaml, 'mine.yaml', profileValidator());
    assert.equal(parsed.ok ? [] : parsed.problems.map((p) => p.message), [
      `value: ${reason}; a value may hold only ASCII letters, digits and ! # % * + , - . / : = ? @ [ ] ^ _ ~, and $ only in \${SNAP}, \${SNAP_DATA} or \${SNAP_COMMON}`,
    ]);
  }
});

test.run();
