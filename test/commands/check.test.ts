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
  assert.equal(doc.summary.counts, { PASS: 8, FAIL: 4, MANUAL: 0, BLOCKED: 0, 'NOT APPLICABLE': 13, WAIVED: 0, 'NOT ASSESSED': 0 });
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

test('--only selects rules; a compliant selection exits 0 and says that the selected rules pass, never that the node complies', async () => {
  const root = await node({ version: '1.28' });
  const run = runBin(['--root', root, 'check', '--only', 'kubelet.read-only-port,kubelet.anonymous-auth']);
  assert.is(run.status, 0, run.stderr);
  assert.ok(run.stdout.endsWith('\n2 rules: 2 passed, 0 failed, 0 blocked, 0 manual, 0 not applicable — the selected rules pass\nScore: critical 1/1 (100%), high 1/1 (100%)\n'), run.stdout);
  assert.not.match(run.stdout, 'complies');
  const skipped = runBin(['--root', root, 'check', '--skip', 'apiserver.authorization-mode.no-always-allow', '--skip', 'apiserver.authorization-mode.node-rbac,kube-scheduler.bind-address,kube-controller-manager.bind-address']);
  assert.is(skipped.status, 0, skipped.stdout);
  assert.match(skipped.stdout, /not applicable — the selected rules pass\n/);
  assert.not.match(skipped.stdout, 'complies');
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
  assert.match(run.stdout, /— complies with profile mine\.yaml "baseline"\nScore: low 1\/1 \(100%\)\n$/);
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

// ---- the text a person scans: severity column, folded NOT APPLICABLE, fix commands, score ----

const CHECK_1_28 = (root: string) => `Profile baseline on ${root} (MicroK8s 1.28.0)
[PASS]           high      kubelet.read-only-port [CIS 4.2.4]
                           Close the kubelet read-only port 10255
                           found: --read-only-port=0 (line 12); --read-only-port is 0
[PASS]           critical  kubelet.anonymous-auth [CIS 4.2.1]
                           Refuse anonymous requests to the kubelet
                           found: --anonymous-auth=false (line 4); --anonymous-auth is false
[PASS]           high      kubelet.client-ca-file [CIS 4.2.3]
                           Authenticate kubelet clients by certificate against MicroK8s' CA
                           found: --client-ca-file=/var/snap/microk8s/6089/certs/ca.crt (line 3); --client-ca-file is /var/snap/microk8s/6089/certs/ca.crt
[PASS]           high      apiserver.kubelet-client-certificate [CIS 1.2.4]
                           Authenticate the API server to kubelets with a client certificate
                           found: --kubelet-client-certificate=/var/snap/microk8s/6089/certs/apiserver-kubelet-client.crt (line 9); --kubelet-client-certificate is /var/snap/microk8s/6089/certs/apiserver-kubelet-client.crt
[PASS]           high      apiserver.kubelet-client-key [CIS 1.2.4]
                           Give the API server the key of its kubelet client certificate
                           found: --kubelet-client-key=/var/snap/microk8s/6089/certs/apiserver-kubelet-client.key (line 10); --kubelet-client-key is /var/snap/microk8s/6089/certs/apiserver-kubelet-client.key
[FAIL]           critical  apiserver.authorization-mode.no-always-allow [CIS 1.2.6]
                           Do not authorize every request (AlwaysAllow)
                           found: --authorization-mode=AlwaysAllow (line 3); --authorization-mode must not include AlwaysAllow
                           fix: harden --root ${root} plan --only apiserver.authorization-mode.no-always-allow
[FAIL]           critical  apiserver.authorization-mode.node-rbac [CIS 1.2.7, 1.2.8]
                           Authorize with Node and RBAC
                           found: --authorization-mode=AlwaysAllow (line 3); --authorization-mode must include Node, RBAC
                           fix: harden --root ${root} plan --only apiserver.authorization-mode.node-rbac
[PASS]           high      kube-proxy.no-userspace-mode
                           Do not run kube-proxy in userspace mode
                           found: absent; --proxy-mode excludes userspace
[FAIL]           medium    kube-scheduler.bind-address [CIS 1.4.2]
                           Serve the scheduler only on localhost
                           found: absent (default 0.0.0.0); --bind-address must be 127.0.0.1, found 0.0.0.0
                           fix: harden --root ${root} plan --only kube-scheduler.bind-address
[PASS]           low       kube-scheduler.profiling [CIS 1.4.1]
                           Turn off scheduler profiling
                           found: --profiling=false (line 4); --profiling is false
[FAIL]           medium    kube-controller-manager.bind-address [CIS 1.3.7]
                           Serve the controller manager only on localhost
                           found: absent (default 0.0.0.0); --bind-address must be 127.0.0.1, found 0.0.0.0
                           fix: harden --root ${root} plan --only kube-controller-manager.bind-address
[PASS]           low       kube-controller-manager.profiling [CIS 1.3.2]
                           Turn off controller-manager profiling
                           found: --profiling=false (line 9); --profiling is false
13 not applicable to this node (--verbose lists them)

25 rules: 8 passed, 4 failed, 0 blocked, 0 manual, 13 not applicable
Score: critical 1/3 (33%), high 5/5 (100%), medium 0/2 (0%), low 2/2 (100%)
`;

test('check text: a severity column, NOT APPLICABLE counted in one line, each FAIL followed by its plan command, a score per severity', async () => {
  const root = await node({ version: '1.28' });
  const run = runBin(['--root', root, 'check']);
  assert.is(run.status, 2, run.stderr);
  assert.is(run.stderr, '');
  assert.is(run.stdout, CHECK_1_28(root));
});

test('check --verbose lists the NOT APPLICABLE rules, with their severity and reason, instead of counting them', async () => {
  const root = await node({ version: '1.28' });
  const run = runBin(['--root', root, 'check', '--verbose']);
  assert.is(run.status, 2, run.stderr);
  assert.not.match(run.stdout, '(--verbose lists them)');
  const out = run.stdout.split('\n');
  assert.is(out.filter((line) => line.startsWith('[NOT APPLICABLE] ')).length, 13);
  const at = out.indexOf('[NOT APPLICABLE] high      kube-scheduler.insecure-address');
  assert.equal(out.slice(at, at + 3), [
    '[NOT APPLICABLE] high      kube-scheduler.insecure-address',
    "                           Keep the scheduler's old insecure port on localhost",
    '                           found: -; applies to versions before 1.24; this node runs 1.28.0',
  ]);
  // The same rules, the same summary.
  assert.ok(run.stdout.endsWith('\n25 rules: 8 passed, 4 failed, 0 blocked, 0 manual, 13 not applicable\nScore: critical 1/3 (33%), high 5/5 (100%), medium 0/2 (0%), low 2/2 (100%)\n'));
});

test('check --failed shows only FAIL and BLOCKED, says how many it leaves out, and still counts and scores every rule', async () => {
  const root = await node({ version: '1.28' });
  const run = runBin(['--root', root, 'check', '--failed']);
  assert.is(run.status, 2, run.stderr);
  const full = CHECK_1_28(root).split('\n');
  const failing = full.flatMap((line, i) => (line.startsWith('[FAIL]') ? full.slice(i, i + 4) : []));
  assert.is(run.stdout, [
    full[0],
    ...failing,
    '21 passed, manual or not applicable not shown (--failed)',
    '',
    '25 rules: 8 passed, 4 failed, 0 blocked, 0 manual, 13 not applicable',
    'Score: critical 1/3 (33%), high 5/5 (100%), medium 0/2 (0%), low 2/2 (100%)',
    '',
  ].join('\n'));
  // BLOCKED rules need work too.
  const cis = runBin(['--root', root, 'check', '--failed', '--profile', 'cis']);
  assert.is(cis.status, 2, cis.stderr);
  const shownStatuses = new Set(cis.stdout.split('\n').filter((line) => line.startsWith('[')).map((line) => line.slice(0, line.indexOf(']') + 1)));
  assert.equal([...shownStatuses].sort(), ['[BLOCKED]', '[FAIL]']);
});

test('the fix command is typed as this check was: --root (quoted when it must be), --args-dir and a profile other than the default', async () => {
  const parent = await makeTempDir();
  const root = path.join(parent, "node 'a'");
  await fs.rename(await node({ version: '1.28' }), root);
  const args = path.join(root, 'var/snap/microk8s/current/args');
  const run = runBin(['--root', root, '--args-dir', args, 'check', '--profile', 'cis', '--only', 'kube-scheduler.bind-address']);
  assert.is(run.status, 2, run.stderr);
  const quotedRoot = `"${root}"`;
  const quotedArgs = `"${args}"`;
  assert.match(run.stdout, `\n                           fix: harden --root ${quotedRoot} --args-dir ${quotedArgs} plan --profile cis --only kube-scheduler.bind-address\n`);
  // And that command, run as printed, shows the fix.
  const plan = spawnSync('sh', ['-c', `node ${path.resolve('bin/harden.cjs').replace(/ /g, '\\ ')} --root ${quotedRoot} --args-dir ${quotedArgs} plan --profile cis --only kube-scheduler.bind-address`], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  assert.is(plan.status, 0, plan.stderr);
  assert.match(plan.stdout, '+ --bind-address=127.0.0.1');
});

test('the score is the same in every output: JSON summary, JUnit properties, SARIF run properties', async () => {
  const root = await node({ version: '1.28' });
  const json = JSON.parse(runBin(['--root', root, 'check', '--json']).stdout);
  assert.equal(json.summary.score, {
    critical: { passed: 1, failed: 2, blocked: 0, score: 1 / 3 },
    high: { passed: 5, failed: 0, blocked: 0, score: 1 },
    medium: { passed: 0, failed: 2, blocked: 0, score: 0 },
    low: { passed: 2, failed: 0, blocked: 0, score: 1 },
  });
  const junit = runBin(['--root', root, 'check', '--format', 'junit']).stdout;
  assert.match(junit, `failures="4" errors="0" skipped="13">
    <properties>
      <property name="score.critical" value="1/3"/>
      <property name="score.high" value="5/5"/>
      <property name="score.medium" value="0/2"/>
      <property name="score.low" value="2/2"/>
    </properties>
    <testcase `);
  const sarif = JSON.parse(runBin(['--root', root, 'check', '--format', 'sarif']).stdout);
  assert.equal(sarif.runs[0].properties, { score: { [root]: json.summary.score } });
});

test.run();
