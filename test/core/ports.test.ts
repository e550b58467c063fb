import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inRange } from '../../src/core/evaluate.js';
import { describeNode } from '../../src/core/node.js';
import { configuredPorts, type ConfiguredPort, type PortExtras } from '../../src/core/ports.js';
import { parseVersion } from '../../src/core/version.js';
import { realFileSystem } from '../../src/effects/file-system.js';
import { readNodeFacts } from '../../src/effects/node-reader.js';
import { loadProfile } from '../../src/effects/profile-store.js';
import { makeNode, type NodeRootOptions } from '../helpers/node-root.js';
import { fixtureVersions, type FixtureVersion } from '../helpers/paths.js';

async function portsOf(options: NodeRootOptions, edit?: (dataDir: string) => Promise<void>, extra?: PortExtras): Promise<ConfiguredPort[]> {
  const root = await makeNode(options);
  if (edit) await edit(path.join(root, 'var/snap/microk8s/current'));
  const model = describeNode(await readNodeFacts(realFileSystem, { root, argsDir: undefined }));
  return configuredPorts(model, extra);
}

const append = (file: string, ...lines: string[]) => async (dataDir: string) => {
  await fs.appendFile(path.join(dataDir, 'args', file), lines.map((line) => `${line}\n`).join(''));
};

/** A row in one line: id, port or socket, bind (or `off`), service, access kind, open to anyone, documented scope. */
function summary(row: ConfiguredPort): string {
  const where = row.port ?? row.socket ?? '-';
  const unit = row.service.replace('snap.microk8s.daemon-', '');
  return [row.id, where, row.bind ?? 'off', unit, row.access.kind, row.unauthenticated ? 'open' : 'closed', row.documented?.scope ?? '-'].join(' ');
}

const byId = (rows: readonly ConfiguredPort[], id: string) => {
  const row = rows.find((r) => r.id === id);
  assert.ok(row, `no row ${id}`);
  return row!;
};

const EXPECTED: Record<FixtureVersion, string[]> = {
  '1.13': [
    'apiserver 6443 0.0.0.0 apiserver tls-authn closed external',
    'apiserver-insecure 8080 0.0.0.0 apiserver none open localhost',
    'kubelet 10250 0.0.0.0 kubelet tls open external',
    'kubelet-read-only 10255 0.0.0.0 kubelet none open external',
    'kubelet-healthz 10248 127.0.0.1 kubelet none open localhost',
    'proxy-metrics 10249 127.0.0.1 proxy none open localhost',
    'proxy-healthz 10256 0.0.0.0 proxy none open localhost',
    'proxy-userspace - 0.0.0.0 proxy none open external',
    'scheduler 10259 0.0.0.0 scheduler tls-authn closed -',
    'scheduler-insecure 10251 0.0.0.0 scheduler none open localhost',
    'controller-manager 10257 0.0.0.0 controller-manager tls-authn closed -',
    'controller-manager-insecure 10252 0.0.0.0 controller-manager none open localhost',
    'etcd-client /var/snap/microk8s/581/etcd.socket:2379 unix etcd socket closed socket',
    'etcd-peer 2380 127.0.0.1 etcd none open localhost',
    'containerd - unix containerd socket closed socket',
    'dockerd /var/snap/microk8s/581/docker.sock unix docker socket closed socket',
  ],
  '1.18': [
    'apiserver 16443 0.0.0.0 apiserver tls-authn closed external',
    'apiserver-insecure 8080 off apiserver none closed -',
    'kubelet 10250 0.0.0.0 kubelet tls-client-cert closed external',
    'kubelet-read-only 10255 0.0.0.0 kubelet none open external',
    'kubelet-healthz 10248 127.0.0.1 kubelet none open localhost',
    'proxy-metrics 10249 127.0.0.1 proxy none open localhost',
    'proxy-healthz 10256 127.0.0.1 proxy none open localhost',
    'scheduler 10259 0.0.0.0 scheduler tls-authn closed external',
    'scheduler-insecure 10251 127.0.0.1 scheduler none open localhost',
    'controller-manager 10257 0.0.0.0 controller-manager tls-authn closed external',
    'controller-manager-insecure 10252 127.0.0.1 controller-manager none open localhost',
    'etcd-client 12379 0.0.0.0 etcd tls-client-cert closed external',
    'etcd-peer 2380 127.0.0.1 etcd none open localhost',
    'cluster-agent 25000 0.0.0.0 cluster-agent token closed external',
    'containerd /var/snap/microk8s/common/run/containerd.sock unix containerd socket closed socket',
  ],
  '1.20': [
    'apiserver 16443 0.0.0.0 apiserver tls-authn closed external',
    'apiserver-insecure 8080 off apiserver none closed -',
    'kubelet 10250 0.0.0.0 kubelet tls-authn closed external',
    'kubelet-read-only 10255 0.0.0.0 kubelet none open external',
    'kubelet-healthz 10248 127.0.0.1 kubelet none open localhost',
    'proxy-metrics 10249 127.0.0.1 proxy none open localhost',
    'proxy-healthz 10256 127.0.0.1 proxy none open localhost',
    'scheduler 10259 0.0.0.0 scheduler tls-authn closed external',
    'scheduler-insecure 10251 127.0.0.1 scheduler none open localhost',
    'controller-manager 10257 0.0.0.0 controller-manager tls-authn closed external',
    'controller-manager-insecure 10252 127.0.0.1 controller-manager none open localhost',
    'etcd-client 12379 off etcd tls-client-cert closed external',
    'etcd-peer 2380 off etcd none closed localhost',
    'dqlite 19001 127.0.0.1 apiserver tls-client-cert closed external',
    'cluster-agent 25000 0.0.0.0 cluster-agent token closed external',
    'containerd /var/snap/microk8s/common/run/containerd.sock unix containerd socket closed socket',
  ],
  '1.21': [
    'apiserver 16443 0.0.0.0 kubelite tls-authn closed external',
    'apiserver-insecure 8080 off kubelite none closed -',
    'kubelet 10250 0.0.0.0 kubelite tls-authn closed external',
    'kubelet-read-only 10255 0.0.0.0 kubelite none open external',
    'kubelet-healthz 10248 127.0.0.1 kubelite none open localhost',
    'proxy-metrics 10249 127.0.0.1 kubelite none open localhost',
    'proxy-healthz 10256 127.0.0.1 kubelite none open localhost',
    'scheduler 10259 0.0.0.0 kubelite tls-authn closed external',
    'scheduler-insecure 10251 127.0.0.1 kubelite none open localhost',
    'controller-manager 10257 0.0.0.0 kubelite tls-authn closed external',
    'controller-manager-insecure 10252 127.0.0.1 kubelite none open localhost',
    'etcd-client 12379 off etcd tls-client-cert closed external',
    'etcd-peer 2380 off etcd none closed localhost',
    'dqlite 19001 127.0.0.1 kubelite tls-client-cert closed external',
    'cluster-agent 25000 0.0.0.0 cluster-agent token closed external',
    'containerd /var/snap/microk8s/common/run/containerd.sock unix containerd socket closed socket',
  ],
  '1.26': [
    'apiserver 16443 0.0.0.0 kubelite tls-authn closed external',
    'kubelet 10250 0.0.0.0 kubelite tls-authn closed external',
    'kubelet-read-only 10255 off kubelite none closed external',
    'kubelet-healthz 10248 127.0.0.1 kubelite none open localhost',
    'proxy-metrics 10249 127.0.0.1 kubelite none open localhost',
    'proxy-healthz 10256 127.0.0.1 kubelite none open localhost',
    'scheduler 10259 0.0.0.0 kubelite tls-authn closed external',
    'controller-manager 10257 0.0.0.0 kubelite tls-authn closed external',
    'etcd-client 12379 off etcd tls-client-cert closed external',
    'etcd-peer 2380 off etcd none closed localhost',
    'dqlite 19001 127.0.0.1 k8s-dqlite tls-client-cert closed external',
    'kine /var/snap/microk8s/4390/var/kubernetes/backend/kine.sock:12379 unix k8s-dqlite socket closed -',
    'cluster-agent 25000 0.0.0.0 cluster-agent token closed external',
    'containerd /var/snap/microk8s/common/run/containerd.sock unix containerd socket closed socket',
    'apiserver-proxy 16443 off apiserver-proxy tls-authn closed -',
  ],
  '1.28': [
    'apiserver 16443 0.0.0.0 kubelite tls-authn closed external',
    'kubelet 10250 0.0.0.0 kubelite tls-authn closed external',
    'kubelet-read-only 10255 off kubelite none closed external',
    'kubelet-healthz 10248 127.0.0.1 kubelite none open localhost',
    'proxy-metrics 10249 127.0.0.1 kubelite none open localhost',
    'proxy-healthz 10256 127.0.0.1 kubelite none open localhost',
    'scheduler 10259 0.0.0.0 kubelite tls-authn closed external',
    'controller-manager 10257 0.0.0.0 kubelite tls-authn closed external',
    'etcd-client 12379 off etcd tls-client-cert closed external',
    'etcd-peer 2380 off etcd none closed localhost',
    'dqlite 19001 127.0.0.1 k8s-dqlite tls-client-cert closed external',
    'kine /var/snap/microk8s/6089/var/kubernetes/backend/kine.sock:12379 unix k8s-dqlite socket closed -',
    'cluster-agent 25000 0.0.0.0 cluster-agent token closed external',
    'containerd /var/snap/microk8s/common/run/containerd.sock unix containerd socket closed socket',
    'apiserver-proxy 16443 off apiserver-proxy tls-authn closed -',
  ],
  '1.36': [
    'apiserver 16443 0.0.0.0 kubelite tls-authn closed external',
    'kubelet 10250 0.0.0.0 kubelite tls-authn closed external',
    'kubelet-read-only 10255 off kubelite none closed external',
    'kubelet-healthz 10248 127.0.0.1 kubelite none open localhost',
    'proxy-metrics 10249 127.0.0.1 kubelite none open localhost',
    'proxy-healthz 10256 127.0.0.1 kubelite none open localhost',
    'scheduler 10259 0.0.0.0 kubelite tls-authn closed external',
    'controller-manager 10257 0.0.0.0 kubelite tls-authn closed external',
    'etcd-client 12379 off etcd tls-client-cert closed external',
    'etcd-peer 2380 off etcd none closed localhost',
    'dqlite 19001 127.0.0.1 k8s-dqlite tls-client-cert closed external',
    'kine /var/snap/microk8s/8512/var/kubernetes/backend/kine.sock:12379 unix k8s-dqlite socket closed -',
    'cluster-agent 25000 0.0.0.0 cluster-agent token closed external',
    'containerd /var/snap/microk8s/common/run/containerd.sock unix containerd socket closed socket',
    'apiserver-proxy 16443 off apiserver-proxy tls-authn closed -',
  ],
};

for (const version of fixtureVersions) {
  test(`${version}: one row per port its default args configure`, async () => {
    const rows = await portsOf({ version });
    assert.equal(rows.map(summary), EXPECTED[version]);
  });
}

test('1.13: 8080 on every interface with no auth, 10255 open, the kubelet open to anonymous clients', async () => {
  const rows = await portsOf({ version: '1.13' });
  const insecure = byId(rows, 'apiserver-insecure');
  assert.equal(insecure.source, {
    flags: ['--insecure-port', '--port', '--insecure-bind-address', '--address'],
    file: '/var/snap/microk8s/current/args/kube-apiserver',
    line: 1,
    byDefault: false,
    text: '--insecure-port/--port absent (default 8080); --insecure-bind-address=0.0.0.0 (line 1)',
  });
  assert.equal(insecure.access, { kind: 'none', text: 'plain HTTP, no authentication or authorization' });
  assert.equal(insecure.documented, { scope: 'localhost', restriction: 'insecure port' });
  const kubelet = byId(rows, 'kubelet');
  assert.is(kubelet.access.text, 'TLS; anonymous requests are allowed everything (--anonymous-auth on, AlwaysAllow)');
  assert.is(byId(rows, 'kubelet-read-only').source.text, '--read-only-port absent (default 10255); --address absent (default 0.0.0.0)');
  assert.is(byId(rows, 'apiserver').documented?.restriction, 'TLS; clients present a password from a static password file');
});

test('1.21: the read-only port 10255 is open by default; --read-only-port=0 closes it', async () => {
  const open = byId(await portsOf({ version: '1.21' }), 'kubelet-read-only');
  assert.equal([open.bind, open.unauthenticated, open.source.byDefault, open.source.line], ['0.0.0.0', true, true, null]);
  const closed = byId(await portsOf({ version: '1.21' }, append('kubelet', '--read-only-port=0')), 'kubelet-read-only');
  assert.equal([closed.port, closed.bind, closed.unauthenticated, closed.source.byDefault, closed.source.line], [10255, null, false, false, 17]);
  assert.is(closed.source.text, '--read-only-port=0 (line 17); --address absent (default 0.0.0.0)');
  assert.is(closed.service, 'snap.microk8s.daemon-kubelite');
});

test('1.28: 16443 is TLS, AlwaysAllow means every authenticated client is authorized; 10255 closed', async () => {
  const rows = await portsOf({ version: '1.28' });
  const apiserver = byId(rows, 'apiserver');
  assert.equal([apiserver.port, apiserver.bind, apiserver.unauthenticated], [16443, '0.0.0.0', false]);
  assert.is(
    apiserver.access.text,
    'TLS; authenticates X509 client certificates (--client-ca-file), service-account tokens; anonymous requests refused (kube-apiserver turns the default --anonymous-auth off under AlwaysAllow); authorization AlwaysAllow: every authenticated client may do everything',
  );
  assert.equal(apiserver.source, { flags: ['--secure-port', '--bind-address'], file: '/var/snap/microk8s/current/args/kube-apiserver', line: 11, byDefault: false, text: '--secure-port=16443 (line 11); --bind-address absent (default 0.0.0.0)' });
  assert.is(byId(rows, 'kubelet-read-only').source.text, '--read-only-port=0 (line 12); --address absent (default 0.0.0.0)');
  assert.is(
    byId(rows, 'kubelet').access.text,
    'TLS; anonymous refused; authenticates X509 client certificates (--client-ca-file), bearer tokens reviewed by the API server (--authentication-token-webhook); authorization AlwaysAllow: every authenticated client may do everything',
  );
});

test('with RBAC and anonymous auth on, anonymous requests reach the authorizers; the 1.18 token and password files are named', async () => {
  const rbac = byId(await portsOf({ version: '1.28' }, append('kube-apiserver', '--authorization-mode=Node,RBAC')), 'apiserver');
  // --authorization-mode is a list flag: line 3 (AlwaysAllow) and the new line accumulate, and AlwaysAllow stays.
  assert.match(rbac.access.text, /authorization AlwaysAllow,Node,RBAC: every authenticated client/);
  const root = await portsOf({ version: '1.28' }, async (dataDir) => {
    const file = path.join(dataDir, 'args/kube-apiserver');
    await fs.writeFile(file, (await fs.readFile(file, 'utf8')).replace('--authorization-mode=AlwaysAllow', '--authorization-mode=Node,RBAC'));
  });
  assert.match(byId(root, 'apiserver').access.text, /; anonymous requests reach the authorizers as system:anonymous; authorization Node,RBAC$/);
  const old = byId(await portsOf({ version: '1.18' }), 'apiserver');
  assert.match(old.access.text, /^TLS; authenticates X509 client certificates \(--client-ca-file\), a static token file \(--token-auth-file\), a static password file \(--basic-auth-file\), service-account tokens;/);
});

test('--bind-address=127.0.0.1 on the scheduler keeps 10259 on localhost', async () => {
  const rows = await portsOf({ version: '1.28' }, append('kube-scheduler', '--bind-address=127.0.0.1'));
  const scheduler = byId(rows, 'scheduler');
  assert.equal([scheduler.port, scheduler.bind], [10259, '127.0.0.1']);
  assert.equal(scheduler.source, {
    flags: ['--secure-port', '--bind-address'],
    file: '/var/snap/microk8s/current/args/kube-scheduler',
    line: 5,
    byDefault: false,
    text: '--secure-port absent (default 10259); --bind-address=127.0.0.1 (line 5)',
  });
  assert.is(byId(rows, 'controller-manager').bind, '0.0.0.0');
});

test('a worker has no control-plane rows', async () => {
  const rows = await portsOf({ version: '1.28', worker: true });
  assert.equal(rows.map((r) => r.id), ['kubelet', 'kubelet-read-only', 'kubelet-healthz', 'proxy-metrics', 'proxy-healthz', 'cluster-agent', 'containerd', 'apiserver-proxy']);
  const old = await portsOf({ version: '1.18', worker: true });
  assert.equal(old.map((r) => r.id), ['kubelet', 'kubelet-read-only', 'kubelet-healthz', 'proxy-metrics', 'proxy-healthz', 'cluster-agent', 'containerd']);
});

test('a component whose args file is absent has no row', async () => {
  const rows = await portsOf({ version: '1.28' }, async (dataDir) => {
    await fs.rm(path.join(dataDir, 'args/cluster-agent'));
    await fs.rm(path.join(dataDir, 'args/kube-scheduler'));
  });
  assert.not.ok(rows.some((r) => r.id === 'cluster-agent' || r.id.startsWith('scheduler')));
  assert.ok(rows.some((r) => r.id === 'controller-manager'));
});

test('the dqlite address comes from info.yaml; without it, MicroK8s’ default 127.0.0.1:19001', async () => {
  const rows = await portsOf({ version: '1.28' }, undefined, { dqliteAddress: '10.0.0.5:19001' });
  const dqlite = byId(rows, 'dqlite');
  assert.equal([dqlite.port, dqlite.bind, dqlite.service, dqlite.component], [19001, '10.0.0.5', 'snap.microk8s.daemon-k8s-dqlite', 'k8s-dqlite']);
  assert.equal(dqlite.source, { flags: [], file: '/var/snap/microk8s/6089/var/kubernetes/backend/info.yaml', line: null, byDefault: true, text: 'Address: 10.0.0.5:19001 in info.yaml' });
  const v6 = byId(await portsOf({ version: '1.28' }, undefined, { dqliteAddress: '[fd00::5]:19002' }), 'dqlite');
  assert.equal([v6.port, v6.bind], [19002, 'fd00::5']);
  const unknown = byId(await portsOf({ version: '1.28' }, undefined, { dqliteAddress: null }), 'dqlite');
  assert.equal([unknown.port, unknown.bind], [19001, '127.0.0.1']);
  assert.match(unknown.source.text, /^no Address in info\.yaml: MicroK8s starts a node on 127\.0\.0\.1:19001/);
});

test('etcd: a plain-HTTP listen URL is open to anyone, several URLs give several rows, a disabled etcd binds nothing', async () => {
  const rows = await portsOf({ version: '1.18' }, async (dataDir) => {
    const file = path.join(dataDir, 'args/etcd');
    const text = (await fs.readFile(file, 'utf8')).replace('--listen-client-urls=https://0.0.0.0:12379', '--listen-client-urls=https://10.0.0.5:12379,http://127.0.0.1:2379');
    await fs.writeFile(file, text);
  });
  assert.equal(rows.filter((r) => r.component === 'etcd').map(summary), [
    'etcd-client 12379 10.0.0.5 etcd tls-client-cert closed external',
    'etcd-client-2 2379 127.0.0.1 etcd none open external',
    'etcd-peer 2380 127.0.0.1 etcd none open localhost',
  ]);
  const off = byId(await portsOf({ version: '1.18' }, append('etcd', '--client-cert-auth=false')), 'etcd-client');
  assert.equal([off.access.kind, off.unauthenticated], ['tls', true]);
  const disabled = byId(await portsOf({ version: '1.20' }), 'etcd-client');
  assert.equal([disabled.bind, disabled.unauthenticated], [null, false]);
  assert.is(disabled.source.text, '--listen-client-urls=https://0.0.0.0:12379 (line 3); --client-cert-auth (line 4); snap.microk8s.daemon-etcd is disabled on this node (var/lock/no-etcd): nothing listens');
});

test('the insecure port: the alias set last wins, and 1.21 refuses a non-zero port', async () => {
  const alias = byId(await portsOf({ version: '1.18' }, append('kube-apiserver', '--port=8081', '--address=127.0.0.1')), 'apiserver-insecure');
  // 1.18's --insecure-port=0 is on line 18; --port=8081 (line 30) comes after it and wins.
  assert.equal([alias.port, alias.bind, alias.source.line], [8081, '127.0.0.1', 30]);
  const refused = byId(await portsOf({ version: '1.21' }, append('kube-apiserver', '--insecure-port=8080')), 'apiserver-insecure');
  assert.equal([refused.port, refused.bind], [8080, null]);
  assert.match(refused.source.text, /kube-apiserver 1\.20 to 1\.23 accepts only --insecure-port=0 and does not start$/);
});

test('kube-proxy: a bare --healthz-bind-address takes --healthz-port; an empty one turns it off', async () => {
  const moved = byId(await portsOf({ version: '1.28' }, append('kube-proxy', '--healthz-port=10266')), 'proxy-healthz');
  assert.equal([moved.port, moved.bind], [10266, '127.0.0.1']);
  const off = byId(await portsOf({ version: '1.28' }, append('kube-proxy', '--healthz-bind-address=')), 'proxy-healthz');
  assert.equal([off.port, off.bind], [10256, null]);
  const metrics = byId(await portsOf({ version: '1.28' }, append('kube-proxy', '--metrics-bind-address=0.0.0.0:10249')), 'proxy-metrics');
  assert.equal([metrics.bind, metrics.source.line], ['0.0.0.0', 5]);
});

test('an unknown version: the inferred era decides, and the source says so', async () => {
  const rows = await portsOf({ version: '1.21', snapVersion: null });
  assert.equal(rows.map(summary), EXPECTED['1.21']);
  assert.is(
    byId(rows, 'kubelet-read-only').source.text,
    '--read-only-port absent (default 10255); --address absent (default 0.0.0.0); MicroK8s version unknown: kubelite era inferred (args/kubelite exists: kubelite runs the Kubernetes components); versions from 1.21, before 1.23',
  );
  // Without --insecure-port, a kubelite node may be 1.21–1.23 (default 0) or 1.24+ (no flag): closed either way.
  const removed = await portsOf({ version: '1.26', snapVersion: null }, async (dataDir) => {
    await fs.rm(path.join(dataDir, 'args/k8s-dqlite'));
    await fs.rm(path.join(dataDir, 'args/apiserver-proxy'));
  });
  const insecure = byId(removed, 'apiserver-insecure');
  assert.equal([insecure.bind, insecure.unauthenticated], [null, false]);
  assert.match(insecure.source.text, /^--insecure-port\/--port absent \(default 0\); --insecure-bind-address\/--address absent \(default 127\.0\.0\.1\); assumed 0: the default depends on the version; MicroK8s version unknown: kubelite era inferred .*; versions from 1\.21, before 1\.27$/);
  // A daemons-era node without a version, whose args allow 1.13 to 1.20: the insecure port's default is 8080
  // before 1.20 and 0 in 1.20, so the open one is assumed and said.
  const daemons = await portsOf({ version: '1.18', snapVersion: null }, async (dataDir) => {
    const file = path.join(dataDir, 'args/kube-apiserver');
    await fs.writeFile(file, (await fs.readFile(file, 'utf8')).replace('--insecure-port=0\n', ''));
  });
  const assumed = byId(daemons, 'apiserver-insecure');
  assert.equal([assumed.port, assumed.bind, assumed.unauthenticated], [8080, '127.0.0.1', true]);
  assert.match(assumed.source.text, /; assumed 8080: the default depends on the version; MicroK8s version unknown: daemons era inferred/);
});

/** Which row and flag text carry each baseline rule's default. */
const BASELINE_DEFAULTS: Record<string, { row: string; flag: string }> = {
  'kubelet.read-only-port': { row: 'kubelet-read-only', flag: '--read-only-port' },
  'kube-scheduler.bind-address': { row: 'scheduler', flag: '--bind-address' },
  'kube-scheduler.insecure-address': { row: 'scheduler-insecure', flag: '--address' },
  'kube-controller-manager.bind-address': { row: 'controller-manager', flag: '--bind-address' },
  'kube-controller-manager.insecure-address': { row: 'controller-manager-insecure', flag: '--address' },
  'apiserver.insecure-port': { row: 'apiserver-insecure', flag: '--insecure-port/--port' },
  'apiserver.insecure-bind-localhost': { row: 'apiserver-insecure', flag: '--insecure-bind-address/--address' },
  'etcd.client-cert-auth': { row: 'etcd-client', flag: '--client-cert-auth' },
};

test('the defaults the rows assume are the baseline profile’s, in every fixture version', async () => {
  const rules = (await loadProfile('baseline')).rules.filter((rule) => rule.id in BASELINE_DEFAULTS);
  assert.is(rules.length, Object.keys(BASELINE_DEFAULTS).length);
  let compared = 0;
  for (const version of fixtureVersions) {
    const rows = await portsOf({ version });
    const parsed = parseVersion(version)!;
    for (const rule of rules) {
      if (rule.applies?.versions && !inRange(parsed, rule.applies.versions)) continue;
      const { row: id, flag } = BASELINE_DEFAULTS[rule.id];
      const row = rows.find((r) => r.id === id);
      const wanted = typeof rule.default === 'string' ? rule.default : rule.default?.find((entry) => inRange(parsed, entry))?.value;
      if (!row || !row.source.text.includes(`${flag} absent`)) continue;
      assert.ok(row.source.text.includes(`${flag} absent (default ${wanted})`), `${version} ${rule.id}: ${row.source.text}`);
      compared += 1;
    }
  }
  assert.ok(compared >= 15, `only ${compared} defaults compared`);
});

test.run();
