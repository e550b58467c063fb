import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { viewFlagsFile } from '../../src/core/file-view.js';
import type { Finding } from '../../src/core/finding.js';

const env = { vars: { SNAP: '/snap/microk8s/current', SNAP_DATA: '/var/snap/microk8s/6089', SNAP_COMMON: '/var/snap/microk8s/common' }, unknownVariables: 'keep' as const };
const kubelite = (text: string) => viewFlagsFile(text, { reader: 'kubelite', component: 'kube-apiserver', env });
const differ = (text: string) => kubelite(text).findings.filter((f) => f.code === 'readers-differ').map((f) => [f.line, f.message]);

test('a file both readers read alike has no readers-differ finding', () => {
  assert.equal(differ('--a=1\n# comment\n\n--b="x"\n--c=${SNAP_DATA}/x\n'), []);
});

test('a trailing comment: kubelite passes it on as arguments', () => {
  assert.equal(differ('--a=1\n--b=2 # why\n'), [[2, 'bash reads ["--b=2"] but kubelite reads ["--b=2","#","why"]: a trailing comment: kubelite passes it on as arguments']]);
});

test('a quoted value with a space', () => {
  assert.equal(differ('--d="with space"\n'), [[1, 'bash reads ["--d=with space"] but kubelite reads ["--d=with","space"]: a quoted value with a space: kubelite splits it']]);
});

test('a tab between flag and value', () => {
  assert.equal(differ('--bind\t0.0.0.0\n'), [[1, 'bash reads ["--bind","0.0.0.0"] but kubelite reads ["--bind\t0.0.0.0"]: a tab: bash splits on it, kubelite does not']]);
});

test('CRLF line ends', () => {
  assert.equal(differ('--a=1\r\n'), [[1, 'bash reads ["--a=1\r"] but kubelite reads ["--a=1"]: a carriage return (CRLF line end): bash keeps it in the value, kubelite drops it']]);
});

test('repeated spaces and backslashes', () => {
  assert.equal(differ('--a  b\n'), [[1, 'bash reads ["--a","b"] but kubelite reads ["--a","","b"]: repeated spaces: kubelite makes empty arguments of them']]);
  assert.equal(differ('--a=x\\y\n'), [[1, 'bash reads ["--a=xy"] but kubelite reads ["--a=x\\y"]: a backslash: bash removes it, kubelite keeps it']]);
});

test('a shell syntax error in a kubelite-read file is reported once', () => {
  const findings = kubelite('--a=1\n--b=x;y\n').findings.filter((f) => f.code === 'readers-differ');
  assert.equal(findings.map((f) => [f.line, f.message]), [[2, 'bash cannot read this file (shell syntax error) although kubelite can']]);
});

test('bash-read files are not compared; their own findings come from bash', () => {
  const view = viewFlagsFile('--b=2 # why\n--c=$(id)\n', { reader: 'bash', component: 'etcd', env });
  assert.equal(view.findings.filter((f) => f.code === 'readers-differ'), []);
  assert.ok(view.findings.some((f) => f.code === 'unsupported-construct' && f.line === 2 && f.severity === 'error'));
  assert.equal(view.read.argv.map((w) => w.value).slice(0, 1), ['--b=2']);
});

test('findings come sorted by line', () => {
  const view = kubelite('--x=1 # a\n--token-auth-file=/a\n--token-auth-file=/b\n');
  assert.equal(view.findings.map((f) => f.line), [...view.findings.map((f) => f.line)].sort((a, b) => a - b));
  assert.equal(view.flags.flags.get('--x')!.value, '1');
});

// A hostile file can make a finding of every word: a file keeps the first 20 of each code and counts the rest.
const summary = (code: string, severity: string, line: number, omitted: number) => ({
  code, severity, line, message: `and ${omitted} more in this file, from line ${line} on (the first 20 of each code are shown)`, omitted,
});
const ofCode = (findings: readonly Finding[], code: string) => findings.filter((f) => f.code === code);

test('a 260 KB file of stray words: 20 stray-argument findings and one that counts the other 129,980', () => {
  const text = `${'x '.repeat(1000)}\n`.repeat(130);
  const proxy = viewFlagsFile(text, { reader: 'kubelite', component: 'kube-proxy', env });
  const stray = ofCode(proxy.findings, 'stray-argument');
  assert.is(stray.length, 21);
  assert.equal(stray[0], { code: 'stray-argument', severity: 'error', line: 1, message: '"x" is not a flag: kube-proxy takes no arguments and does not start' });
  assert.equal(stray[20], summary('stray-argument', 'error', 1, 129_980));
  assert.is(proxy.findings.length, 21);
  assert.is(proxy.flags.stray.length, 130_000);
  // bash reads the same file for a bash-read component.
  const bash = viewFlagsFile(text, { reader: 'bash', component: 'kubelite', env });
  assert.equal(ofCode(bash.findings, 'stray-argument')[20], summary('stray-argument', 'warning', 1, 129_980));
});

test('125,000 lines of --v=1: 20 repeated-flag findings and one that counts the other 124,979', () => {
  const view = viewFlagsFile('--v=1\n'.repeat(125_000), { reader: 'kubelite', component: 'kube-proxy', env });
  assert.is(view.findings.length, 21);
  assert.equal(view.findings[0], { code: 'repeated-flag', severity: 'warning', line: 1, message: '--v is set again on line 125000: this line is redundant (the last occurrence wins)' });
  assert.equal(view.findings[20], summary('repeated-flag', 'warning', 21, 124_979));
  assert.is(view.flags.flags.get('--v')?.occurrences.length, 125_000);
});

test('a list flag on 30 lines: one repeated-list-flag finding naming its first 20 lines and values', () => {
  const text = Array.from({ length: 30 }, (_, i) => `--enable-admission-plugins=P${i + 1}\n`).join('');
  const view = kubelite(text);
  assert.equal(view.findings, [{
    code: 'repeated-list-flag',
    severity: 'info',
    line: 1,
    message: `--enable-admission-plugins appears on lines ${Array.from({ length: 20 }, (_, i) => i + 1).join(', ')} and 10 more lines: the values accumulate (${Array.from({ length: 20 }, (_, i) => `P${i + 1}`).join(',')}, and the values of the 10 more)`,
  }]);
  assert.is(view.flags.flags.get('--enable-admission-plugins')?.value, Array.from({ length: 30 }, (_, i) => `P${i + 1}`).join(','));
});

test('30 lines the readers read differently: 20 readers-differ findings and one that counts the other 10', () => {
  const found = ofCode(kubelite(Array.from({ length: 30 }, (_, i) => `--a="x ${i}"\n`).join('')).findings, 'readers-differ');
  assert.is(found.length, 21);
  assert.equal(found[19].message, 'bash reads ["--a=x 19"] but kubelite reads ["--a=x","19"]: a quoted value with a space: kubelite splits it');
  assert.equal(found[20], summary('readers-differ', 'warning', 21, 10));
});

test('20 findings of a code are all shown, with no count: files as they are met are reported as before', () => {
  const text = Array.from({ length: 20 }, (_, i) => `--a="x ${i}"\n`).join('');
  const found = differ(text);
  assert.is(found.length, 20);
  assert.ok(kubelite(text).findings.every((f) => !('omitted' in f)));
});

test('the bash reader keeps 20 findings of a code and counts the rest; unknown variables in kubelite likewise', () => {
  const crlf = viewFlagsFile('--a=1\r\n'.repeat(50), { reader: 'bash', component: 'kubelite', env });
  const cr = ofCode(crlf.findings, 'carriage-return');
  assert.is(cr.length, 21);
  assert.equal(cr[20], summary('carriage-return', 'warning', 21, 30));
  const vars = kubelite(Array.from({ length: 25 }, (_, i) => `--a${i}=\${V${i}}\n`).join(''));
  assert.equal(ofCode(vars.findings, 'unknown-variable')[20], summary('unknown-variable', 'info', 21, 5));
});

test.run();
