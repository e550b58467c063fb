// The progress of a health gate: one line rewritten in place on a terminal, a line per change elsewhere.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { GateProgress } from '../../src/effects/health.js';
import { progressLine, progressWriter, REWRITE_LINE } from '../../src/ui/gate-progress.js';

const at = (seconds: number, waitingFor: string, last: string | null): GateProgress => ({ waitingFor, last, elapsedMs: seconds * 1000 + 400, timeoutMs: 180_000 });

test('progressLine: what it waits for, the elapsed seconds of the limit, and the last answer', () => {
  assert.is(progressLine('after', at(12, 'kube-apiserver /readyz', 'HTTP 500')), 'after: waiting for kube-apiserver /readyz — 12s of 180s, last: HTTP 500');
  assert.is(progressLine('before', at(0, 'snap.microk8s.daemon-kubelite to stay up 5s', null)), 'before: waiting for snap.microk8s.daemon-kubelite to stay up 5s — 0s of 180s');
  // The answer comes from a server: escaped.
  assert.is(progressLine('after', at(1, 'kube-apiserver /readyz', 'HTTP 500: a\u001b[2Jb')), 'after: waiting for kube-apiserver /readyz — 1s of 180s, last: HTTP 500: a\\x1b[2Jb');
});

test('not a terminal: one line when what it waits for or its answer changes, none per poll', () => {
  const out: string[] = [];
  const view = progressWriter((text) => out.push(text), null).view('after');
  view.update(at(0, 'kube-apiserver /readyz', 'connection refused'));
  view.update(at(1, 'kube-apiserver /readyz', 'connection refused'));
  view.update(at(2, 'kube-apiserver /readyz', 'HTTP 500: [-]etcd failed'));
  view.update(at(3, 'kube-apiserver /readyz', 'HTTP 500: [-]etcd failed'));
  view.update(at(4, 'snap.microk8s.daemon-kubelite to stay up 5s', null));
  view.end();
  assert.equal(out, [
    'after: waiting for kube-apiserver /readyz — 0s of 180s, last: connection refused\n',
    'after: waiting for kube-apiserver /readyz — 2s of 180s, last: HTTP 500: [-]etcd failed\n',
    'after: waiting for snap.microk8s.daemon-kubelite to stay up 5s — 4s of 180s\n',
  ]);
});

test('a terminal: every poll rewrites the line in place, cut to the width; the end and a note finish it', () => {
  const out: string[] = [];
  const writer = progressWriter((text) => out.push(text), 40);
  const view = writer.view('after');
  view.update(at(0, 'kube-apiserver /readyz', 'connection refused'));
  view.update(at(1, 'kube-apiserver /readyz', 'connection refused'));
  writer.note('error: interrupted\n');
  view.update(at(2, 'kube-apiserver /readyz', 'HTTP 500'));
  view.end();
  view.end();
  writer.note('done\n');
  assert.equal(out, [
    `${REWRITE_LINE}after: waiting for kube-apiserver /rea…`,
    `${REWRITE_LINE}after: waiting for kube-apiserver /rea…`,
    '\n',
    'error: interrupted\n',
    `${REWRITE_LINE}after: waiting for kube-apiserver /rea…`,
    '\n',
    REWRITE_LINE,
    'done\n',
  ]);
  for (const text of out) assert.ok(text.replace(REWRITE_LINE, '').length <= 39, text);
});

test.run();
