import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBin } from '../helpers/cli.js';
import { DEFAULT_REVISIONS, layOutNode, makeNode, makeTempDir } from '../helpers/node-root.js';
import { fixtureVersions, type FixtureVersion } from '../helpers/paths.js';

const node = makeNode;

function inspectJson(root: string): any {
  const run = runBin(['--root', root, 'inspect', '--json']);
  assert.is(run.status, 0, run.stderr);
  assert.is(run.stderr, '');
  return JSON.parse(run.stdout);
}

const fileOf = (report: any, name: string) => report.files.find((f: any) => f.name === name);

const EXPECTED: Record<FixtureVersion, { era: string; datastore: string }> = {
  '1.13': { era: 'daemons', datastore: 'etcd' },
  '1.18': { era: 'daemons', datastore: 'etcd' },
  '1.20': { era: 'daemons', datastore: 'dqlite' },
  '1.21': { era: 'kubelite', datastore: 'dqlite' },
  '1.26': { era: 'kubelite', datastore: 'k8s-dqlite' },
  '1.28': { era: 'kubelite', datastore: 'k8s-dqlite' },
  '1.36': { era: 'kubelite', datastore: 'k8s-dqlite' },
};

for (const version of fixtureVersions) {
  test(`inspect --json on a ${version} node: version, era, role, datastore, revision, file-to-service map`, async () => {
    const report = inspectJson(await node({ version }));
    assert.is(report.schema, 'harden.inspect/v1');
    assert.is(report.version, `${version}.0`);
    assert.is(report.versionSource, 'snap.yaml');
    assert.is(report.confinement, 'classic');
    assert.is(report.revision, DEFAULT_REVISIONS[version]);
    assert.is(report.snapRevision, DEFAULT_REVISIONS[version]);
    assert.is(report.era, EXPECTED[version].era);
    assert.is(report.role, 'control-plane');
    assert.is(report.datastore.kind, EXPECTED[version].datastore);
    assert.is(report.peers.clustered, false);
    assert.is(report.argsDir, '/var/snap/microk8s/current/args');

    const kubelite = EXPECTED[version].era === 'kubelite';
    const daemons: Record<string, string> = { 'kube-apiserver': 'apiserver', 'kube-controller-manager': 'controller-manager', 'kube-scheduler': 'scheduler', kubelet: 'kubelet', 'kube-proxy': 'proxy' };
    for (const [name, daemon] of Object.entries(daemons)) {
      const file = fileOf(report, name);
      assert.is(file.kind, 'flags', name);
      assert.is(file.component, name);
      assert.is(file.service, `snap.microk8s.daemon-${kubelite ? 'kubelite' : daemon}`, name);
      assert.is(file.reader, kubelite ? 'kubelite' : 'bash', name);
      assert.is(file.path, `/var/snap/microk8s/current/args/${name}`);
      assert.is(file.mode, '0660');
    }
    assert.is(fileOf(report, 'containerd').service, 'snap.microk8s.daemon-containerd');
    assert.is(fileOf(report, 'containerd').reader, 'bash');
    assert.is(fileOf(report, 'containerd-env').kind, 'env');
    assert.is(fileOf(report, 'containerd-env').reader, 'source');
    assert.is(fileOf(report, 'containerd-template.toml').kind, 'toml');
    assert.is(fileOf(report, 'etcd').service, 'snap.microk8s.daemon-etcd');
    if (kubelite) {
      assert.is(fileOf(report, 'kubelite').reader, 'bash');
      assert.is(fileOf(report, 'kubelite').service, 'snap.microk8s.daemon-kubelite');
      assert.is(fileOf(report, 'kubelite').flags['--start-control-plane'], 'true');
    }
    if (version === '1.13') {
      assert.is(fileOf(report, 'dockerd').service, 'snap.microk8s.daemon-docker');
      assert.is(fileOf(report, 'dockerd').flags['-H'], 'unix:///var/snap/microk8s/581/docker.sock');
      assert.is(fileOf(report, 'docker-daemon.json').kind, 'json');
    }
    if (EXPECTED[version].datastore === 'k8s-dqlite') {
      assert.is(fileOf(report, 'k8s-dqlite').service, 'snap.microk8s.daemon-k8s-dqlite');
      assert.is(fileOf(report, 'k8s-dqlite-env').kind, 'env');
    }
    if (fileOf(report, 'ha-conf')) assert.is(fileOf(report, 'ha-conf').kind, 'config');
    if (fileOf(report, 'cni-network')) assert.is(fileOf(report, 'cni-network').kind, 'directory');
  });
}

test('1.18 reports the duplicated --token-auth-file of its shipped defaults', async () => {
  const report = inspectJson(await node({ version: '1.18' }));
  const findings = fileOf(report, 'kube-apiserver').findings;
  assert.equal(findings.map((f: any) => [f.code, f.severity]), [['repeated-flag', 'warning']]);
  assert.match(findings[0].message, '--token-auth-file is set again on line');
});

test('a byte-order mark is kept, as bash and kubelite keep it: the first word becomes a stray argument', async () => {
  const root = await node({ version: '1.28' });
  const file = path.join(root, 'var/snap/microk8s/current/args/kube-scheduler');
  await fs.writeFile(file, `\ufeff${await fs.readFile(file, 'utf8')}`);
  const doc = inspectJson(root);
  const scheduler = doc.files.find((f: any) => f.name === 'kube-scheduler');
  assert.ok(scheduler.argv[0].startsWith('\ufeff--kubeconfig='), scheduler.argv[0]);
  assert.ok(scheduler.findings.some((f: any) => f.code === 'stray-argument' && f.line === 1), JSON.stringify(scheduler.findings));
});

test('1.28 etcd: ${DEFAULT_INTERFACE_IP_ADDR} is reported unknown and kept as written', async () => {
  const report = inspectJson(await node({ version: '1.28' }));
  const etcd = fileOf(report, 'etcd');
  assert.is(etcd.flags['--advertise-client-urls'], 'https://${DEFAULT_INTERFACE_IP_ADDR}:12379');
  assert.is(etcd.flags['--data-dir'], '/var/snap/microk8s/common/var/run/etcd');
  assert.is(etcd.serviceEnabled, false);
  assert.equal(etcd.findings.map((f: any) => [f.code, f.line]), [['unknown-variable', 2]]);
});

test('an unseen version between fixtures: 1.24 laid out like 1.26', async () => {
  const report = inspectJson(await node({ version: '1.26', snapVersion: 'v1.24.17', revision: '4055' }));
  assert.is(report.version, '1.24.17');
  assert.is(report.era, 'kubelite');
  assert.is(report.revision, '4055');
  assert.is(fileOf(report, 'kube-apiserver').flags['--cert-dir'], '/var/snap/microk8s/4055/certs');
});

test('an unseen version before kubelite: 1.19 laid out like 1.20', async () => {
  const report = inspectJson(await node({ version: '1.20', snapVersion: "'v1.19.16'" }));
  assert.is(report.version, '1.19.16');
  assert.is(report.era, 'daemons');
  assert.is(report.datastore.kind, 'dqlite');
  assert.is(fileOf(report, 'kubelet').service, 'snap.microk8s.daemon-kubelet');
});

test('no snap.yaml: the version is inferred from the args files, and said so', async () => {
  const cases: Array<[FixtureVersion, string | null, string | null, string]> = [
    ['1.13', null, '1.13', 'daemons'],
    ['1.21', '1.21', '1.22', 'kubelite'],
    ['1.28', '1.27', null, 'kubelite'],
  ];
  for (const [version, min, max, era] of cases) {
    const report = inspectJson(await node({ version, snapVersion: null }));
    assert.is(report.version, null, version);
    assert.is(report.versionSource, 'inferred');
    assert.is(report.inferred.min, min, version);
    assert.is(report.inferred.max, max, version);
    assert.is(report.era, era, version);
    assert.equal(report.findings.map((f: any) => f.code), ['version-unknown'], version);
  }
});

test('a worker node: --start-control-plane=false and clustered.lock', async () => {
  const report = inspectJson(await node({ version: '1.28', worker: true }));
  assert.is(report.role, 'worker');
  assert.match(report.roleEvidence, '--start-control-plane=false in args/kubelite (line 7)');
  assert.is(report.datastore.kind, 'none');
});

test('peers from callback tokens (secrets never shown) and dqlite members', async () => {
  const report = inspectJson(await node({ version: '1.28', callbackPeers: ['10.0.0.2:25000', '10.0.0.3:25000'], members: ['10.0.0.1:19001', '10.0.0.2:19001', '10.0.0.3:19001'] }));
  assert.equal(report.peers, {
    callbackTokens: ['10.0.0.2:25000', '10.0.0.3:25000'],
    members: ['10.0.0.1:19001', '10.0.0.2:19001', '10.0.0.3:19001'],
    self: '10.0.0.1:19001',
    clustered: true,
  });
  const run = runBin(['--root', await node({ version: '1.28', callbackPeers: ['10.0.0.2:25000'] }), 'inspect']);
  assert.not.match(run.stdout, 'callback-token-');
  assert.match(run.stdout, /peers\s+1 \(10\.0\.0\.2:25000\)/);
});

test('an absolute current link and a symlinked args file inside the args dir', async () => {
  const root = await makeTempDir();
  await layOutNode(root, { version: '1.28' });
  await fs.unlink(path.join(root, 'var/snap/microk8s/current'));
  await fs.symlink('/var/snap/microk8s/6089', path.join(root, 'var/snap/microk8s/current'));
  const args = path.join(root, 'var/snap/microk8s/6089/args');
  await fs.rename(path.join(args, 'kubelet'), path.join(args, 'kubelet.real'));
  await fs.symlink('kubelet.real', path.join(args, 'kubelet'));
  const report = inspectJson(root);
  assert.is(report.revision, '6089');
  const kubelet = fileOf(report, 'kubelet');
  assert.is(kubelet.symlinkTarget, 'kubelet.real');
  assert.is(kubelet.flags['--read-only-port'], '0');
});

test('text output names node paths, never the root prefix', async () => {
  const root = await node({ version: '1.28' });
  const run = runBin(['--root', root, 'inspect']);
  assert.is(run.status, 0);
  const [first, ...rest] = run.stdout.split('\n');
  assert.is(first, `MicroK8s node at ${root}`);
  assert.not.match(rest.join('\n'), root);
  assert.match(run.stdout, 'Args files in /var/snap/microk8s/current/args');
  assert.match(run.stdout, /kube-apiserver\s+flags\s+kubelite\s+snap\.microk8s\.daemon-kubelite\s+0660/);
  assert.not.match(run.stdout, '\u001b[', 'no colour without a terminal');
});

test('--color and FORCE_COLOR colour the text; NO_COLOR and --no-color win', async () => {
  const root = await node({ version: '1.28' });
  assert.match(runBin(['--root', root, 'inspect', '--color']).stdout, '\u001b[1m');
  assert.match(runBin(['--root', root, 'inspect'], { FORCE_COLOR: '1' }).stdout, '\u001b[1m');
  assert.not.match(runBin(['--root', root, 'inspect', '--color'], { NO_COLOR: '1' }).stdout, '\u001b[');
  assert.not.match(runBin(['--root', root, 'inspect', '--no-color'], { FORCE_COLOR: '1' }).stdout, '\u001b[');
});

test('several roots: one JSON document keyed by root; one bad root makes the exit code 1', async () => {
  const a = await node({ version: '1.21' });
  const b = await node({ version: '1.13' });
  const good = runBin(['--root', a, '--root', b, 'inspect', '--json']);
  assert.is(good.status, 0);
  const both = JSON.parse(good.stdout);
  assert.equal(Object.keys(both), [a, b]);
  assert.is(both[a].era, 'kubelite');
  assert.is(both[b].era, 'daemons');

  const missing = path.join(a, 'no-such-node');
  const bad = runBin(['--root', a, '--root', missing, 'inspect', '--json']);
  assert.is(bad.status, 1);
  const mixed = JSON.parse(bad.stdout);
  assert.is(mixed[a].version, '1.21.0');
  assert.equal(mixed[missing].error.exitCode, 1);
  assert.match(mixed[missing].error.message, 'is not a directory');
  assert.is(bad.stderr, `error: ${missing}: node root ${missing} is not a directory\n`);
});

test.run();
