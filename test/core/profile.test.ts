import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inRange } from '../../src/core/evaluate.js';
import { flagSupport, parseFlagCatalogue } from '../../src/core/flag-catalogue.js';
import { formatProblem, parseProfile, PROFILE_FIELDS, RULE_FIELDS, unknownFlagWarnings, type ProfileDocument } from '../../src/core/profile.js';
import { profileValidator } from '../../src/effects/profile-validator.js';
import { parseVersion } from '../../src/core/version.js';
import { fixtureVersions, repoRoot } from '../helpers/paths.js';

const validator = profileValidator();
const problems = async (text: string) => {
  const parsed = await parseProfile(text, 'mine.yaml', validator);
  assert.is(parsed.ok, false);
  return parsed.ok ? [] : parsed.problems.map(formatProblem);
};
const HEAD = 'apiVersion: harden/v1\nkind: Profile\nname: mine\ntitle: Mine\nrules:\n';
const RULE = (extra: string) => `  - id: kubelet.x\n    title: T\n    rationale: R\n    severity: high\n    component: kubelet\n${extra}`;

test('every shipped profile passes the schema', async () => {
  const files = readdirSync(path.join(repoRoot, 'profiles')).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.includes('baseline.yaml'));
  for (const file of files) {
    const parsed = await parseProfile(readFileSync(path.join(repoRoot, 'profiles', file), 'utf8'), file, validator);
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.problems.map(formatProblem).join('\n'));
  }
});

test('every flag and value a shipped profile writes is supported by the catalogue on every fixture version it applies to', async () => {
  const catalogue = parseFlagCatalogue(readFileSync(path.join(repoRoot, 'profiles/flag-catalogue.tsv'), 'utf8'));
  const bad: string[] = [];
  let judged = 0;
  for (const file of ['baseline.yaml', 'cis.yaml']) {
    const profile = ((await parseProfile(readFileSync(path.join(repoRoot, 'profiles', file), 'utf8'), file, validator)) as { profile: ProfileDocument }).profile;
    for (const rule of profile.rules) {
      const value = rule.operation === 'set-flag' ? rule.value! : rule.operation === 'include-items' ? rule.items!.join(',') : null;
      if (value === null) continue;
      for (const text of fixtureVersions) {
        const version = parseVersion(text)!;
        if (rule.applies?.versions && !inRange(version, rule.applies.versions)) continue;
        // etcd rules apply only where the node runs etcd (up to 1.18 among the fixtures).
        if (rule.component === 'etcd' && version.minor > 18) continue;
        if (rule.component === 'k8s-dqlite' && version.minor < 23) continue;
        const support = flagSupport(catalogue, { component: rule.component, flag: rule.flag!, value, version });
        judged += 1;
        if (support.status !== 'supported') bad.push(`${file} ${rule.id} at ${text}: ${support.status}: ${support.reason}`);
      }
    }
  }
  assert.ok(judged > 300, `${judged} judged`);
  assert.equal(bad, []);
});

test('all problems at once, each with file, line and rule id', async () => {
  const text = HEAD + RULE('    operation: set-flag\n    flag: --read-only-port\n') + '  - id: kubelet.y\n    title: T\n    rationale: R\n    severity: extreme\n    component: kubelet\n    operation: manual\n    explain: E\n    colour: red\n';
  assert.equal(await problems(text), [
    'mine.yaml:6: rule kubelet.x: missing field "value"',
    'mine.yaml:16: rule kubelet.y: severity: must be one of "low", "medium", "high", "critical"',
    'mine.yaml:20: rule kubelet.y: unknown field "colour"',
  ]);
});

test('a value that smuggles in a command substitution, a newline or a metacharacter is refused', async () => {
  const cases: [string, string][] = [
    ['"$(id)"', '"$" outside ${SNAP}, ${SNAP_DATA}, ${SNAP_COMMON} at character 1'],
    ['"a\\nb"', 'U+000A (a line feed) at character 2'],
    ['"`id`"', '"`" at character 1'],
    ['"a;b"', '";" at character 2'],
    ['"a b"', 'U+0020 (a space) at character 2'],
    ['"a\\u00a0b"', 'U+00A0 (a no-break space) at character 2'],
  ];
  for (const [value, what] of cases) {
    assert.equal(await problems(HEAD + RULE(`    operation: set-flag\n    flag: --x\n    value: ${value}\n`)), [
      `mine.yaml:13: rule kubelet.x: value: it holds ${what}; a value may hold only ASCII letters, digits and ! # % * + , - . / : = ? @ [ ] ^ _ ~, and $ only in \${SNAP}, \${SNAP_DATA} or \${SNAP_COMMON}`,
    ], value);
  }
});

test('the field lists misspellings are matched against are the schema\'s own', () => {
  const schema = JSON.parse(readFileSync(path.join(repoRoot, 'profiles/schema.json'), 'utf8'));
  assert.equal([...PROFILE_FIELDS].sort(), Object.keys(schema.properties).sort());
  assert.equal([...RULE_FIELDS].sort(), Object.keys(schema.definitions.rule.properties).sort());
});

test('a misspelled field is reported first, with the field meant, and the errors that follow from it are dropped', async () => {
  // Before: eight "missing field" errors (operation, and each operation's own fields), then the unknown field.
  assert.equal(await problems(HEAD + RULE('    operaton: set-flag\n    flag: --read-only-port\n    value: "0"\n')), [
    'mine.yaml:11: rule kubelet.x: unknown field "operaton"; did you mean "operation"?',
  ]);
  // Other problems stay, after it; a misspelling at the top level is matched against the profile's fields.
  assert.equal(await problems(HEAD.replace('title: Mine', 'titel: Mine') + RULE('    severty: high\n    operation: manual\n')), [
    'mine.yaml:4: unknown field "titel"; did you mean "title"?',
    'mine.yaml:11: rule kubelet.x: unknown field "severty"; did you mean "severity"?',
    'mine.yaml:6: rule kubelet.x: missing field "explain"',
  ]);
  // A field near nothing known gets no guess.
  assert.equal(await problems(HEAD + RULE('    operation: manual\n    explain: E\n    frobnication: 1\n')), ['mine.yaml:13: rule kubelet.x: unknown field "frobnication"']);
});

test('a rule without an operation: one error, not one per operation the schema knows', async () => {
  assert.equal(await problems(HEAD + RULE('    flag: --read-only-port\n')), ['mine.yaml:6: rule kubelet.x: missing field "operation"']);
});

test('a flag the catalogue does not list for its component is a warning, with the nearest flag it lists', async () => {
  const catalogue = parseFlagCatalogue(readFileSync(path.join(repoRoot, 'profiles/flag-catalogue.tsv'), 'utf8'));
  const text = HEAD + RULE('    operation: set-flag\n    flag: --read-only-prot\n    value: "0"\n') + RULE('    operation: set-flag\n    flag: --anonymous-auth\n    value: "false"\n').replace('kubelet.x', 'kubelet.y');
  const parsed = await parseProfile(text, 'mine.yaml', validator);
  assert.ok(parsed.ok);
  if (!parsed.ok) return;
  assert.equal(unknownFlagWarnings(parsed.profile, catalogue, parsed.lineOf, 'mine.yaml').map(formatProblem), [
    "mine.yaml:12: rule kubelet.x: flag --read-only-prot is not in harden's flag catalogue for kubelet; did you mean --read-only-port?",
  ]);
});

test('unknown operation and component', async () => {
  assert.equal(await problems(HEAD + '  - id: a.b\n    title: T\n    rationale: R\n    severity: low\n    component: kubelet2\n    operation: delete-everything\n'), [
    'mine.yaml:10: rule a.b: component: must be one of "kube-apiserver", "kubelet", "kube-proxy", "kube-scheduler", "kube-controller-manager", "kubelite", "etcd", "k8s-dqlite", "containerd"',
    'mine.yaml:11: rule a.b: operation: must be one of "set-flag", "remove-flag", "include-items", "exclude-items", "companion-file", "file-mode", "directory", "sysctl", "manual", "probe"',
  ]);
});

test('malformed YAML and duplicate ids are located', async () => {
  assert.equal(await problems('apiVersion: harden/v1\nrules: [\n'), ['mine.yaml:3: not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]']);
  const rule = RULE('    operation: manual\n    explain: E\n');
  assert.equal(await problems(HEAD + rule + rule), ['mine.yaml:13: rule kubelet.x: duplicate rule id (first on line 6)']);
});

test('an alias without its anchor is located, not thrown (found by fuzzing)', async () => {
  assert.equal(await problems(HEAD + RULE('    operation: manual\n    explain: E\n    risks: *missing\n')), [
    'mine.yaml:13: not valid YAML: Unresolved alias (the anchor must be set before the alias): missing',
  ]);
});

test.run();
