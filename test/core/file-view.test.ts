import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { viewFlagsFile } from '../../src/core/file-view.js';

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

test.run();
