// The join of configured ports and listeners: one verdict per port, and what a change closes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bindIsLocal, exposure, portsClosedBy, stillOpen } from '../../src/core/exposure.js';
import type { ConfiguredPort } from '../../src/core/ports.js';
import type { Listener } from '../../src/core/proc-net.js';

function port(id: string, number: number, bind: string | null, unauthenticated: boolean): ConfiguredPort {
  return {
    id,
    port: number,
    socket: null,
    service: 'snap.microk8s.daemon-kubelite',
    component: 'kubelet',
    what: id,
    bind,
    source: { flags: [], file: null, line: null, byDefault: false, text: bind === null ? 'the args turn it off' : `set to ${bind}` },
    access: { kind: unauthenticated ? 'none' : 'tls-authn', text: unauthenticated ? 'no authentication' : 'TLS and authentication' },
    unauthenticated,
    documented: null,
  };
}
const listen = (address: string, number: number): Listener => ({ family: address.includes(':') ? 6 : 4, address, port: number, inode: 1, uid: 0 });

test('verdicts: exposed beyond localhost without authentication, unexpected where the args say off or localhost, fine otherwise', () => {
  const rows = [
    port('open-anon', 10255, '0.0.0.0', true),
    port('local-anon', 10248, '127.0.0.1', true),
    port('authn', 10250, '0.0.0.0', false),
    port('off', 8080, null, true),
    port('local-only', 10259, '127.0.0.1', false),
    port('down', 10257, '0.0.0.0', false),
  ];
  const found = exposure(rows, [listen('0.0.0.0', 10255), listen('127.0.0.1', 10248), listen('::', 10250), listen('127.0.0.1', 8080), listen('::', 10259), listen('10.0.0.5', 9999)]);
  assert.equal(
    found.rows.map((r) => [r.port, r.verdict, r.reason]),
    [
      [10255, 'exposed', 'listening on 0.0.0.0:10255 with no authentication'],
      [10248, 'fine', 'listening on localhost only'],
      [10250, 'fine', 'TLS and authentication'],
      [8080, 'unexpected', 'listening on 127.0.0.1:8080 although the args turn it off'],
      [10259, 'unexpected', 'listening on [::]:10259 although configured on 127.0.0.1 only'],
      [10257, 'fine', 'not listening now (is the service running?)'],
    ],
  );
  assert.equal(found.others, [listen('10.0.0.5', 9999)]);
});

test('without listener data the configuration decides; without a configuration only MicroK8s port numbers are shown', () => {
  const offline = exposure([port('open-anon', 10255, '0.0.0.0', true), port('local-anon', 10248, '127.0.0.1', true)], null);
  assert.equal(offline.rows.map((r) => [r.verdict, r.listening]), [['exposed', null], ['fine', null]]);
  const unknown = exposure(null, [listen('0.0.0.0', 10255), listen('127.0.0.1', 10249), listen('0.0.0.0', 22)]);
  assert.equal(unknown.rows.map((r) => [r.port, r.verdict]), [[10255, 'unknown'], [10249, 'fine']]);
  assert.equal(unknown.others.map((l) => l.port), [22]);
});

test('a port that another row serves is not judged twice (the API server proxy off on a control plane)', () => {
  const proxy = { ...port('apiserver-proxy', 16443, null, false), what: 'API server proxy' };
  const found = exposure([port('apiserver', 16443, '0.0.0.0', false), proxy], [listen('0.0.0.0', 16443)]);
  assert.equal(found.rows.map((r) => r.verdict), ['fine', 'fine']);
  assert.is(found.rows[1].reason, "off; port 16443 is apiserver's here");
});

test('what a change closes, and which of those listeners still show open', () => {
  const before = [port('ro', 10255, '0.0.0.0', true), port('sched', 10259, '0.0.0.0', false), port('same', 10250, '0.0.0.0', false)];
  const after = [port('ro', 10255, null, true), port('sched', 10259, '127.0.0.1', false), port('same', 10250, '0.0.0.0', false)];
  const closed = portsClosedBy(before, after);
  assert.equal(closed.map((c) => [c.row.id, c.expect]), [['ro', 'closed'], ['sched', 'local']]);
  assert.equal(stillOpen(closed, [listen('127.0.0.1', 10259), listen('::', 10250)]), []);
  assert.equal(stillOpen(closed, [listen('0.0.0.0', 10255), listen('::', 10259)]).map((o) => [o.row.id, o.listening.map((l) => l.address)]), [['ro', ['0.0.0.0']], ['sched', ['::']]]);
  assert.ok(bindIsLocal('127.0.0.1') && bindIsLocal('[::1]') && bindIsLocal('localhost') && !bindIsLocal('0.0.0.0') && !bindIsLocal('10.0.0.1'));
});

test.run();
