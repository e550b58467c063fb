import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readWithKubelite } from '../../src/core/kubelite-reader.js';
import { fixtureArgsDir } from '../helpers/paths.js';

const vars = { SNAP: '/snap/microk8s/current', SNAP_DATA: '/var/snap/microk8s/6089', SNAP_COMMON: '/var/snap/microk8s/common' };
const read = (text: string, unknownVariables: 'empty' | 'keep' = 'empty') => readWithKubelite(text, { vars, unknownVariables });
const argv = (text: string) => read(text).argv.map((w) => w.value);

test('the 1.28 kube-apiserver fixture: quotes deleted, variables expanded, comments skipped', () => {
  const result = read(readFileSync(path.join(fixtureArgsDir('1.28'), 'kube-apiserver'), 'utf8'));
  const values = result.argv.map((w) => w.value);
  assert.ok(values.includes('--service-account-issuer=https://kubernetes.default.svc'));
  assert.ok(values.includes('--etcd-servers=unix:///var/snap/microk8s/6089/var/kubernetes/backend/kine.sock:12379'));
  assert.ok(values.includes('--cert-dir=/var/snap/microk8s/6089/certs'));
  assert.not.ok(values.some((v) => v.startsWith('#')));
  assert.is(result.fails, false);
  assert.equal(result.findings, []);
  const issuer = result.argv.find((w) => w.value.startsWith('--service-account-issuer'))!;
  assert.is(issuer.line, 14);
});

test('$VAR and ${VAR} expand; the kubelite file uses $SNAP_DATA', () => {
  assert.equal(argv('--kubelet-args-file=$SNAP_DATA/args/kubelet\n'), ['--kubelet-args-file=/var/snap/microk8s/6089/args/kubelet']);
  assert.equal(argv('--a=${SNAP}x$SNAP_COMMON\n'), ['--a=/snap/microk8s/currentx/var/snap/microk8s/common']);
});

test('no quoting: a quoted value with a space becomes two arguments', () => {
  assert.equal(argv('--d="with space"\n'), ['--d=with', 'space']);
  assert.equal(argv(`--m='a"b'\n`), ['--m=ab']);
});

test('a trailing comment is passed on as arguments', () => {
  assert.equal(argv('--a=1 # why\n'), ['--a=1', '#', 'why']);
});

test('split on single spaces: double spaces give an empty argument; a tab is no separator', () => {
  assert.equal(argv('--a  b\n'), ['--a', '', 'b']);
  assert.equal(argv('--a\tb\n'), ['--a\tb']);
  assert.equal(argv('\t --a=1 \t\n'), ['--a=1']);
});

test('CRLF: the carriage return is dropped; a missing final newline still reads the last line', () => {
  assert.equal(argv('--a=1\r\n--b=2'), ['--a=1', '--b=2']);
});

test('Go whitespace trimming includes NBSP and other Unicode spaces', () => {
  assert.equal(argv('\u00a0--a=1\u2003\n'), ['--a=1']);
});

test('os.ExpandEnv quirks: $( stays, ${} and an unclosed ${ are eaten, $ at the end stays', () => {
  assert.equal(argv('--a=$(whoami)\n'), ['--a=$(whoami)']);
  assert.equal(argv('--a=x${}y\n'), ['--a=xy']);
  assert.equal(argv('--a=${SNAP\n'), ['--a=SNAP']);
  assert.equal(argv('--a=cost$\n'), ['--a=cost$']);
  assert.equal(argv('--a=$/x\n'), ['--a=$/x']);
});

test('unknown variables: empty or kept, and reported once per line', () => {
  const text = '--advertise-client-urls=https://${DEFAULT_INTERFACE_IP_ADDR}:12379,${DEFAULT_INTERFACE_IP_ADDR}\n';
  assert.equal(argv(text), ['--advertise-client-urls=https://:12379,']);
  const kept = read(text, 'keep');
  assert.equal(kept.argv.map((w) => w.value), ['--advertise-client-urls=https://${DEFAULT_INTERFACE_IP_ADDR}:12379,${DEFAULT_INTERFACE_IP_ADDR}']);
  assert.equal(kept.findings, [
    { code: 'unknown-variable', severity: 'info', line: 1, message: 'unknown variable ${DEFAULT_INTERFACE_IP_ADDR}: its value is not known here' },
  ]);
});

test('a line of 64 KiB or more stops the reader: kubelite does not start', () => {
  const long = `--a=${'x'.repeat(64 * 1024)}\n`;
  const result = read(`--first=1\n${long}--never=read\n`);
  assert.is(result.fails, true);
  assert.equal(result.argv.map((w) => w.value), ['--first=1']);
  assert.is(result.findings[0].code, 'reader-fails');
  assert.is(result.findings[0].line, 2);
  assert.is(read(`--a=${'x'.repeat(65535 - 4)}\n`).fails, false);
});

test('the 64 KiB limit counts a line\'s carriage return, as bufio.Scanner does (compared with Go)', () => {
  const body = `--a=${'x'.repeat(65535 - 4)}`;
  assert.is(read(`${body}\n`).fails, false);
  assert.is(read(body).fails, false);
  assert.is(read(`${body}\r\n`).fails, true);
  assert.is(read(`${body}\r`).fails, true);
  assert.is(read(`--a=${'x'.repeat(65534 - 4)}\r\n`).fails, false);
});

test.run();
