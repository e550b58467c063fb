import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBin, runBinAsync } from '../helpers/cli.js';
import { makeNode, makeTempDir } from '../helpers/node-root.js';

const node = makeNode;
const statuses = (doc: any) => Object.fromEntries(doc.results.map((r: any) => [r.id, r.status]));

test('baseline on 1.28 defaults: AlwaysAllow and listening scheduler/controller-manager fail; exit 2', async () => {
  const run = runBin(['--root', await node({ version: '1.28' }), 'check', '--json']);
  assert.is(run.status, 2, run.stderr);
  const doc = JSON.parse(run.stdout);
  assert.is(doc.schema, 'harden.check/v1');
  assert.equal(statuses(doc), {
    'kubelet.read-only-port': 'PASS',
    'kubelet.anonymous-auth': 'PASS',
    'kubelet.client-ca-file': 'PASS',
    'apiserver.kubelet-client-certificate': 'PASS',
    'apiserver.kubelet-client-key': 'PASS',
    'apiserver.authorization-mode.no-always-allow': 'FAIL',
    'apiserver.authorization-mode.node-rbac': 'FAIL',
    'kube-proxy.no-userspace-mode': 'PASS',
    'kube-scheduler.bind-address': 'FAIL',
    'kube-scheduler.insecure-address': 'NOT APPLICABLE',
    'kube-scheduler.profiling': 'PASS',
    'kube-controller-manager.bind-address': 'FAIL',
    'kube-controller-manager.insecure-address': 'NOT APPLICABLE',
    'kube-controller-manager.profiling': 'PASS',
    'etcd.client-cert-auth': 'NOT APPLICABLE',
    'etcd.trusted-ca-file': 'NOT APPLICABLE',
    'apiserver.insecure-port': 'NOT APPLICABLE',
    'apiserver.insecure-bind-localhost': 'NOT APPLICABLE',
    // No proc/net in a laid-out root: what listens cannot be seen.
    'apiserver.exposure': 'NOT APPLICABLE',
    'kubelet.exposure': 'NOT APPLICABLE',
    'kube-proxy.exposure': 'NOT APPLICABLE',
    'kube-scheduler.exposure': 'NOT APPLICABLE',
    'kube-controller-manager.exposure': 'NOT APPLICABLE',
    'etcd.exposure': 'NOT APPLICABLE',
    'k8s-dqlite.exposure': 'NOT APPLICABLE',
  });
  const authz = doc.results.find((r: any) => r.id === 'apiserver.authorization-mode.no-always-allow');
  assert.equal([authz.found, authz.cis, authz.file, authz.line], ['--authorization-mode=AlwaysAllow (line 3)', ['1.2.6'], '/var/snap/microk8s/current/args/kube-apiserver', 3]);
  assert.equal(doc.summary.counts, { PASS: 8, FAIL: 4, MANUAL: 0, BLOCKED: 0, 'NOT APPLICABLE': 13 });
});

test('1.21 fails the read-only port because the flag is absent (default 10255)', async () => {
  const doc = JSON.parse(runBin(['--root', await node({ version: '1.21' }), 'check', '--json']).stdout);
  const result = doc.results.find((r: any) => r.id === 'kubelet.read-only-port');
  assert.equal([result.status, result.found], ['FAIL', 'absent (default 10255)']);
  assert.is(statuses(doc)['apiserver.insecure-port'], 'PASS');
});

test('1.13: 8080 on every interface; etcd on its unix socket is not asked for client certificates', async () => {
  const doc = JSON.parse(runBin(['--root', await node({ version: '1.13' }), 'check', '--json']).stdout);
  assert.is(statuses(doc)['apiserver.insecure-bind-localhost'], 'FAIL');
  assert.is(statuses(doc)['kube-proxy.no-userspace-mode'], 'FAIL');
  assert.is(statuses(doc)['etcd.client-cert-auth'], 'NOT APPLICABLE'); // etcd is a unix socket before 1.16
  assert.is(statuses(doc)['apiserver.insecure-port'], 'NOT APPLICABLE');
});

test('an unknown version blocks version-dependent rules: check cannot decide them', async () => {
  const doc = JSON.parse(runBin(['--root', await node({ version: '1.28', snapVersion: null }), 'check', '--json']).stdout);
  const insecure = doc.results.find((r: any) => r.id === 'apiserver.insecure-port');
  assert.equal([insecure.status, insecure.reason], ['BLOCKED', 'the MicroK8s version is unknown, so this version-dependent rule cannot be decided']);
});

test('--only selects rules; a compliant selection exits 0 and says so', async () => {
  const root = await node({ version: '1.28' });
  const run = runBin(['--root', root, 'check', '--only', 'kubelet.read-only-port,kubelet.anonymous-auth']);
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stdout, '2 rules: 2 passed, 0 failed, 0 blocked, 0 manual, 0 not applicable — complies with profile baseline');
  const skipped = runBin(['--root', root, 'check', '--skip', 'apiserver.authorization-mode.no-always-allow', '--skip', 'apiserver.authorization-mode.node-rbac,kube-scheduler.bind-address,kube-controller-manager.bind-address']);
  assert.is(skipped.status, 0, skipped.stdout);
});

test('JUnit and SARIF', async () => {
  const root = await node({ version: '1.28' });
  const junit = runBin(['--root', root, 'check', '--format', 'junit']);
  assert.is(junit.status, 2);
  assert.match(junit.stdout, '<testsuite name="baseline on ');
  assert.match(junit.stdout, 'tests="25" failures="4" errors="0" skipped="13"');
  assert.match(junit.stdout, '<testcase classname="baseline.kube-apiserver" name="apiserver.authorization-mode.no-always-allow [CIS 1.2.6]"><failure message="--authorization-mode must not include AlwaysAllow">');
  const sarif = JSON.parse(runBin(['--root', root, 'check', '--format', 'sarif']).stdout);
  assert.is(sarif.version, '2.1.0');
  assert.equal(sarif.runs[0].results.map((r: any) => r.ruleId), ['apiserver.authorization-mode.no-always-allow', 'apiserver.authorization-mode.node-rbac', 'kube-scheduler.bind-address', 'kube-controller-manager.bind-address']);
  assert.equal(sarif.runs[0].results[0].locations[0].physicalLocation, { artifactLocation: { uri: '/var/snap/microk8s/current/args/kube-apiserver' }, region: { startLine: 3 } });
});

test('a commented-out or earlier duplicate flag does not count', async () => {
  const root = await node({ version: '1.28' });
  const file = path.join(root, 'var/snap/microk8s/6089/args/kube-apiserver');
  const text = await fs.readFile(file, 'utf8');
  await fs.writeFile(file, `# --authorization-mode=Node,RBAC\n--authorization-mode=Node,RBAC\n${text}`);
  const doc = JSON.parse(runBin(['--root', root, 'check', '--json']).stdout);
  assert.is(statuses(doc)['apiserver.authorization-mode.node-rbac'], 'PASS');
  assert.is(statuses(doc)['apiserver.authorization-mode.no-always-allow'], 'FAIL', 'the later AlwaysAllow accumulates: the list flag holds both');
});

test('errors: unknown rule id, invalid profile file (all problems), unknown profile', async () => {
  const root = await node({ version: '1.28' });
  const unknown = runBin(['--root', root, 'check', '--only', 'kubelet.nope']);
  assert.is(unknown.status, 1);
  assert.is(unknown.stdout, '');
  assert.is(unknown.stderr, 'error: unknown rule id "kubelet.nope" in --only/--skip (profile baseline)\nhint: harden profiles show baseline lists the rule ids\n');
  const bad = path.join(root, 'bad.yaml');
  await fs.writeFile(bad, 'apiVersion: harden/v1\nkind: Profile\nname: bad\ntitle: Bad\nrules:\n  - id: a.b\n    title: T\n    rationale: R\n    severity: huge\n    component: kubelet\n    operation: set-flag\n    flag: --x\n    value: $(id)\n');
  const invalid = runBin(['--root', root, 'check', '--profile', bad]);
  assert.is(invalid.status, 1);
  assert.is(invalid.stderr, `error: ${bad}:9: rule a.b: severity: must be one of "low", "medium", "high", "critical"\nerror: ${bad}:13: rule a.b: value: it holds "$" outside \${SNAP}, \${SNAP_DATA}, \${SNAP_COMMON} at character 1; a value may hold only ASCII letters, digits and ! # % * + , - . / : = ? @ [ ] ^ _ ~, and $ only in \${SNAP}, \${SNAP_DATA} or \${SNAP_COMMON}\nhint: fix the profile; profiles/schema.json describes the format\n`);
  const missing = runBin(['--root', root, 'check', '--profile', 'strictest']);
  assert.is(missing.status, 1);
  assert.match(missing.stderr, 'error: unknown profile "strictest"\nhint: shipped profiles: baseline');
});

test('profiles list, show, validate', async () => {
  assert.match(runBin(['profiles', 'list']).stdout, /^baseline\s+25 rules\s+Close the ports/m);
  const show = runBin(['profiles', 'show', 'baseline']);
  assert.is(show.status, 0);
  assert.match(show.stdout, /kubelet\.read-only-port\s+high\s+kubelet\s+CIS 4\.2\.4/);
  // Where it comes from and its whole digest, which plan headers abbreviate.
  assert.match(show.stdout, /^baseline: Close the ports and doors MicroK8s' documentation lists as open \(shipped, sha256:[0-9a-f]{64}\)\n/);
  const root = await makeTempDir();
  const mine = path.join(root, 'mine.yaml');
  await fs.writeFile(mine, 'apiVersion: harden/v1\nkind: Profile\nname: mine\ntitle: Mine\nextends: baseline\nrules:\n  - id: kubelet.read-only-port\n    title: Close 10255\n    rationale: R\n    severity: low\n    component: kubelet\n    operation: set-flag\n    flag: --read-only-port\n    value: "0"\n');
  const valid = runBin(['profiles', 'validate', mine]);
  assert.is(valid.status, 0, valid.stderr);
  assert.is(valid.stdout, `${mine}: valid (profile mine, 25 rules)\n`);
  assert.match(runBin(['profiles', 'show', mine]).stdout, new RegExp(`^mine: Mine \\(file ${mine.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, sha256:[0-9a-f]{64}\\)\n`));
  assert.is(runBin(['profiles', 'validate']).status, 1);
});



test('a profile file that calls itself baseline is named by its file in the check report, never as the shipped one', async () => {
  const dir = await makeTempDir();
  const fake = path.join(dir, 'mine.yaml');
  await fs.writeFile(fake, 'apiVersion: harden/v1\nkind: Profile\nname: baseline\ntitle: Not the shipped one\nrules:\n  - id: kubelet.read-only-port\n    title: Close 10255\n    rationale: R\n    severity: low\n    component: kubelet\n    operation: set-flag\n    flag: --read-only-port\n    value: "0"\n');
  const run = runBin(['--root', await node({ version: '1.28' }), 'check', '--profile', fake]);
  assert.is(run.status, 0, run.stderr);
  assert.is(run.stdout.split('\n')[0], 'Profile mine.yaml "baseline" on ' + run.stdout.split('\n')[0].split(' on ')[1]);
  assert.match(run.stdout, /— complies with profile mine\.yaml "baseline"\n$/);
});

test('every command takes --no-color, as the conventions say (snapshots, rollback and profiles took it for a command)', async () => {
  const root = await node({ version: '1.28' });
  const onRoot = (...argv: string[]) => ['--root', root, ...argv];
  for (const argv of [onRoot('inspect'), onRoot('check'), onRoot('plan'), onRoot('ports'), ['profiles', 'list'], onRoot('snapshots', 'list'), onRoot('rollback', '--yes')]) {
    const run = runBin([...argv, '--no-color']);
    assert.not.match(run.stderr, /unknown (command|option)/, `${argv.join(' ')}: ${run.stderr}`);
    assert.ok([0, 2].includes(run.status ?? -1) || /no apply to roll back/.test(run.stderr), `${argv.join(' ')}: exit ${run.status}: ${run.stderr}`);
  }
});

test('after apply --no-restart, check and plan warn that the running services do not use the files yet', async () => {
  const root = await node({ version: '1.28' });
  const applied = runBin(['--root', root, 'apply', '--yes', '--no-restart']);
  assert.is(applied.status, 0, applied.stderr);
  const id = /^Snapshot (\S+) in /m.exec(applied.stdout)![1];
  const warning = `warning: the running services do not use these files yet: ${id} was applied with --no-restart; run snap restart microk8s.daemon-kubelite\n`;
  const check = runBin(['--root', root, 'check']);
  assert.is(check.status, 0);
  assert.is(check.stderr, warning);
  assert.is(runBin(['--root', root, 'plan']).stderr, warning);
});
// Where a component's flags should be there is a FIFO, a device or a socket: its rules are blocked, naming
// the file, and check exits 2; it never says "does not exist", "not applicable" or "complies".
const KUBERNETES_ARGS = ['kube-apiserver', 'kubelet', 'kube-proxy', 'kube-scheduler', 'kube-controller-manager'];
const KUBERNETES_RULES = [
  'kubelet.read-only-port', 'kubelet.anonymous-auth', 'kubelet.client-ca-file', 'apiserver.kubelet-client-certificate', 'apiserver.kubelet-client-key',
  'apiserver.authorization-mode.no-always-allow', 'apiserver.authorization-mode.node-rbac', 'kube-proxy.no-userspace-mode', 'kube-scheduler.bind-address',
  'kube-scheduler.profiling', 'kube-controller-manager.bind-address', 'kube-controller-manager.profiling',
];

for (const [kind, make] of [
  ['a FIFO', (file: string) => spawnSync('mkfifo', [file])],
  ['a character device', (file: string) => spawnSync('mknod', [file, 'c', '1', '5'])],
] as const) {
  test(`${kind} for each of the five Kubernetes args files: their rules are blocked, exit 2`, async () => {
    const root = await node({ version: '1.28' });
    const args = path.join(root, 'var/snap/microk8s/current/args');
    for (const name of KUBERNETES_ARGS) {
      await fs.rm(path.join(args, name));
      assert.is(make(path.join(args, name)).status, 0);
    }
    const run = runBin(['--root', root, 'check', '--json']);
    assert.is(run.status, 2, run.stderr);
    const doc = JSON.parse(run.stdout);
    assert.is(doc.summary.compliant, false);
    for (const id of KUBERNETES_RULES) {
      const result = doc.results.find((r: any) => r.id === id);
      const file = `/var/snap/microk8s/current/args/${result.component}`;
      assert.equal([result.status, result.file, result.reason], ['BLOCKED', file, `${file} is ${kind}, not an args file: harden does not open it, and ${result.component} cannot read flags from it`], id);
    }
    // The datastore is told from args/kube-apiserver: the rules that depend on it are blocked too.
    assert.is(statuses(doc)['etcd.trusted-ca-file'], 'BLOCKED');
    assert.ok(!doc.results.some((r: any) => r.reason.includes('does not exist')));
    // And each file fails a check of its own (file.NAME.reader): a flags file that cannot be read is a failure.
    for (const name of KUBERNETES_ARGS) {
      const file = `/var/snap/microk8s/current/args/${name}`;
      const result = doc.results.find((r: any) => r.id === `file.${name}.reader`);
      assert.equal([result.status, result.severity, result.file, result.line, result.found], ['FAIL', 'high', file, null, 'not-a-file'], name);
      assert.is(result.reason, `not-a-file: ${file} is ${kind}, not an args file: harden does not open it, and ${name} cannot read flags from it; replace ${file} with a regular file, harden does not edit it`);
    }
    const inspect = JSON.parse(runBin(['--root', root, 'inspect', '--json']).stdout);
    const proxy = inspect.files.find((f: any) => f.name === 'kube-proxy');
    assert.equal(proxy.findings, [{ code: 'not-a-file', severity: 'error', line: 0, message: `/var/snap/microk8s/current/args/kube-proxy is ${kind}, not an args file: harden does not open it, and kube-proxy cannot read flags from it` }]);
  });
}

test('a socket for the kubelet args file: its rules are blocked; a FIFO that is no flags file is only listed', async () => {
  const root = await node({ version: '1.28' });
  const args = path.join(root, 'var/snap/microk8s/current/args');
  await fs.rm(path.join(args, 'kubelet'));
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(path.join(args, 'kubelet'), resolve));
  assert.is(spawnSync('mkfifo', [path.join(args, 'notes')]).status, 0);
  try {
    const run = await runBinAsync(['--root', root, 'check', '--json', '--only', 'kubelet.read-only-port,kube-proxy.no-userspace-mode']);
    assert.is(run.status, 2, run.stderr);
    // The socket fails its own check too: a flags file that cannot be read never leaves the verdict.
    assert.equal(statuses(JSON.parse(run.stdout)), { 'kubelet.read-only-port': 'BLOCKED', 'kube-proxy.no-userspace-mode': 'PASS', 'file.kubelet.reader': 'FAIL' });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

test.run();
