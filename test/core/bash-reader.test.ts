import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readWithBash } from '../../src/core/bash-reader.js';
import type { ReaderEnv } from '../../src/core/reader.js';
import { fixtureArgsDir } from '../helpers/paths.js';

const SNAP_VARS = {
  SNAP: '/snap/microk8s/current',
  SNAP_DATA: '/var/snap/microk8s/x1',
  SNAP_COMMON: '/var/snap/microk8s/common',
};
const EMPTY: ReaderEnv = { vars: SNAP_VARS, unknownVariables: 'empty' };
const KEEP: ReaderEnv = { vars: SNAP_VARS, unknownVariables: 'keep' };

/** Each word as [value, line]. */
function words(text: string, env: ReaderEnv = EMPTY): [string, number][] {
  return readWithBash(text, env).argv.map((w) => [w.value, w.line]);
}

function values(text: string, env: ReaderEnv = EMPTY): string[] {
  return readWithBash(text, env).argv.map((w) => w.value);
}

/** Each finding as [code, severity, line]. */
function reported(text: string, env: ReaderEnv = EMPTY): [string, string, number][] {
  return readWithBash(text, env).findings.map((f) => [f.code, f.severity, f.line]);
}

function messages(text: string, env: ReaderEnv = EMPTY): string[] {
  return readWithBash(text, env).findings.map((f) => f.message);
}

// ---- words and lines ----

test('blanks and newlines separate words; each word carries the line it starts on', () => {
  const text = '  --a=1\t--b\n\n\t-H  unix://x\n--namespace k8s.io\n';
  assert.equal(words(text), [
    ['--a=1', 1],
    ['--b', 1],
    ['-H', 3],
    ['unix://x', 3],
    ['--namespace', 4],
    ['k8s.io', 4],
  ]);
  assert.equal(reported(text), []);
  assert.is(readWithBash(text, EMPTY).fails, false);
  assert.is(readWithBash(text, EMPTY).reader, 'bash');
});

test('an empty file and a file of blank lines give no words', () => {
  assert.equal(words(''), []);
  assert.equal(words('\n \t\n\n'), []);
});

test('a file without a final newline reads like one with it', () => {
  assert.equal(words('--a=1\n--b=2'), [
    ['--a=1', 1],
    ['--b=2', 2],
  ]);
});

test('repeated flags are all kept, in order', () => {
  const text = '--token-auth-file=${SNAP_DATA}/t.csv\n--token-auth-file=${SNAP_DATA}/t.csv\n';
  assert.equal(values(text), ['--token-auth-file=/var/snap/microk8s/x1/t.csv', '--token-auth-file=/var/snap/microk8s/x1/t.csv']);
});

// ---- comments ----

test('# starts a comment at the start of a word only', () => {
  const text = '# Enable the aggregation layer\n--x=1 # trailing comment\n#~Enable the aggregation layer\na#b "q"#r --s=#t\n';
  assert.equal(words(text), [
    ['--x=1', 2],
    ['a#b', 4],
    ['q#r', 4],
    ['--s=#t', 4],
  ]);
  assert.equal(reported(text), []);
});

test('a comment ends at its newline, even after a backslash', () => {
  assert.equal(words('# comment \\\n--d e\n'), [
    ['--d', 2],
    ['e', 2],
  ]);
});

test('an escaped or quoted # does not start a comment', () => {
  assert.equal(values('\\#c "#d" \'#e\' a\\ #b\n'), ['#c', '#d', '#e', 'a #b']);
});

// ---- quoting ----

test('single quotes keep everything literally', () => {
  const text = "--etcd-servers='unix://etcd.socket:2379' 'a b' '$SNAP \\ \"x\" # <;>'\n";
  assert.equal(values(text), ['--etcd-servers=unix://etcd.socket:2379', 'a b', '$SNAP \\ "x" # <;>']);
  assert.equal(reported(text), []);
});

test('double quotes protect blanks and metacharacters and expand variables', () => {
  const text = '--eviction-hard="memory.available<100Mi,nodefs.available<1Gi,imagefs.available<1Gi"\n--keyfile "${SNAP_DATA}/certs/server.key"\n"$SNAP x;y"\n';
  assert.equal(words(text), [
    ['--eviction-hard=memory.available<100Mi,nodefs.available<1Gi,imagefs.available<1Gi', 1],
    ['--keyfile', 2],
    ['/var/snap/microk8s/x1/certs/server.key', 2],
    ['/snap/microk8s/current x;y', 3],
  ]);
  assert.equal(reported(text), []);
});

test('inside double quotes a backslash escapes only $ ` " and backslash', () => {
  assert.equal(values('"a\\$b\\\\c\\"d\\`e\\xf\\ g\\\'h\\#"\n'), ['a$b\\c"d`e\\xf\\ g\\\'h\\#']);
});

test('unquoted backslashes escape the next character', () => {
  assert.equal(values('a\\ b \\$SNAP \\\\ \\x \\; \\"q\\"\n'), ['a b', '$SNAP', '\\', 'x', ';', '"q"']);
});

test('empty quotes give an empty word', () => {
  const text = "--iface=\"\"\n\"\" ''\n";
  assert.equal(words(text), [
    ['--iface=', 1],
    ['', 2],
    ['', 2],
  ]);
});

// ---- variables ----

test('$NAME and ${NAME} expand from env.vars, the name being as long as possible', () => {
  const text = '--cert-dir=${SNAP_DATA}/certs $SNAP_COMMON/x ${SNAP}x --kubelet-args-file=$SNAP_DATA/args/kubelet\n';
  assert.equal(values(text), [
    '--cert-dir=/var/snap/microk8s/x1/certs',
    '/var/snap/microk8s/common/x',
    '/snap/microk8s/currentx',
    '--kubelet-args-file=/var/snap/microk8s/x1/args/kubelet',
  ]);
  assert.equal(reported(text), []);
  assert.equal(values('$SNAPx'), []);
  assert.equal(messages('$SNAPx'), ['unknown variable $SNAPx: its value is not known here']);
});

test('a $ not followed by a name, {, (, a quote or a special parameter stays literal', () => {
  const text = '$/ $. $= $% $, $: $+ $^ $~ x$ $\n"a$" "$" "$\'x\'" "a$ b"\n$\\x\n$';
  assert.equal(values(text), ['$/', '$.', '$=', '$%', '$,', '$:', '$+', '$^', '$~', 'x$', '$', 'a$', '$', "$'x'", 'a$ b', '$x', '$']);
  assert.equal(reported(text), []);
});

test('unquoted expansions are split on blanks; quoted ones are not', () => {
  const env: ReaderEnv = { vars: { ...SNAP_VARS, V: ' a  b ', T: '\t' }, unknownVariables: 'empty' };
  assert.equal(values('--x=$V "$V" $V"" ""$T x$T y\n', env), ['--x=', 'a', 'b', ' a  b ', 'a', 'b', '', '', 'x', 'y']);
});

test('an unquoted word that expands to nothing is dropped; a quoted one is an empty word', () => {
  const text = '--a $UNSET_ONE\n"$UNSET_ONE" $UNSET_ONE""\n';
  assert.equal(words(text), [
    ['--a', 1],
    ['', 2],
    ['', 2],
  ]);
});

test('unknown variables: empty expands to nothing, keep keeps the reference unsplit, both report it', () => {
  const text = '--advertise-client-urls=https://${DEFAULT_INTERFACE_IP_ADDR}:12379\n--x $UNSET_ONE\n';
  assert.equal(values(text, EMPTY), ['--advertise-client-urls=https://:12379', '--x']);
  assert.equal(values(text, KEEP), ['--advertise-client-urls=https://${DEFAULT_INTERFACE_IP_ADDR}:12379', '--x', '$UNSET_ONE']);
  for (const env of [EMPTY, KEEP]) {
    assert.equal(reported(text, env), [
      ['unknown-variable', 'info', 1],
      ['unknown-variable', 'info', 2],
    ]);
    assert.equal(messages(text, env), [
      'unknown variable ${DEFAULT_INTERFACE_IP_ADDR}: its value is not known here',
      'unknown variable $UNSET_ONE: its value is not known here',
    ]);
  }
});

test('an unknown variable is reported once per line', () => {
  assert.equal(reported('$U ${U} "$U" $W\n$U\n'), [
    ['unknown-variable', 'info', 1],
    ['unknown-variable', 'info', 1],
    ['unknown-variable', 'info', 2],
  ]);
});

// ---- lines that span lines ----

test('backslash-newline is removed, also inside a variable name and inside double quotes', () => {
  const text = '--a=b\\\nc --d\n--e \\\n--f\n--g=$SN\\\nAP "x\\\ny"\n';
  assert.equal(words(text), [
    ['--a=bc', 1],
    ['--d', 2],
    ['--e', 3],
    ['--f', 4],
    ['--g=/snap/microk8s/current', 5],
    ['xy', 6],
  ]);
  assert.equal(reported(text), [
    ['quoted-newline', 'warning', 1],
    ['quoted-newline', 'warning', 3],
    ['quoted-newline', 'warning', 5],
    ['quoted-newline', 'warning', 6],
  ]);
  assert.equal(messages('--a=b\\\nc'), ['backslash-newline continuation: bash joins this line with the next, so the value spans lines']);
});

test('a quoted newline stays in the value', () => {
  const text = '--a="x\ny" --b\n\'p\nq\'\n';
  assert.equal(words(text), [
    ['--a=x\ny', 1],
    ['--b', 2],
    ['p\nq', 3],
  ]);
  assert.equal(reported(text), [
    ['quoted-newline', 'warning', 1],
    ['quoted-newline', 'warning', 3],
  ]);
  assert.equal(messages('"a\nb"'), ['quoted string spans lines: bash keeps the newline in the value']);
});

test('$(cat) strips every trailing newline, so a final backslash stays literal', () => {
  assert.equal(words('--a\n\n\n'), [['--a', 1]]);
  assert.equal(values('--a\\\n'), ['--a\\']);
  assert.equal(values('--a\\\n\n\n'), ['--a\\']);
  assert.equal(values('--a \\'), ['--a', '\\']);
  assert.equal(reported('--a\\\n'), []);
});

test('a final backslash disappears when bash read the start of the last line inside single quotes', () => {
  assert.equal(values("--a='x\ny'\\"), ['--a=x\ny']);
  assert.equal(values("--a='x'\\"), ['--a=x\\']);
  assert.equal(values("'x\ny'\nz\\"), ['x\ny', 'z\\']);
});

test('the parity of a final backslash run carries over lines holding a single backslash', () => {
  assert.equal(values('a\\\n\\'), ['a\\']);
  assert.equal(values('\\\n\\'), []);
  assert.equal(values('\\\n\\\n\\'), ['\\']);
  assert.equal(values('b\n\\\n\\'), ['b']);
  assert.equal(values('\\\nx\\'), ['x\\']);
});

test('CRLF: the carriage return stays in the word', () => {
  const text = '--a=1\r\n--b "x"\r\n\r\n# comment\r\n--c=$SNAP\r\n';
  assert.equal(words(text), [
    ['--a=1\r', 1],
    ['--b', 2],
    ['x\r', 2],
    ['\r', 3],
    ['--c=/snap/microk8s/current\r', 5],
  ]);
  assert.equal(reported(text), [
    ['carriage-return', 'warning', 1],
    ['carriage-return', 'warning', 2],
    ['carriage-return', 'warning', 3],
    ['carriage-return', 'warning', 5],
  ]);
  assert.equal(messages('--a\r\n'), ['carriage return inside a word: bash keeps the carriage return in the value; use LF line ends']);
});

// ---- files bash refuses ----

test('an unquoted metacharacter is a syntax error that makes bash refuse the file', () => {
  for (const c of ['<', '>', '|', '&', ';', '(', ')']) {
    const text = `--a\n--b=x${c}y\n`;
    const result = readWithBash(text, EMPTY);
    assert.is(result.fails, true, c);
    assert.equal(reported(text), [['reader-fails', 'error', 2]], c);
    assert.equal(messages(text), [`unquoted '${c}' is a shell syntax error: bash refuses the whole file and the daemon does not start; quote the value`]);
    assert.equal(values(text), ['--a', `--b=x${c}y`], c);
  }
});

test('the fixtures quirk: an unquoted < in --eviction-hard fails, the quoted one does not', () => {
  assert.is(readWithBash('--eviction-hard=memory.available<100Mi\n', EMPTY).fails, true);
  assert.is(readWithBash('--eviction-hard="memory.available<100Mi"\n', EMPTY).fails, false);
});

test('an unbalanced quote is reported on the line where it opens', () => {
  assert.equal(reported("--a\n--b='x\n--c\n"), [['reader-fails', 'error', 2]]);
  assert.equal(messages("--b='x"), ['unbalanced single quote: bash refuses the whole file and the daemon does not start; close the quote']);
  assert.equal(reported('--a\n\n--b="x\\"\n'), [['reader-fails', 'error', 3]]);
  assert.equal(messages('--b="x'), ['unbalanced double quote: bash refuses the whole file and the daemon does not start; close the quote']);
  assert.is(readWithBash('"x', EMPTY).fails, true);
});

test('an unclosed ${ and a bad substitution make bash give up', () => {
  assert.equal(reported('--a=${SNAP\n'), [['reader-fails', 'error', 1]]);
  for (const bad of ['${}', '${a.b}', '${ SNAP}', '${/}']) {
    const text = `--x\n--a=${bad}\n`;
    assert.equal(reported(text), [['reader-fails', 'error', 2]], bad);
    assert.equal(messages(text), [`bad substitution ${bad}: bash aborts the wrapper and the daemon does not start; write \${NAME}`]);
    assert.equal(values(text), ['--x', `--a=${bad}`]);
  }
});

test('a word starting with [ reads to the matching ], blanks included; without one bash fails', () => {
  assert.equal(values('[x y] z\n'), ['[x y]', 'z']);
  assert.equal(reported('[x y] z\n'), [['unsupported-construct', 'warning', 1]]);
  assert.equal(reported('--a\n[x y\n'), [
    ['reader-fails', 'error', 2],
    ['unsupported-construct', 'warning', 2],
  ]);
  assert.equal(values('a[b c]\n'), ['a[b', 'c]']);
});

// ---- constructs outside the subset: reported, kept literally, never run ----

test('command substitution is an error: bash would run it as root', () => {
  const text = '--a\n--b=$(id -u) --c="$(id)"\n--d=`id -u`\n--e=<(id)\n';
  assert.equal(values(text), ['--a', '--b=$(id -u)', '--c=$(id)', '--d=`id -u`', '--e=<(id)']);
  assert.equal(reported(text), [
    ['unsupported-construct', 'error', 2],
    ['unsupported-construct', 'error', 3],
    ['unsupported-construct', 'error', 4],
  ]);
  assert.equal(messages(text), [
    'command substitution $(...): bash would run it as root when reading the file; write the value literally',
    'command substitution `...`: bash would run it as root when reading the file; write the value literally',
    'process substitution <(...): bash would run it as root when reading the file; write the value literally',
  ]);
  assert.is(readWithBash(text, EMPTY).fails, false);
});

test('a command substitution inside ${...}, $((...)), $[...] or a [...]= subscript is an error too: bash runs it', () => {
  const constructs: [string, string][] = [
    ['--a=${UNSET:-$(id -u)}', '${...}'],
    ['--a="${UNSET:-`id -u`}"', '${...}'],
    ["--a=\"${UNSET:-'$(id -u)'}\"", '${...}'],
    ['--a=${SNAP/$(id -u)/x}', '${...}'],
    ['--a=$((1+$(id -u)))', '$((...))'],
    ['--a=$[$(id -u)]', '$[...]'],
    ['[$(id -u)]=x', '[...]'],
  ];
  for (const [construct, where] of constructs) {
    const text = `--first\n${construct}\n`;
    const errors = readWithBash(text, EMPTY).findings.filter((f) => f.severity === 'error');
    assert.equal(
      errors.map((f) => [f.code, f.line, f.message]),
      [['unsupported-construct', 2, `command substitution inside ${where}: bash would run it as root when reading the file; write the value literally`]],
      construct,
    );
  }
  // Without a command inside, they stay warnings.
  assert.equal(reported('--a=${UNSET:-x} --b=$((1+2)) [0]=y\n').map(([, severity]) => severity), ['warning', 'warning', 'warning']);
});

test('a finding stays one line when the construct it quotes spans lines (found by fuzzing)', () => {
  assert.equal(messages('--a=${SNAP_DAT{A}\n--b\n'), [
    "'${' without its closing '}': bash refuses the whole file and the daemon does not start",
    'bad substitution ${SNAP_DAT{A}\\n--b: bash aborts the wrapper and the daemon does not start; write ${NAME}',
  ]);
});

test('an unclosed command substitution or backtick is also a syntax error', () => {
  assert.equal(reported('--a=$(id\n'), [
    ['reader-fails', 'error', 1],
    ['unsupported-construct', 'error', 1],
  ]);
  assert.equal(reported('--a=`id\n'), [
    ['reader-fails', 'error', 1],
    ['unsupported-construct', 'error', 1],
  ]);
});

test('expansions beyond the subset are warnings, and their text is kept literally', () => {
  const cases: [string, string][] = [
    ['--a={x,y}', 'brace expansion {...}: bash turns the word into several words; quote the value'],
    ['--a=x{1..3}', 'brace expansion {...}: bash turns the word into several words; quote the value'],
    ['--a=*.crt', 'glob pattern *: bash replaces the word with matching file names; quote the value'],
    ['--a=x?', 'glob pattern ?: bash replaces the word with matching file names; quote the value'],
    ['--a=x[ab]', 'glob pattern [...]: bash replaces the word with matching file names; quote the value'],
    ['~/x', "'~' at the start of a word: bash replaces it with a home directory; quote it or write the path"],
    ["--a=$'a\\tb'", "ANSI-C quoting $'...': not supported here; use plain quotes"],
    ['--a=${SNAP:-/snap}', 'parameter operation ${SNAP:-/snap}: not supported here; use a plain ${NAME}'],
    ['--a=${#SNAP}', 'parameter operation ${#SNAP}: not supported here; use a plain ${NAME}'],
    ['--a=${SNAP/a/b}', 'parameter operation ${SNAP/a/b}: not supported here; use a plain ${NAME}'],
    ['--a=$((1+2))', 'arithmetic expansion $((...)): not supported here; write the result'],
    ['--a=$[1+2]', 'arithmetic expansion $[...]: not supported here; write the result'],
    ['--a=$1', 'special parameter $1: not supported here; it does not hold a flag value'],
    ['--a=$_', 'special parameter $_: not supported here; it does not hold a flag value'],
    ['[0]=x', 'array subscript [0]=: bash sets that array element instead of adding a word; quote the value'],
  ];
  for (const [construct, message] of cases) {
    const text = `--first\n${construct}\n`;
    assert.equal(values(text), ['--first', construct], construct);
    assert.equal(reported(text), [['unsupported-construct', 'warning', 2]], construct);
    assert.equal(messages(text), [message], construct);
  }
});

test('every special parameter is reported', () => {
  for (const p of ['$1', '$@', '$*', '$#', '$?', '$$', '$!', '$-', '$0', '$_', '${1}', '"$@"']) {
    assert.equal(reported(`--a=${p}\n`), [['unsupported-construct', 'warning', 1]], p);
  }
});

test('locale quoting $"..." is a warning and reads as the double-quoted string', () => {
  assert.equal(values('--a=$"x y"\n'), ['--a=x y']);
  assert.equal(messages('--a=$"x y"\n'), ['locale quoting $"...": not supported here; use plain double quotes']);
});

test('brace expansion is reported even where bash matches braces in its own way', () => {
  assert.equal(reported('N{}a,}\n'), [['unsupported-construct', 'warning', 1]]);
  assert.equal(reported('{${SNAP},x}\n'), [['unsupported-construct', 'warning', 1]]);
});

test('braces, brackets and tildes that bash leaves alone are not reported', () => {
  const text = '{a} {} ${SNAP},x} a~b --c=~ x=~/y "{a,b}" \\{a,b} a[b a]b !x\n';
  assert.equal(values(text), ['{a}', '{}', '/snap/microk8s/current,x}', 'a~b', '--c=~', 'x=~/y', '{a,b}', '{a,b}', 'a[b', 'a]b', '!x']);
  assert.equal(reported(text), []);
});

test('a NUL byte is dropped, as bash drops it', () => {
  assert.equal(values('--a=x\0y\n'), ['--a=xy']);
  assert.equal(reported('--a\n--b=x\0y\n'), [['unsupported-construct', 'warning', 2]]);
});

test('findings come sorted by line, then severity', () => {
  const text = '--a=$UNSET_ONE\r\n--b=x;y $(id)\n';
  assert.equal(reported(text), [
    ['carriage-return', 'warning', 1],
    ['unknown-variable', 'info', 1],
    ['reader-fails', 'error', 2],
    ['unsupported-construct', 'error', 2],
  ]);
});

// ---- the fixtures ----

function fixture(version: '1.18' | '1.20', name: string): string {
  return readFileSync(path.join(fixtureArgsDir(version), name), 'utf8');
}

test('fixture 1.18 cluster-agent: space-separated flags with a double-quoted path', () => {
  assert.equal(words(fixture('1.18', 'cluster-agent')), [
    ['--bind', 1],
    ['0.0.0.0:25000', 1],
    ['--keyfile', 2],
    ['/var/snap/microk8s/x1/certs/server.key', 2],
    ['--certfile', 3],
    ['/var/snap/microk8s/x1/certs/server.crt', 3],
  ]);
});

test('fixture 1.20 kube-apiserver: comments and the blank line vanish, lines are kept', () => {
  const result = readWithBash(fixture('1.20', 'kube-apiserver'), EMPTY);
  assert.is(result.argv.length, 24);
  assert.equal(result.argv[15], { value: '--service-account-issuer=https://kubernetes.default.svc', line: 16 });
  assert.equal(result.argv[17], { value: '--requestheader-client-ca-file=/var/snap/microk8s/x1/certs/front-proxy-ca.crt', line: 20 });
  assert.equal(result.argv[23], { value: '--proxy-client-key-file=/var/snap/microk8s/x1/certs/front-proxy-client.key', line: 26 });
  assert.equal(result.findings, []);
});

test('fixture 1.20 etcd and flanneld: the unknown interface address, the empty --iface', () => {
  const etcd = fixture('1.20', 'etcd');
  assert.equal(values(etcd, KEEP)[1], '--advertise-client-urls=https://${DEFAULT_INTERFACE_IP_ADDR}:12379');
  assert.equal(values(etcd, EMPTY)[1], '--advertise-client-urls=https://:12379');
  assert.equal(reported(etcd, KEEP), [['unknown-variable', 'info', 2]]);
  assert.equal(words(fixture('1.20', 'flanneld'))[0], ['--iface=', 1]);
});

test('where each line starts: between words, or inside what an earlier line began', () => {
  const starts = (text: string) => {
    const read = readWithBash(text, KEEP);
    return [read.lineStarts, read.endsBetweenWords];
  };
  assert.equal(starts('--a=1\n--b=2\n'), [[0, 0], true]);
  // A quoted string across lines: the lines inside it start where it began.
  assert.equal(starts("--a='x\n--b=1\ny'\n--c=1\n"), [[0, 1, 1, 0], true]);
  assert.equal(starts('--a="x\n\n$SNAP"\n'), [[0, 1, 1], true]);
  // A continuation, between words or inside one; a construct across lines.
  assert.equal(starts('--a=1 \\\n--b=2\n'), [[0, 1], true]);
  assert.equal(starts('--a=x\\\ny\n'), [[0, 1], true]);
  assert.equal(starts('--a=${X:-\n}\n--b\n'), [[0, 1, 0], true]);
  // A comment ends at its line, quotes and all.
  assert.equal(starts("# it's\n--a=1\n"), [[0, 0], true]);
  // What comes after the end: a final backslash would join it, an unclosed quote swallow it.
  assert.equal(starts('--a=1 \\'), [[0], false]);
  assert.equal(starts("--a='x\n"), [[0], false]);
  // Lines $(cat) drops are not listed.
  assert.equal(starts('--a=1\n\n\n'), [[0], true]);
});

test.run();
