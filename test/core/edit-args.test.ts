import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseArgsFile, printLine } from '../../src/core/args-file.js';
import { consumerOf } from '../../src/core/consumers.js';
import { editArgsFile, type FlagEdit, type LineChange } from '../../src/core/edit-args.js';
import { viewFlagsFile } from '../../src/core/file-view.js';
import type { ReaderEnv } from '../../src/core/reader.js';
import { fixtureArgsDir, fixtureVersions, type FixtureVersion } from '../helpers/paths.js';

const fixture = (version: FixtureVersion, name: string) => readFileSync(path.join(fixtureArgsDir(version), name), 'utf8');
const set = (flag: string, value: string | null, ruleId = 'r'): FlagEdit => ({ kind: 'set', flag, value, ruleId });
const remove = (flag: string, ruleId = 'r'): FlagEdit => ({ kind: 'remove', flag, ruleId });
const edit = (text: string, ...edits: FlagEdit[]) => editArgsFile(text, edits);

/** Replaces exactly one occurrence of `from` (fails loudly when it is absent or repeated). */
function replaceOnce(text: string, from: string, to: string): string {
  assert.is(text.split(from).length, 2, `expected exactly one ${JSON.stringify(from)}`);
  return text.replace(from, () => to);
}

// ---- in place ----

test('set rewrites an `=` line in place; nothing else moves', () => {
  const text = fixture('1.36', 'kube-apiserver');
  const result = edit(text, set('--authorization-mode', 'RBAC,Node', 'cis-1.2.7'));
  assert.is(result.text, replaceOnce(text, '--authorization-mode=AlwaysAllow\n', '--authorization-mode=RBAC,Node\n'));
  assert.equal(result.changes, [{
    ruleId: 'cis-1.2.7', flag: '--authorization-mode', action: 'change', line: 3, newLine: 3,
    before: '--authorization-mode=AlwaysAllow', after: '--authorization-mode=RBAC,Node',
  }]);
});

test('set keeps a space separator (1.13 kubelet --docker, 1.18 cluster-agent --bind) and a tab', () => {
  const kubelet = fixture('1.13', 'kubelet');
  assert.is(
    edit(kubelet, set('--docker', '${SNAP_COMMON}/docker.sock')).text,
    replaceOnce(kubelet, '--docker unix://${SNAP_DATA}/docker.sock\n', '--docker ${SNAP_COMMON}/docker.sock\n'),
  );
  const agent = fixture('1.18', 'cluster-agent');
  assert.is(edit(agent, set('--bind', '127.0.0.1:25000')).text, replaceOnce(agent, '--bind 0.0.0.0:25000\n', '--bind 127.0.0.1:25000\n'));
  assert.is(edit('--bind\t0.0.0.0\n', set('--bind', '127.0.0.1')).text, '--bind\t127.0.0.1\n');
  // Space and double quotes together (cluster-agent), and a short flag (1.13 dockerd -H).
  const agent36 = fixture('1.36', 'cluster-agent');
  assert.is(
    edit(agent36, set('--keyfile', '${SNAP_DATA}/certs/other.key')).text,
    replaceOnce(agent36, '--keyfile "${SNAP_DATA}/certs/server.key"\n', '--keyfile "${SNAP_DATA}/certs/other.key"\n'),
  );
  const dockerd = fixture('1.13', 'dockerd');
  assert.is(edit(dockerd, set('-H', 'unix://${SNAP_DATA}/d.sock')).text, replaceOnce(dockerd, '-H unix://${SNAP_DATA}/docker.sock\n', '-H unix://${SNAP_DATA}/d.sock\n'));
});

test('set keeps single and double quotes', () => {
  const text = fixture('1.36', 'kube-apiserver');
  const result = edit(text, set('--service-account-issuer', 'https://issuer.example'), set('--etcd-servers', 'https://127.0.0.1:12379'));
  let expected = replaceOnce(text, "--service-account-issuer='https://kubernetes.default.svc'\n", "--service-account-issuer='https://issuer.example'\n");
  expected = replaceOnce(expected, '--etcd-servers="unix://${SNAP_DATA}/var/kubernetes/backend/kine.sock:12379"\n', '--etcd-servers="https://127.0.0.1:12379"\n');
  assert.is(result.text, expected);
  assert.equal(result.changes.map((c) => [c.line, c.after]), [
    [12, '--etcd-servers="https://127.0.0.1:12379"'],
    [14, "--service-account-issuer='https://issuer.example'"],
  ]);
});

test('quoting: mixed becomes double; single with a variable becomes double; a metacharacter gets double quotes', () => {
  assert.is(edit('--a=x"y"z\n', set('--a', 'v')).text, '--a="v"\n');
  assert.is(edit("--a='x'\n", set('--a', '${SNAP_DATA}/x')).text, '--a="${SNAP_DATA}/x"\n');
  assert.is(edit('--a=x\n', set('--a', 'x*y')).text, '--a="x*y"\n');
  assert.is(edit('', set('--a', '~/y')).text, '--a="~/y"\n');
  assert.is(edit('', set('--a', '#y')).text, '--a="#y"\n');
  // ${NAME} braces are no brace expansion: left unquoted.
  assert.is(edit('--a=x\n', set('--a', '${SNAP}/y')).text, '--a=${SNAP}/y\n');
});

test('set keeps indent, trailing text and the line end', () => {
  assert.is(edit('--z=0\n  --a=1 # why\r\n--b=2', set('--a', '2')).text, '--z=0\n  --a=2 # why\r\n--b=2');
  assert.is(edit('--a=1', set('--a', '2')).text, '--a=2');
});

test('bare flags: bare set to a value gets `=`; bare equals true; null makes a valued line bare', () => {
  const etcd = fixture('1.36', 'etcd');
  const result = edit(etcd, set('--client-cert-auth', 'false'));
  assert.is(result.text, replaceOnce(etcd, '--client-cert-auth\n', '--client-cert-auth=false\n'));
  assert.equal(result.changes.map((c) => [c.action, c.line, c.before, c.after]), [['change', 4, '--client-cert-auth', '--client-cert-auth=false']]);
  assert.equal(edit(etcd, set('--client-cert-auth', 'true')), { text: etcd, changes: [] });
  assert.equal(edit(etcd, set('--client-cert-auth', null)), { text: etcd, changes: [] });
  assert.is(edit('--a=true\n--b # c\n', set('--a', null), set('--b', 'x')).text, '--a\n--b=x # c\n');
  assert.is(edit('--a value\n', set('--a', null)).text, '--a\n');
});

test('a boolean flag written `--flag value`, an empty value and a value starting with - switch to `=`', () => {
  assert.is(edit('--debug yes\n', set('--debug', 'false')).text, '--debug=false\n');
  assert.is(edit('--log-level info\n', set('--log-level', '')).text, '--log-level=\n');
  assert.is(edit('--log-level info\n', set('--log-level', '-1')).text, '--log-level=-1\n');
});

// ---- duplicates ----

test('duplicates (1.18 kube-apiserver --token-auth-file twice): the last is kept and rewritten, the others removed with a note', () => {
  const text = fixture('1.18', 'kube-apiserver');
  const line = '--token-auth-file=${SNAP_DATA}/credentials/known_tokens.csv\n';
  const result = edit(text, set('--token-auth-file', '${SNAP_DATA}/credentials/other.csv', 'tok'));
  assert.is(result.text, replaceOnce(text, line + line, '--token-auth-file=${SNAP_DATA}/credentials/other.csv\n'));
  assert.equal(result.changes, [
    {
      ruleId: 'tok', flag: '--token-auth-file', action: 'remove', line: 12, newLine: null,
      before: line.trimEnd(), after: null, note: 'duplicate of line 13, removed so one value stands',
    },
    {
      ruleId: 'tok', flag: '--token-auth-file', action: 'change', line: 13, newLine: 12,
      before: line.trimEnd(), after: '--token-auth-file=${SNAP_DATA}/credentials/other.csv',
    },
  ]);
  // Setting the value it already has still leaves one line.
  const same = edit(text, set('--token-auth-file', '${SNAP_DATA}/credentials/known_tokens.csv'));
  assert.is(same.text, replaceOnce(text, line + line, line));
  assert.equal(same.changes.map((c) => [c.action, c.line, c.note]), [['remove', 12, 'duplicate of line 13, removed so one value stands']]);
});

// ---- adding ----

test('add at the end with LF, with CRLF, and with the most common line end', () => {
  assert.equal(edit('--a=1\n', set('--b', '2', 'x')), {
    text: '--a=1\n--b=2\n',
    changes: [{ ruleId: 'x', flag: '--b', action: 'add', line: null, newLine: 2, before: null, after: '--b=2' }],
  });
  assert.is(edit('--a=1\r\n# c\r\n', set('--b', '2'), set('--c', null)).text, '--a=1\r\n# c\r\n--b=2\r\n--c\r\n');
  assert.is(edit('--a=1\r\n--b=2\n--c=3\r\n', set('--d', '4')).text, '--a=1\r\n--b=2\n--c=3\r\n--d=4\r\n');
  assert.is(edit('', set('--a', '1')).text, '--a=1\n');
});

test('add to a file without a final newline keeps it without one', () => {
  const result = edit('--a=1\n--b=2', set('--c', '3', 'x'), set('--d', null, 'y'));
  assert.is(result.text, '--a=1\n--b=2\n--c=3\n--d');
  assert.equal(result.changes, [
    {
      ruleId: 'x', flag: '--c', action: 'add', line: null, newLine: 3, before: null, after: '--c=3',
      note: 'line 2 had no line end; it gets one so the new line starts on its own line',
    },
    { ruleId: 'y', flag: '--d', action: 'add', line: null, newLine: 4, before: null, after: '--d' },
  ]);
  // A real file shipped without a final newline.
  const env = fixture('1.36', 'kubectl-env');
  assert.not.ok(env.endsWith('\n'));
  assert.is(edit(env, set('--x', '1')).text, `${env}\n--x=1`);
});

test('adds come in edit order, after in-place changes', () => {
  const result = edit('--a=1\n', set('--z', '1', 'z'), set('--a', '2', 'a'), set('--m', '3', 'm'));
  assert.is(result.text, '--a=2\n--z=1\n--m=3\n');
  assert.equal(result.changes.map((c) => [c.ruleId, c.action, c.newLine]), [['a', 'change', 1], ['z', 'add', 2], ['m', 'add', 3]]);
});

// ---- removing ----

test('remove takes out every occurrence', () => {
  const text = fixture('1.18', 'kube-apiserver');
  const line = '--token-auth-file=${SNAP_DATA}/credentials/known_tokens.csv\n';
  const result = edit(text, remove('--token-auth-file', 'no-tokens'));
  assert.is(result.text, replaceOnce(text, line + line, ''));
  assert.equal(result.changes.map((c) => [c.ruleId, c.action, c.line, c.newLine, c.note]), [
    ['no-tokens', 'remove', 12, null, undefined],
    ['no-tokens', 'remove', 13, null, undefined],
  ]);
  assert.is(edit('--a=1\n--b=2', remove('--b')).text, '--a=1\n');
});

// ---- what is not a flag ----

test('commented-out flags and #~ markers are never flags', () => {
  const text = '# --a=x\n#~--a=y\n  # --a z\n--ab=1\n';
  assert.equal(edit(text, remove('--a')), { text, changes: [] });
  assert.is(edit(text, set('--a', '2')).text, `${text}--a=2\n`);
  const apiserver = fixture('1.36', 'kube-apiserver');
  const removed = edit(apiserver, remove('--requestheader-client-ca-file')).text;
  assert.ok(removed.includes('\n\n# Enable the aggregation layer\n--requestheader-allowed-names='));
  assert.ok(removed.includes('\n#~Enable the aggregation layer\n'));
});

test('exact names only: --client-ca-file never touches --requestheader-client-ca-file', () => {
  const text = fixture('1.36', 'kube-apiserver');
  const result = edit(text, set('--client-ca-file', '${SNAP_DATA}/certs/other.crt'));
  assert.is(result.text, replaceOnce(text, '\n--client-ca-file=${SNAP_DATA}/certs/ca.crt\n', '\n--client-ca-file=${SNAP_DATA}/certs/other.crt\n'));
  assert.ok(result.text.includes('--requestheader-client-ca-file=${SNAP_DATA}/certs/front-proxy-ca.crt\n'));
  assert.equal(result.changes.map((c) => c.line), [5]);
  assert.equal(edit(text, remove('--client-ca'), remove('--ca-file'), remove('-client-ca-file')), { text, changes: [] });
  const both = edit(text, remove('--client-ca-file')).text;
  assert.ok(both.includes('--requestheader-client-ca-file='));
  assert.not.ok(both.includes('\n--client-ca-file='));
});

// ---- no-ops and errors ----

test('edits that change nothing return the identical text and no changes', () => {
  for (const version of fixtureVersions) {
    const text = fixture(version, 'kube-apiserver');
    const last = parseArgsFile(text).lines.filter((l) => l.kind === 'flag').at(-1)!;
    const result = edit(text, set(last.flag!.name, last.flag!.value), remove('--not-there'));
    assert.is(result.text, text, version);
    assert.equal(result.changes, [], version);
  }
  assert.equal(edit('', remove('--a')), { text: '', changes: [] });
  assert.equal(edit('--a="x"\r\n', set('--a', 'x')), { text: '--a="x"\r\n', changes: [] });
});

test('two edits of one flag in one call throw', () => {
  assert.throws(() => edit('--a=1\n', set('--a', '2'), remove('--a')), /--a is edited twice/);
  assert.throws(() => edit('--a=1\n', set('--b', '2'), set('--b', '3')), /--b is edited twice/);
});

test('unsafe values and bad flag names throw', () => {
  for (const value of ['a\nb', 'a\r', "'x'", 'x"y', 'a`id`', '$(id)', 'x$(id)', 'a b', 'a\\b', '${x:-y}', '${', '$SNAP_COMMON', '${HOME}', 'x;y', 'a<b', 'a\u00a0b', 'a\u2028b', 'a\vb', 'caf\u00e9']) {
    assert.throws(() => edit('--a=1\n', set('--a', value)), /unsafe value for --a/, JSON.stringify(value));
  }
  for (const flag of ['a', '', '--a=b', '--a b', '---', '# --a']) {
    assert.throws(() => edit('--a=1\n', set(flag, '1')), /is not a flag name/, JSON.stringify(flag));
  }
  assert.not.throws(() => edit('--a=1\n', set('--a', '${SNAP_DATA}/a,${SNAP}/b:${SNAP_COMMON}')));
});

// ---- property: every fixture file, random edits ----

const ENV: ReaderEnv = {
  vars: { SNAP: '/snap/microk8s/current', SNAP_DATA: '/var/snap/microk8s/current', SNAP_COMMON: '/var/snap/microk8s/common' },
  unknownVariables: 'keep',
};
const VALUES: readonly (string | null)[] = [null, 'true', 'false', '0', '', 'RBAC,Node', '${SNAP_DATA}/certs/ca.crt', '${SNAP}/x:${SNAP_COMMON}/y', 'imagefs.available=15%,x*[ab]?', '10m'];
const ABSENT = ['--harden-test-flag', '--profiling', '--anonymous-auth', '--client-ca', '--cert', '-q'];
const ROUNDS = 20;
const KUBELITE_ERA: readonly FixtureVersion[] = ['1.21', '1.26', '1.28', '1.36'];
const FLAG_NAME_OK = /^--?[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const SEED = Number(process.env.HARDEN_EDIT_SEED ?? 7919);

/** A tiny LCG (Numerical Recipes constants): enough to pick edits, and easy to replay from its seed. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

function randomEdits(text: string, random: () => number): FlagEdit[] {
  const present = [...new Set(parseArgsFile(text).lines.flatMap((l) => (l.kind === 'flag' ? [l.flag!.name] : [])))];
  const edits: FlagEdit[] = [];
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const names = [...present.filter(() => random() < 0.35), ...ABSENT.filter((n) => !present.includes(n) && random() < 0.2)];
  for (const flag of names) {
    if (FLAG_NAME_OK.test(flag)) edits.push(random() < 0.3 ? remove(flag, `rule-${edits.length}`) : set(flag, pick(VALUES), `rule-${edits.length}`));
  }
  return edits.sort(() => random() - 0.5);
}

function expand(value: string): string {
  return value.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, a?: string, b?: string) => ENV.vars[(a ?? b)!] ?? whole);
}

function fixtureFiles(): { version: FixtureVersion; name: string; text: string }[] {
  return fixtureVersions.flatMap((version) => readdirSync(fixtureArgsDir(version))
    .filter((name) => statSync(path.join(fixtureArgsDir(version), name)).isFile())
    .map((name) => ({ version, name, text: fixture(version, name) })));
}

/** (a) Lines no change names are the original lines, byte for byte, in order; named lines match their change. */
function checkUntouched(text: string, result: { text: string; changes: LineChange[] }, where: string): void {
  const before = parseArgsFile(text).lines;
  const after = parseArgsFile(result.text).lines;
  const oldNamed = new Set(result.changes.flatMap((c) => (c.line === null ? [] : [c.line])));
  const newNamed = new Set(result.changes.flatMap((c) => (c.newLine === null ? [] : [c.newLine])));
  const keptBefore = before.filter((l) => !oldNamed.has(l.number));
  const keptAfter = after.filter((l) => !newNamed.has(l.number));
  assert.equal(keptAfter.map((l) => printLine({ ...l, eol: '' })), keptBefore.map((l) => printLine({ ...l, eol: '' })), `${where}: untouched lines`);
  // The one allowed byte change: the old last line gains a line end when a line is added after it.
  const gained = result.changes.some((c) => c.note?.endsWith('it gets one so the new line starts on its own line'));
  keptBefore.forEach((l, i) => {
    const eol = gained && l.number === before.length ? keptAfter[i].eol : l.eol;
    assert.is(keptAfter[i].eol, eol, `${where}: line end of line ${l.number}`);
  });
  if (gained) assert.is.not(keptAfter.at(-1)?.eol, '', `${where}: gained line end`);
  for (const change of result.changes) {
    if (change.action === 'change' && !(gained && change.line === before.length)) {
      assert.is(after[change.newLine! - 1].eol, before[change.line! - 1].eol, `${where}: line end kept on line ${change.line}`);
    }
    if (change.line !== null) assert.is(printLine({ ...before[change.line - 1], eol: '' }), change.before, `${where}: before of line ${change.line}`);
    if (change.newLine !== null) assert.is(printLine({ ...after[change.newLine - 1], eol: '' }), change.after, `${where}: after of line ${change.newLine}`);
  }
  const removes = result.changes.filter((c) => c.action === 'remove').length;
  const adds = result.changes.filter((c) => c.action === 'add').length;
  assert.is(after.length, before.length - removes + adds, `${where}: line count`);
  const finalNewline = (t: string) => t === '' || t.endsWith('\n');
  if (adds > 0) assert.is(finalNewline(result.text), finalNewline(text), `${where}: final newline kept`);
}

/** (b) The real reader sees the set values, no removed flag, and every other flag as before. */
function checkReading(version: FixtureVersion, name: string, text: string, result: { text: string }, edits: readonly FlagEdit[], where: string): void {
  const consumer = consumerOf(name, KUBELITE_ERA.includes(version) ? 'kubelite' : 'daemons', false, text);
  if (consumer.kind !== 'flags' || (consumer.reader !== 'bash' && consumer.reader !== 'kubelite')) return;
  const options = { reader: consumer.reader, component: consumer.component, env: ENV };
  const old = viewFlagsFile(text, options);
  const now = viewFlagsFile(result.text, options);
  assert.is(now.read.fails, old.read.fails, `${where}: reader fails`);
  const edited = new Map(edits.map((e) => [e.flag, e]));
  for (const e of edits) {
    const flag = now.flags.flags.get(e.flag);
    if (e.kind === 'remove') assert.is(flag, undefined, `${where}: ${e.flag} removed`);
    else {
      // One occurrence left: its own value (a bare list flag would otherwise read as the empty join).
      assert.is(flag?.occurrences.length, 1, `${where}: ${e.flag} once`);
      assert.is(flag!.occurrences[0].value ?? 'true', expand(e.value ?? 'true'), `${where}: ${e.flag} set`);
    }
  }
  const others = (view: typeof old) => [...view.flags.flags.values()].filter((f) => !edited.has(f.name)).map((f) => [f.name, f.value]);
  assert.equal(others(now), others(old), `${where}: other flags`);
  const differ = (view: typeof old) => view.findings.some((f) => f.code === 'readers-differ');
  if (!differ(old)) assert.not.ok(differ(now), `${where}: bash and kubelite still agree`);
}

/** The file as shipped, with CRLF line ends, and without its final newline: (a) and (c) must hold for all. */
function variants(text: string): { label: string; text: string; read: boolean }[] {
  return [
    { label: 'as shipped', text, read: true },
    { label: 'CRLF', text: text.replace(/\n/g, '\r\n'), read: false },
    { label: 'no final newline', text: text.replace(/\n+$/, ''), read: false },
  ];
}

test(`property: ${ROUNDS} random edit sets on every fixture file keep untouched lines, apply, and are idempotent`, () => {
  let runs = 0;
  let changed = 0;
  for (const [index, { version, name, text: shipped }] of fixtureFiles().entries()) {
    for (let round = 0; round < ROUNDS; round += 1) {
      const seed = SEED + index * 1000 + round;
      const edits = randomEdits(shipped, lcg(seed));
      for (const { label, text, read } of variants(shipped)) {
        const where = `seed ${seed} (HARDEN_EDIT_SEED=${SEED}), ${version}/${name} ${label}, edits ${JSON.stringify(edits)}`;
        const result = editArgsFile(text, edits);
        checkUntouched(text, result, where);
        if (read) checkReading(version, name, text, result, edits, where);
        const again = editArgsFile(result.text, edits);
        assert.is(again.text, result.text, `${where}: idempotent text`);
        assert.equal(again.changes, [], `${where}: idempotent changes`);
        runs += 1;
        if (result.changes.length > 0) changed += 1;
      }
    }
  }
  assert.ok(runs > 5000 && changed > runs / 2, `${runs} runs, ${changed} changed a file`);
});

test.run();
