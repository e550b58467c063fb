import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { effectiveFlags } from '../../src/core/effective-flags.js';
import type { ArgvWord } from '../../src/core/reader.js';

const words = (...lines: string[][]): ArgvWord[] => lines.flatMap((values, i) => values.map((value) => ({ value, line: i + 1 })));

test('a plain flag: the last occurrence wins, and each earlier one is reported', () => {
  const result = effectiveFlags(words(['--token-auth-file=/a'], ['--secure-port=16443'], ['--token-auth-file=/b']), 'kube-apiserver');
  assert.is(result.flags.get('--token-auth-file')!.value, '/b');
  assert.equal(result.flags.get('--token-auth-file')!.occurrences.map((o) => o.line), [1, 3]);
  assert.equal(result.findings, [{
    code: 'repeated-flag',
    severity: 'warning',
    line: 1,
    message: '--token-auth-file is set again on line 3: this value is silently ignored (the last occurrence wins)',
  }]);
});

test('the same value twice is called redundant, not ignored', () => {
  const result = effectiveFlags(words(['--a=1'], ['--a=1']), 'kubelet');
  assert.match(result.findings[0].message, 'this line is redundant');
});

test('list flags accumulate over occurrences', () => {
  const result = effectiveFlags(words(['--authorization-mode=RBAC'], ['--authorization-mode=AlwaysAllow']), 'kube-apiserver');
  const flag = result.flags.get('--authorization-mode')!;
  assert.is(flag.list, true);
  assert.is(flag.value, 'RBAC,AlwaysAllow');
  assert.equal(result.findings.map((f) => [f.code, f.severity, f.line]), [['repeated-list-flag', 'info', 1]]);
});

test('the same flag is plain in a component that has no list of that name', () => {
  const result = effectiveFlags(words(['--authorization-mode=AlwaysAllow'], ['--authorization-mode=Webhook']), 'kubelet');
  assert.is(result.flags.get('--authorization-mode')!.value, 'Webhook');
});

test('--flag value takes the next word; a boolean flag does not', () => {
  const result = effectiveFlags(words(['--bind', '0.0.0.0:25000'], ['--client-cert-auth'], ['--timeout', '240']), 'cluster-agent');
  assert.is(result.flags.get('--bind')!.value, '0.0.0.0:25000');
  assert.is(result.flags.get('--client-cert-auth')!.value, null);
  assert.is(result.flags.get('--timeout')!.value, '240');
  const stray = effectiveFlags(words(['--client-cert-auth', 'true']), 'etcd');
  assert.equal(stray.stray.map((w) => w.value), ['true']);
  assert.equal(stray.findings.map((f) => [f.code, f.severity]), [['stray-argument', 'warning']]);
});

test('a stray word stops a Kubernetes component: an error', () => {
  const result = effectiveFlags(words(['--a=1', '#', 'why']), 'kube-apiserver');
  assert.equal(result.stray.map((w) => w.value), ['#', 'why']);
  assert.equal(result.findings.map((f) => f.severity), ['error', 'error']);
  assert.match(result.findings[0].message, 'kube-apiserver takes no arguments');
});

test('short flags and = inside values', () => {
  const result = effectiveFlags(words(['-H', 'unix:///x.sock'], ['--feature-gates=A=true,B=false']), 'dockerd');
  assert.is(result.flags.get('-H')!.value, 'unix:///x.sock');
  assert.is(result.flags.get('--feature-gates')!.value, 'A=true,B=false');
});

test.run();
