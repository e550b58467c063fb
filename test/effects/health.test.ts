import { promises as fs } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { describeNode, type NodeModel } from '../../src/core/node.js';
import { realFileSystem } from '../../src/effects/file-system.js';
import { healthProbes, runGates, type Clock, type GateProgress, type Probe } from '../../src/effects/health.js';
import { readNodeFacts, RootedReader } from '../../src/effects/node-reader.js';
import { systemServices } from '../../src/effects/services.js';
import { DEFAULT_REVISIONS, kubeconfigText, makeNode, type NodeRootOptions } from '../helpers/node-root.js';
import { b64, testCerts, x509User, type TestCerts } from '../helpers/test-certs.js';

const kubeconfig = (ca: string, user: string) => kubeconfigText(user, b64(ca));
import type { FixtureVersion } from '../helpers/paths.js';
import { makeStandIns, setMode, setUnitState } from '../helpers/stand-ins.js';

const KUBELITE = 'snap.microk8s.daemon-kubelite';
const unit = (daemon: string) => `snap.microk8s.daemon-${daemon}`;

// ---- certificates, made with openssl at test time -------------------------------------------------------

type Certs = TestCerts;
const certs = testCerts;




// ---- servers on loopback --------------------------------------------------------------------------------

const servers: Array<http.Server | net.Server> = [];

async function listen<T extends http.Server | net.Server>(server: T, where: number | string = 0): Promise<T> {
  servers.push(server);
  await new Promise<void>((resolve) => (typeof where === 'string' ? server.listen(where, resolve) : server.listen(where, '127.0.0.1', resolve)));
  return server;
}

const portOf = (server: net.Server) => (server.address() as AddressInfo).port;

/** An API server that wants a client certificate from the CA, or (token) a bearer token, and answers /readyz. */
async function apiserver(c: Certs, options: { status?: number; body?: string; token?: string } = {}): Promise<https.Server> {
  const server = https.createServer(
    { key: c.serverKey, cert: c.serverCert, ca: c.ca, requestCert: !options.token, rejectUnauthorized: !options.token },
    (req, res) => {
      if (options.token && req.headers.authorization !== `Bearer ${options.token}`) {
        res.writeHead(401).end('Unauthorized\n');
        return;
      }
      if (req.url !== '/readyz') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(options.status ?? 200, { 'content-type': 'text/plain' }).end(options.body ?? 'ok');
    },
  );
  return listen(server);
}

/** Frees a loopback port for a "nothing listens here" probe. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = portOf(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test.after.each(async () => {
  for (const server of servers.splice(0)) {
    if ('closeAllConnections' in server) server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

// ---- nodes ----------------------------------------------------------------------------------------------

interface Node {
  readonly root: string;
  readonly dataDir: string;
  readonly revision: string;
}

async function node(options: NodeRootOptions): Promise<Node> {
  const root = await makeNode(options);
  const revision = DEFAULT_REVISIONS[options.version];
  return { root, revision, dataDir: path.join(root, 'var/snap/microk8s', revision) };
}

/** Replaces (or adds) one flag line in an args file. */
async function setFlag(n: Node, file: string, flag: string, value: string): Promise<void> {
  const target = path.join(n.dataDir, 'args', file);
  const lines = (await fs.readFile(target, 'utf8')).split('\n').filter((line) => !line.startsWith(`${flag}=`) && !line.startsWith(`${flag} `));
  await fs.writeFile(target, `${flag}=${value}\n${lines.join('\n')}`);
}

async function model(n: Node): Promise<NodeModel> {
  return describeNode(await readNodeFacts(realFileSystem, { root: n.root }));
}

async function probes(n: Node, services: readonly string[]): Promise<Probe[]> {
  const reader = new RootedReader(realFileSystem, n.root);
  return healthProbes({ root: n.root, model: await model(n), services }, (p) => reader.readText(p));
}

async function onlyProbe(n: Node, service: string, name: string): Promise<Probe> {
  const found = (await probes(n, [service])).filter((p) => p.name === name);
  assert.is(found.length, 1, `one ${name} probe`);
  return found[0];
}

/** A 1.28 control-plane node whose kube-apiserver listens on `port`, with client.config for the test CA. */
async function apiserverNode(port: number, config: string, version: FixtureVersion = '1.28'): Promise<Node> {
  const n = await node({ version });
  await setFlag(n, 'kube-apiserver', '--secure-port', String(port));
  await fs.writeFile(path.join(n.dataDir, 'credentials/client.config'), config);
  return n;
}

// ---- which probes each era gets -------------------------------------------------------------------------

const ALL = ['apiserver', 'kubelet', 'proxy', 'scheduler', 'controller-manager', 'kubelite', 'etcd', 'k8s-dqlite', 'containerd'].map(unit);

test('probes per era: one per daemon that runs, apiserver only where the control plane runs', async () => {
  const names = async (options: NodeRootOptions) => (await probes(await node(options), ALL)).map((p) => `${p.service.replace('snap.microk8s.daemon-', '')}: ${p.name}`);
  assert.equal(await names({ version: '1.13' }), ['apiserver: kube-apiserver /readyz', 'kubelet: kubelet /healthz', 'etcd: etcd /health', 'containerd: containerd socket']);
  assert.equal(await names({ version: '1.18' }), ['apiserver: kube-apiserver /readyz', 'kubelet: kubelet /healthz', 'etcd: etcd /health', 'containerd: containerd socket']);
  // From 1.19 etcd is kept off by var/lock/no-etcd.
  assert.equal(await names({ version: '1.21' }), ['kubelite: kube-apiserver /readyz', 'kubelite: kubelet /healthz', 'containerd: containerd socket']);
  for (const version of ['1.26', '1.28', '1.36'] as const) {
    assert.equal(await names({ version }), ['kubelite: kube-apiserver /readyz', 'kubelite: kubelet /healthz', 'k8s-dqlite: k8s-dqlite socket', 'containerd: containerd socket'], version);
  }
  assert.equal(await names({ version: '1.28', worker: true }), ['kubelite: kubelet /healthz', 'k8s-dqlite: k8s-dqlite socket', 'containerd: containerd socket']);
});

test('only the services asked for get probes', async () => {
  const n = await node({ version: '1.28' });
  assert.equal((await probes(n, [unit('containerd')])).map((p) => p.name), ['containerd socket']);
  assert.equal((await probes(n, [unit('proxy'), unit('cluster-agent')])).map((p) => p.name), []);
});

// ---- kube-apiserver /readyz -----------------------------------------------------------------------------

test('kube-apiserver probe passes over TLS with the CA and client certificate of credentials/client.config', async () => {
  const c = await certs();
  const server = await apiserver(c);
  const n = await apiserverNode(portOf(server), kubeconfig(c.ca, x509User(c)));
  assert.equal(await (await onlyProbe(n, KUBELITE, 'kube-apiserver /readyz')).check(), { ok: true, detail: 'HTTP 200: ok' });
});

test('kube-apiserver probe fails when client.config trusts another CA', async () => {
  const c = await certs();
  const server = await apiserver(c);
  const n = await apiserverNode(portOf(server), kubeconfig(c.otherCa, x509User(c)));
  const result = await (await onlyProbe(n, KUBELITE, 'kube-apiserver /readyz')).check();
  assert.is(result.ok, false);
  assert.match(result.detail, /^TLS: the server's certificate is not trusted \(/);
});

test('kube-apiserver probe fails when client.config has no client certificate', async () => {
  const c = await certs();
  const server = await apiserver(c);
  const n = await apiserverNode(portOf(server), kubeconfig(c.ca, '    {}\n'));
  const result = await (await onlyProbe(n, KUBELITE, 'kube-apiserver /readyz')).check();
  assert.is(result.ok, false);
  assert.match(result.detail, /^TLS: the server refused the client certificate|^connection reset by the server/);
});

test('kube-apiserver probe fails on HTTP 500 and says which check failed', async () => {
  const c = await certs();
  const server = await apiserver(c, { status: 500, body: '[+]ping ok\n[+]log ok\n[-]etcd failed: reason withheld\nreadyz check failed\n' });
  const n = await apiserverNode(portOf(server), kubeconfig(c.ca, x509User(c)));
  assert.equal(await (await onlyProbe(n, KUBELITE, 'kube-apiserver /readyz')).check(), { ok: false, detail: 'HTTP 500: [-]etcd failed: reason withheld' });
});

test('kube-apiserver probe authenticates with the token of a 1.26 kubeconfig', async () => {
  const c = await certs();
  const server = await apiserver(c, { token: 'Zm9vYmFyLXRva2Vu' });
  const n = await apiserverNode(portOf(server), kubeconfig(c.ca, '    token: Zm9vYmFyLXRva2Vu\n'), '1.26');
  assert.equal(await (await onlyProbe(n, KUBELITE, 'kube-apiserver /readyz')).check(), { ok: true, detail: 'HTTP 200: ok' });
  await fs.writeFile(path.join(n.dataDir, 'credentials/client.config'), kubeconfig(c.ca, '    token: wrong\n'));
  assert.equal(await (await onlyProbe(n, KUBELITE, 'kube-apiserver /readyz')).check(), { ok: false, detail: 'HTTP 401: Unauthorized' });
});

test('kube-apiserver probe on a pre-kubelite node watches daemon-apiserver and reads its --secure-port', async () => {
  const c = await certs();
  const server = await apiserver(c, { token: 't0ken' });
  const n = await apiserverNode(portOf(server), kubeconfig(c.ca, '    token: t0ken\n'), '1.18');
  const probe = await onlyProbe(n, unit('apiserver'), 'kube-apiserver /readyz');
  assert.is(probe.service, unit('apiserver'));
  assert.equal(await probe.check(), { ok: true, detail: 'HTTP 200: ok' });
});

test('kube-apiserver probe says connection refused when nothing listens, and names a missing client.config', async () => {
  const c = await certs();
  const n = await apiserverNode(await closedPort(), kubeconfig(c.ca, x509User(c)));
  assert.equal(await (await onlyProbe(n, KUBELITE, 'kube-apiserver /readyz')).check(), { ok: false, detail: 'connection refused' });
  await fs.rm(path.join(n.dataDir, 'credentials/client.config'));
  assert.equal(await (await onlyProbe(n, KUBELITE, 'kube-apiserver /readyz')).check(), {
    ok: false,
    detail: `/var/snap/microk8s/${n.revision}/credentials/client.config not found: no CA or credentials to reach the API server with`,
  });
});

// ---- kubelet, etcd, sockets -----------------------------------------------------------------------------

test('kubelet probe asks /healthz over plain HTTP on --healthz-port', async () => {
  const server = await listen(http.createServer((req, res) => res.writeHead(req.url === '/healthz' ? 200 : 404).end('ok')));
  const n = await node({ version: '1.28' });
  await setFlag(n, 'kubelet', '--healthz-port', String(portOf(server)));
  const probe = await onlyProbe(n, KUBELITE, 'kubelet /healthz');
  assert.equal(await probe.check(), { ok: true, detail: 'HTTP 200: ok' });
  await setFlag(n, 'kubelet', '--healthz-port', '0');
  assert.equal((await probes(n, [KUBELITE])).map((p) => p.name), ['kube-apiserver /readyz'], '--healthz-port=0 turns the endpoint off');
});

test('etcd probe asks /health over TLS with etcd’s own certificate pair and trusted CA (1.18)', async () => {
  const c = await certs();
  const server = await listen(https.createServer({ key: c.serverKey, cert: c.serverCert, ca: c.ca, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    res.writeHead(req.url === '/health' ? 200 : 404).end('{"health":"true"}');
  }));
  const n = await node({ version: '1.18' });
  await setFlag(n, 'etcd', '--listen-client-urls', `https://0.0.0.0:${portOf(server)}`);
  await fs.writeFile(path.join(n.dataDir, 'certs/ca.crt'), c.ca);
  await fs.writeFile(path.join(n.dataDir, 'certs/server.crt'), c.serverCert);
  await fs.writeFile(path.join(n.dataDir, 'certs/server.key'), c.serverKey);
  const probe = await onlyProbe(n, unit('etcd'), 'etcd /health');
  assert.equal(await probe.check(), { ok: true, detail: 'HTTP 200: {"health":"true"}' });
  await fs.writeFile(path.join(n.dataDir, 'certs/ca.crt'), c.otherCa);
  assert.match((await probe.check()).detail, /^TLS: the server's certificate is not trusted/);
});

test('etcd probe on a 1.13 node asks /health over the relative unix socket, found in $SNAP_DATA', async () => {
  const n = await node({ version: '1.13' });
  await listen(http.createServer((_req, res) => res.writeHead(200).end('{"health": "true"}')), path.join(n.dataDir, 'etcd.socket:2379'));
  assert.equal(await (await onlyProbe(n, unit('etcd'), 'etcd /health')).check(), { ok: true, detail: 'HTTP 200: {"health": "true"}' });
});

test('k8s-dqlite probe connects to the --listen socket inside the root', async () => {
  const n = await node({ version: '1.28' });
  const probe = await onlyProbe(n, unit('k8s-dqlite'), 'k8s-dqlite socket');
  const socket = `/var/snap/microk8s/${n.revision}/var/kubernetes/backend/kine.sock:12379`;
  assert.equal(await probe.check(), { ok: false, detail: `no socket at /var/snap/microk8s/${n.revision}/var/kubernetes/backend/kine.sock` });
  await listen(net.createServer((s) => s.end()), path.join(n.root, socket));
  assert.equal(await probe.check(), { ok: true, detail: `accepting connections on ${socket}` });
});

test('containerd probe connects to --address, a socket under $SNAP_COMMON', async () => {
  const n = await node({ version: '1.28' });
  const probe = await onlyProbe(n, unit('containerd'), 'containerd socket');
  await fs.mkdir(path.join(n.root, 'var/snap/microk8s/common/run'), { recursive: true });
  await listen(net.createServer((s) => s.end()), path.join(n.root, 'var/snap/microk8s/common/run/containerd.sock'));
  assert.equal(await probe.check(), { ok: true, detail: 'accepting connections on /var/snap/microk8s/common/run/containerd.sock' });
});

// ---- runGates -------------------------------------------------------------------------------------------

function fakeClock(): Clock & { slept: number[] } {
  let t = 0;
  const slept: number[] = [];
  return { slept, now: () => t, sleep: async (ms) => { slept.push(ms); t += ms; } };
}

const probeOf = (name: string, results: Array<{ ok: boolean; detail: string }>): Probe => {
  let i = 0;
  return { name, service: KUBELITE, check: async () => results[Math.min(i++, results.length - 1)] };
};

test('runGates passes once probes pass and the unit stayed up, unchanged, for stableMs', async () => {
  const standIns = await makeStandIns();
  await setUnitState(standIns, KUBELITE, { activeState: 'active', mainPid: 4242, restarts: 0 });
  const lines: GateProgress[] = [];
  const clock = fakeClock();
  const probe = probeOf('kube-apiserver /readyz', [{ ok: false, detail: 'connection refused' }, { ok: false, detail: 'connection refused' }, { ok: true, detail: 'HTTP 200: ok' }]);
  const result = await runGates(systemServices({ env: standIns.env }), [probe], [KUBELITE], { timeoutMs: 60_000, stableMs: 5000, pollMs: 1000, clock, onProgress: (l) => lines.push(l) });
  assert.equal(result, { ok: true, failures: [] });
  assert.is(clock.now(), 5000);
  assert.equal(lines, [
    { waitingFor: 'kube-apiserver /readyz', last: 'connection refused', elapsedMs: 0, timeoutMs: 60_000 },
    { waitingFor: 'kube-apiserver /readyz', last: 'connection refused', elapsedMs: 1000, timeoutMs: 60_000 },
    { waitingFor: `${KUBELITE} to stay up 5s`, last: null, elapsedMs: 2000, timeoutMs: 60_000 },
    { waitingFor: `${KUBELITE} to stay up 5s`, last: null, elapsedMs: 3000, timeoutMs: 60_000 },
    { waitingFor: `${KUBELITE} to stay up 5s`, last: null, elapsedMs: 4000, timeoutMs: 60_000 },
  ]);
});

test('runGates ends its wait as soon as its signal is aborted: not ok, interrupted, with what it last saw', async () => {
  const standIns = await makeStandIns();
  await setUnitState(standIns, KUBELITE, { activeState: 'active', mainPid: 4242, restarts: 0 });
  const controller = new AbortController();
  const probe = probeOf('kube-apiserver /readyz', [{ ok: false, detail: 'HTTP 500: [-]etcd failed' }]);
  const started = Date.now();
  const lines: GateProgress[] = [];
  const gate = runGates(systemServices({ env: standIns.env }), [probe], [KUBELITE], {
    timeoutMs: 60_000,
    pollMs: 1000,
    onProgress: (progress) => {
      lines.push(progress);
      controller.abort();
    },
    signal: controller.signal,
  });
  const result = await gate;
  assert.ok(Date.now() - started < 900, 'not a poll later');
  // How long the unit has been up is real time since the gate began: a tenth of a second or so on a busy machine.
  const upFor = /^has been up only (0|0\.\d)s of the 5s required$/;
  const [, up] = result.failures;
  assert.match(up?.detail ?? '', upFor);
  const steady = { ...result, failures: result.failures.map((f) => (f === up ? { ...f, detail: 'has been up only 0s of the 5s required', message: `${KUBELITE} has been up only 0s of the 5s required` } : f)) };
  assert.is(up?.message, `${KUBELITE} ${up?.detail}`);
  assert.equal(steady, { ok: false, interrupted: true, failures: [{ name: 'kube-apiserver /readyz', service: KUBELITE, detail: 'HTTP 500: [-]etcd failed', message: 'kube-apiserver /readyz: HTTP 500: [-]etcd failed' }, { name: KUBELITE, service: KUBELITE, detail: 'has been up only 0s of the 5s required', message: `${KUBELITE} has been up only 0s of the 5s required` }] });
  assert.is(lines.length, 1);
  // A probe that never answers is not waited for either.
  const hanging: Probe = { name: 'kube-apiserver /readyz', service: KUBELITE, check: () => new Promise(() => undefined) };
  const stuck = new AbortController();
  setTimeout(() => stuck.abort(), 50);
  const cut = await runGates(systemServices({ env: standIns.env }), [hanging], [], { timeoutMs: 60_000, signal: stuck.signal });
  assert.is(cut.interrupted, true);
});

test('runGates with the real clock and the real endpoints passes on a healthy node', async () => {
  const c = await certs();
  const standIns = await makeStandIns();
  await setUnitState(standIns, KUBELITE, { activeState: 'active', mainPid: 77, restarts: 0 });
  await setUnitState(standIns, unit('containerd'), { activeState: 'active', mainPid: 78, restarts: 0 });
  const server = await apiserver(c);
  const n = await apiserverNode(portOf(server), kubeconfig(c.ca, x509User(c)));
  const kubelet = await listen(http.createServer((_req, res) => res.writeHead(200).end('ok')));
  await setFlag(n, 'kubelet', '--healthz-port', String(portOf(kubelet)));
  const started = Date.now();
  const result = await runGates(systemServices({ env: standIns.env }), await probes(n, [KUBELITE]), [KUBELITE, unit('containerd')], { timeoutMs: 5000, stableMs: 300, pollMs: 50 });
  assert.equal(result, { ok: true, failures: [] });
  assert.ok(Date.now() - started < 3000);
});

test('runGates catches a crash loop: NRestarts grows and MainPID changes while ActiveState stays active', async () => {
  const standIns = await makeStandIns();
  await setUnitState(standIns, KUBELITE, { activeState: 'active', mainPid: 100, restarts: 0 });
  await setUnitState(standIns, unit('k8s-dqlite'), { activeState: 'active', mainPid: 200, restarts: 0 });
  await setMode(standIns, 'systemctl', 'crash-loop', { unit: KUBELITE });
  const ok = probeOf('kubelet /healthz', [{ ok: true, detail: 'HTTP 200: ok' }]);
  const result = await runGates(systemServices({ env: standIns.env }), [ok], [KUBELITE, unit('k8s-dqlite')], { timeoutMs: 3000, stableMs: 2000, pollMs: 1000, clock: fakeClock() });
  // Four polls (0s, 1s, 2s, 3s): the first is the baseline, the three after it each see a restart.
  assert.equal(result, {
    ok: false,
    failures: [{ name: KUBELITE, service: KUBELITE, detail: 'restarted 3 times in the window', message: `${KUBELITE} restarted 3 times in the window` }],
  });
});

test('runGates times out naming what it last saw: a refused connection, an HTTP 500 body, a failed unit', async () => {
  const c = await certs();
  const standIns = await makeStandIns();
  await setUnitState(standIns, KUBELITE, { activeState: 'failed', mainPid: 0, restarts: 0 });
  const refused = await apiserverNode(await closedPort(), kubeconfig(c.ca, x509User(c)));
  const server = await apiserver(c, { status: 500, body: '[+]ping ok\n[-]etcd failed\nreadyz check failed\n' });
  const failing = await apiserverNode(portOf(server), kubeconfig(c.ca, x509User(c)));
  const all = [
    ...(await probes(refused, [KUBELITE])).filter((p) => p.name === 'kube-apiserver /readyz'),
    ...(await probes(failing, [KUBELITE])).filter((p) => p.name === 'kube-apiserver /readyz'),
  ];
  const lines: GateProgress[] = [];
  const result = await runGates(systemServices({ env: standIns.env }), all, [KUBELITE], { timeoutMs: 10_000, pollMs: 1000, clock: fakeClock(), onProgress: (l) => lines.push(l) });
  assert.is(result.ok, false);
  assert.equal(result.failures.map((f) => f.message), [
    'kube-apiserver /readyz: connection refused',
    'kube-apiserver /readyz: HTTP 500: [-]etcd failed',
    `${KUBELITE} is failed`,
  ]);
  // Every poll is reported, with the answer of the probe waited for: the first to fail is named from the start.
  assert.equal(lines.length, 10);
  assert.equal(lines[0], { waitingFor: 'kube-apiserver /readyz', last: 'connection refused', elapsedMs: 0, timeoutMs: 10_000 });
  assert.equal(lines[9], { waitingFor: 'kube-apiserver /readyz', last: 'connection refused', elapsedMs: 9000, timeoutMs: 10_000 });
});

test('runGates reports a unit it cannot read, and a timeout shorter than stableMs', async () => {
  const standIns = await makeStandIns();
  await setUnitState(standIns, KUBELITE, { activeState: 'active', mainPid: 9, restarts: 0 });
  const short = await runGates(systemServices({ env: standIns.env }), [], [KUBELITE], { timeoutMs: 2000, stableMs: 5000, clock: fakeClock() });
  assert.equal(short.failures.map((f) => f.message), [`${KUBELITE} has been up only 2s of the 5s required`]);
  await setMode(standIns, 'systemctl', 'fail', { message: 'Failed to connect to bus: No such file or directory' });
  const unknown = await runGates(systemServices({ env: standIns.env }), [], [KUBELITE], { timeoutMs: 1000, clock: fakeClock() });
  assert.match(unknown.failures[0].message, `${KUBELITE} state unknown: systemctl show --property=ActiveState,MainPID,NRestarts ${KUBELITE}.service failed (exit 1): Failed to connect to bus`);
});

test.run();
