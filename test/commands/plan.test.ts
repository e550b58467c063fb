import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadProfile, profileIdentity } from '../../src/effects/profile-store.js';
import { profileLabel } from '../../src/ui/plan-view.js';
import { runBin } from '../helpers/cli.js';
import { makeNode, makeTempDir } from '../helpers/node-root.js';
import { repoRoot } from '../helpers/paths.js';

/** How plans name the shipped baseline: by name, as shipped, with its digest. */
const BASELINE = await loadProfile('baseline').then(profileIdentity);
const BASELINE_LABEL = profileLabel(BASELINE);

const EXAMPLE = 'examples/node-1.28';

/** A small profile file in a fresh directory. */
async function writeProfile(name: string, rules: string): Promise<string> {
  const file = path.join(await makeTempDir(), `${name}.yaml`);
  await fs.writeFile(file, `apiVersion: harden/v1\nkind: Profile\nname: ${name}\ntitle: A test profile\n${rules}`);
  return file;
}

const rule = (id: string, component: string, operation: string, flag: string, value?: string) =>
  `  - id: ${id}\n    title: T\n    rationale: R\n    severity: low\n    component: ${component}\n    operation: ${operation}\n    flag: ${flag}\n${value === undefined ? '' : `    value: "${value}"\n`}`;

/** Every entry under a directory with its type, mode and content (or link target), to prove nothing changed. */
async function snapshotTree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string) => {
    for (const name of (await fs.readdir(dir)).sort()) {
      const file = path.join(dir, name);
      const stat = await fs.lstat(file);
      const key = path.relative(root, file);
      if (stat.isSymbolicLink()) out[key] = `link ${await fs.readlink(file)}`;
      else if (stat.isDirectory()) {
        out[key] = `dir ${stat.mode.toString(8)}`;
        await walk(file);
      } else out[key] = `file ${stat.mode.toString(8)} ${stat.uid}:${stat.gid} ${createHash('sha256').update(await fs.readFile(file)).digest('hex')}`;
    }
  };
  await walk(root);
  return out;
}

const BASELINE_1_28 = `Plan for ${BASELINE_LABEL} on examples/node-1.28 (MicroK8s 1.28.15)

Symbols: + add, ~ change, - remove

~ /var/snap/microk8s/current/args/kube-apiserver (snap.microk8s.daemon-kubelite)
    @@ -1,6 +1,6 @@
      --cert-dir=\${SNAP_DATA}/certs
      --service-cluster-ip-range=10.152.183.0/24
    - --authorization-mode=AlwaysAllow
    + --authorization-mode=Node,RBAC
    # apiserver.authorization-mode.no-always-allow: --authorization-mode must not include AlwaysAllow
    # apiserver.authorization-mode.node-rbac: --authorization-mode must include Node, RBAC
      --service-account-key-file=\${SNAP_DATA}/certs/serviceaccount.key
      --client-ca-file=\${SNAP_DATA}/certs/ca.crt
      --tls-cert-file=\${SNAP_DATA}/certs/server.crt

~ /var/snap/microk8s/current/args/kube-scheduler (snap.microk8s.daemon-kubelite)
    @@ -2,3 +2,4 @@
      --leader-elect-lease-duration=60s
      --leader-elect-renew-deadline=30s
      --profiling=false
    + --bind-address=127.0.0.1
    # kube-scheduler.bind-address: --bind-address must be 127.0.0.1, found 0.0.0.0

~ /var/snap/microk8s/current/args/kube-controller-manager (snap.microk8s.daemon-kubelite)
    @@ -7,3 +7,4 @@
      --leader-elect-lease-duration=60s
      --leader-elect-renew-deadline=30s
      --profiling=false
    + --bind-address=127.0.0.1
    # kube-controller-manager.bind-address: --bind-address must be 127.0.0.1, found 0.0.0.0

Risks:
  apiserver.authorization-mode.no-always-allow: Users and addons without Roles or RoleBindings lose access; \`microk8s enable rbac\` is MicroK8s' own way to do this on every node of a cluster.
  apiserver.authorization-mode.node-rbac: On a cluster, --authorization-mode must be the same on every control-plane node; harden changes only this one.
  apiserver.authorization-mode.node-rbac: Workloads and users need Roles and RoleBindings before the change.
  kube-scheduler.bind-address: Off-host scraping of :10259 stops working.
  kube-controller-manager.bind-address: Off-host scraping of :10257 stops working.

Warnings:
  ! kubelite rewrites its args files at every start: it deletes flags Kubernetes removed (unless var/lock/no-arg-sanitisation exists) and adds --resolv-conf and a few host-specific kubelet flags
  ! the configure hook (every snap refresh and \`snap set microk8s\`) patches some flags in place; \`microk8s join\` overwrites args/kubelet with the control plane's, so harden the joined node again after a join

Plan: 2 to add, 1 to change, 0 to remove in 3 files; restarts: snap.microk8s.daemon-kubelite.
`;

test('baseline on the 1.28 example node: the diffs, why each line changes, risks, warnings, the summary; exit 0', () => {
  const run = runBin(['--root', EXAMPLE, 'plan']);
  assert.is(run.stderr, '');
  assert.is(run.status, 0);
  assert.fixture(run.stdout, BASELINE_1_28);
});

test('--json: one harden.plan/v3 document with the edits, counts, restarts, reasons and input digests', () => {
  const run = runBin(['--root', EXAMPLE, 'plan', '--json']);
  assert.is(run.status, 0, run.stderr);
  const doc = JSON.parse(run.stdout);
  assert.is(doc.schema, 'harden.plan/v3');
  assert.equal(doc.profile, { name: 'baseline', source: 'shipped', file: null, sha256: BASELINE.sha256 });
  assert.match(doc.profile.sha256, /^sha256:[0-9a-f]{64}$/);
  assert.is(doc.root, EXAMPLE);
  assert.match(doc.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.is(typeof doc.toolVersion, 'string');
  assert.equal(doc.summary, { add: 2, change: 1, remove: 0, files: 3, compliantAfter: true, compliantNow: false });
  assert.equal(doc.files.map((f: any) => f.name), ['kube-apiserver', 'kube-scheduler', 'kube-controller-manager']);
  assert.equal(doc.files[0].edits, [{
    ruleIds: ['apiserver.authorization-mode.no-always-allow', 'apiserver.authorization-mode.node-rbac'],
    flag: '--authorization-mode',
    action: 'change',
    line: 3,
    newLine: 3,
    before: '--authorization-mode=AlwaysAllow',
    after: '--authorization-mode=Node,RBAC',
    note: null,
  }]);
  assert.equal(doc.restarts, ['snap.microk8s.daemon-kubelite']);
  assert.equal(doc.problems, []);
  assert.is(doc.reasons['kube-scheduler.bind-address'], '--bind-address must be 127.0.0.1, found 0.0.0.0');
  assert.match(doc.inputs['/var/snap/microk8s/current/args/kubelet'], /^sha256:[0-9a-f]{64}$/);
  assert.not.ok('/var/snap/microk8s/current/args/certs.d' in doc.inputs, 'a directory is not an input');
});

test('a profile file that calls itself baseline is shown as that file, with its path and digest, never as the shipped baseline', async () => {
  const root = await makeNode({ version: '1.28' });
  const file = await writeProfile('baseline', `rules:\n${rule('kubelet.anonymous-auth-on', 'kubelet', 'set-flag', '--anonymous-auth', 'true')}`);
  const run = runBin(['--root', root, 'plan', '--profile', file]);
  assert.is(run.status, 0, run.stderr);
  const doc = JSON.parse(runBin(['--root', root, 'plan', '--profile', file, '--json']).stdout);
  assert.equal(Object.keys(doc.profile), ['name', 'source', 'file', 'sha256']);
  assert.equal([doc.profile.name, doc.profile.source, doc.profile.file], ['baseline', 'file', file]);
  assert.match(doc.profile.sha256, /^sha256:[0-9a-f]{64}$/);
  assert.is.not(doc.profile.sha256, BASELINE.sha256);
  const header = run.stdout.split('\n')[0];
  assert.is(header, `Plan for profile baseline.yaml "baseline" (file ${file}, sha256 ${doc.profile.sha256.slice(7, 23)}…) on ${root} (MicroK8s 1.28.0)`);
  assert.not.match(run.stdout, 'profile baseline (');
  // Given by a relative path, it is still a file, recorded by its absolute path.
  const relative = path.relative(repoRoot, file);
  const again = JSON.parse(runBin(['--root', root, 'plan', '--profile', relative, '--json']).stdout);
  assert.equal(again.profile, doc.profile);
});

test('--detailed-exitcode: 2 with changes; once the plan is carried out, "No changes." complies and exits 0', async () => {
  const root = await makeNode({ version: '1.28' });
  const first = runBin(['--root', root, 'plan', '--detailed-exitcode', '--json']);
  assert.is(first.status, 2, first.stderr);
  for (const file of JSON.parse(first.stdout).files) await fs.writeFile(path.join(root, file.path), file.after);
  const again = runBin(['--root', root, 'plan', '--detailed-exitcode']);
  assert.is(again.status, 0, again.stderr);
  assert.is(again.stdout, `Plan for ${BASELINE_LABEL} on ${root} (MicroK8s 1.28.0)\n\nNo changes. The node complies with profile baseline.\n`);
  assert.is(runBin(['--root', root, 'check']).status, 0, 'check agrees');
});

test('"No changes." with --only or --skip says that the selected rules pass, never that the node complies with the profile', async () => {
  const root = await makeNode({ version: '1.28' });
  const only = runBin(['--root', root, 'plan', '--only', 'kubelet.read-only-port']);
  assert.is(only.status, 0, only.stderr);
  assert.is(only.stdout, `Plan for ${BASELINE_LABEL} on ${root} (MicroK8s 1.28.0)\n\nNo changes. The selected rules pass.\n`);
  const skip = runBin(['--root', root, 'plan', '--skip', 'apiserver.authorization-mode.no-always-allow,apiserver.authorization-mode.node-rbac,kube-scheduler.bind-address,kube-controller-manager.bind-address']);
  assert.is(skip.status, 0, skip.stderr);
  assert.is(skip.stdout, `Plan for ${BASELINE_LABEL} on ${root} (MicroK8s 1.28.0)\n\nNo changes. The selected rules pass.\n`);
});

test('apply says the same: "No changes." with --only says that the selected rules pass, and without, that the node complies', async () => {
  const root = await makeNode({ version: '1.28' });
  const only = runBin(['--root', root, 'apply', '--yes', '--only', 'kubelet.read-only-port']);
  assert.is(only.status, 0, only.stderr);
  assert.is(only.stdout, `Plan for ${BASELINE_LABEL} on ${root} (MicroK8s 1.28.0)\n\nNo changes. The selected rules pass.\n`);
  const plan = runBin(['--root', root, 'plan', '--json']);
  for (const file of JSON.parse(plan.stdout).files) await fs.writeFile(path.join(root, file.path), file.after);
  const all = runBin(['--root', root, 'apply', '--yes']);
  assert.is(all.status, 0, all.stderr);
  assert.is(all.stdout, `Plan for ${BASELINE_LABEL} on ${root} (MicroK8s 1.28.0)\n\nNo changes. The node complies with profile baseline.\n`);
});

test('"No changes." with only a blocked rule left names it and never says the node complies', async () => {
  const root = await makeNode({ version: '1.28' });
  const run = runBin(['--root', root, 'plan', '--profile', 'cis', '--only', 'kubelet.protect-kernel-defaults', '--detailed-exitcode']);
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stdout, '\nBlocked (harden will not change these until what they need is in place):\n  kubelet.protect-kernel-defaults: --protect-kernel-defaults must be true, found false; blocked: needs rule kubelet.kernel-parameters, which is not selected (the kubelet exits at start when one of them differs, and a value not persisted is lost at the next reboot)\n');
  assert.ok(run.stdout.endsWith('\n\nNo changes. Still in the way: 1 rule blocked, 0 manual.\n'), run.stdout);
  assert.not.match(run.stdout, 'complies');
  assert.not.match(run.stdout, 'Symbols:');
});

test('1.18: both --token-auth-file lines are removed when a rule drops the flag and nothing blocks it', async () => {
  const root = await makeNode({ version: '1.18' });
  const profile = await writeProfile('no-tokens', `rules:\n${rule('apiserver.no-token-auth-file', 'kube-apiserver', 'remove-flag', '--token-auth-file')}`);
  const run = runBin(['--root', root, 'plan', '--profile', profile]);
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stdout, `~ /var/snap/microk8s/current/args/kube-apiserver (snap.microk8s.daemon-apiserver)
    @@ -9,8 +9,6 @@
      --kubelet-client-certificate=\${SNAP_DATA}/certs/server.crt
      --kubelet-client-key=\${SNAP_DATA}/certs/server.key
      --secure-port=16443
    - --token-auth-file=\${SNAP_DATA}/credentials/known_tokens.csv
    # apiserver.no-token-auth-file: --token-auth-file must not be set
    - --token-auth-file=\${SNAP_DATA}/credentials/known_tokens.csv
    # apiserver.no-token-auth-file: --token-auth-file must not be set
      --etcd-servers='https://127.0.0.1:12379'
`);
  assert.match(run.stdout, '\nPlan: 0 to add, 0 to change, 2 to remove in 1 file; restarts: snap.microk8s.daemon-apiserver.\n');
  const doc = JSON.parse(runBin(['--root', root, 'plan', '--profile', profile, '--json']).stdout);
  assert.equal(doc.files[0].edits.map((e: any) => [e.action, e.line, e.newLine]), [['remove', 12, null], ['remove', 13, null]]);
});

test('1.18: setting a duplicated flag keeps the last line and says why the earlier one goes', async () => {
  const root = await makeNode({ version: '1.18' });
  const profile = await writeProfile('moved-tokens', `rules:\n${rule('apiserver.token-file-moved', 'kube-apiserver', 'set-flag', '--token-auth-file', '${SNAP_DATA}/credentials/tokens.csv')}`);
  const run = runBin(['--root', root, 'plan', '--profile', profile]);
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stdout, `    - --token-auth-file=\${SNAP_DATA}/credentials/known_tokens.csv
    # apiserver.token-file-moved: duplicate of line 13, removed so one value stands
    - --token-auth-file=\${SNAP_DATA}/credentials/known_tokens.csv
    + --token-auth-file=\${SNAP_DATA}/credentials/tokens.csv
    # apiserver.token-file-moved: --token-auth-file must be \${SNAP_DATA}/credentials/tokens.csv, found /var/snap/microk8s/1379/credentials/known_tokens.csv
`);
  assert.match(run.stdout, '\nPlan: 0 to add, 1 to change, 1 to remove in 1 file; restarts: snap.microk8s.daemon-apiserver.\n');
});

test('a file without a final newline: the new line goes last, the old last line gets its line end, and the plan says so', async () => {
  const root = await makeNode({ version: '1.28' });
  const file = path.join(root, 'var/snap/microk8s/current/args/kube-scheduler');
  await fs.writeFile(file, (await fs.readFile(file, 'utf8')).replace(/\n$/, ''));
  const run = runBin(['--root', root, 'plan', '--only', 'kube-scheduler.bind-address']);
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stdout, `~ /var/snap/microk8s/current/args/kube-scheduler (snap.microk8s.daemon-kubelite)
    @@ -1,4 +1,5 @@
      --kubeconfig=\${SNAP_DATA}/credentials/scheduler.config
      --leader-elect-lease-duration=60s
      --leader-elect-renew-deadline=30s
    - --profiling=false
    \\ No newline at end of file
    + --profiling=false
    + --bind-address=127.0.0.1
    \\ No newline at end of file
    # kube-scheduler.bind-address: --bind-address must be 127.0.0.1, found 0.0.0.0
    # line 4 had no line end; it gets one so the new line starts on its own line

`);
  assert.match(run.stdout, '\nPlan: 1 to add, 0 to change, 0 to remove in 1 file; restarts: snap.microk8s.daemon-kubelite.\n');
});

test('1.13 (daemons era): one restart per component daemon, the datastore first', async () => {
  const root = await makeNode({ version: '1.13' });
  const baseline = runBin(['--root', root, 'plan']);
  assert.is(baseline.status, 0, baseline.stderr);
  assert.match(baseline.stdout, '~ /var/snap/microk8s/current/args/kube-proxy (snap.microk8s.daemon-proxy)\n');
  assert.match(baseline.stdout, '\nPlan: 8 to add, 2 to change, 1 to remove in 5 files; restarts: snap.microk8s.daemon-apiserver, snap.microk8s.daemon-controller-manager, snap.microk8s.daemon-kubelet, snap.microk8s.daemon-proxy, snap.microk8s.daemon-scheduler.\n');
  assert.not.match(baseline.stdout, 'kubelite');
  const profile = await writeProfile('with-etcd', `extends: baseline\nrules:\n${rule('etcd.client-certs', 'etcd', 'set-flag', '--client-cert-auth', 'true')}`);
  const doc = JSON.parse(runBin(['--root', root, 'plan', '--profile', profile, '--json']).stdout);
  assert.equal(doc.restarts, [
    'snap.microk8s.daemon-etcd',
    'snap.microk8s.daemon-apiserver',
    'snap.microk8s.daemon-controller-manager',
    'snap.microk8s.daemon-kubelet',
    'snap.microk8s.daemon-proxy',
    'snap.microk8s.daemon-scheduler',
  ]);
  assert.is(doc.node.era, 'daemons');
});

test('a node with peers is warned that harden changes only this node', async () => {
  const root = await makeNode({ version: '1.28', callbackPeers: ['10.0.0.2:25000'] });
  const run = runBin(['--root', root, 'plan']);
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stdout, '\nWarnings:\n  ! this node has peers (10.0.0.2:25000): control-plane flags such as --authorization-mode must be the same on every control-plane node, and harden changes only this one\n');
});

test('--out saves the JSON plan with digests of what it read; --in shows it again, the same, without a node', async () => {
  const root = await makeNode({ version: '1.28' });
  const dir = await makeTempDir();
  const file = path.join(dir, 'baseline.plan.json');
  const saved = runBin(['--root', root, 'plan', '--out', file]);
  assert.is(saved.status, 0, saved.stderr);
  const message = `\nSaved the plan to ${file}: apply it with harden --root ${root} apply ${file}\n`;
  assert.ok(saved.stdout.endsWith(message), saved.stdout);
  assert.equal(await fs.readdir(dir), ['baseline.plan.json'], 'no temp file left behind');

  const doc = JSON.parse(await fs.readFile(file, 'utf8'));
  assert.is(doc.schema, 'harden.plan/v3');
  assert.is(doc.root, root);
  const argsDir = path.join(root, 'var/snap/microk8s/current/args');
  const names = (await fs.readdir(argsDir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name).sort();
  assert.equal(Object.keys(doc.inputs), names.map((name) => `/var/snap/microk8s/current/args/${name}`));
  for (const name of names) {
    const digest = createHash('sha256').update(await fs.readFile(path.join(argsDir, name))).digest('hex');
    assert.is(doc.inputs[`/var/snap/microk8s/current/args/${name}`], `sha256:${digest}`, name);
  }

  await fs.rm(root, { recursive: true }); // --in never needs the node
  const shown = runBin(['plan', '--in', file]);
  assert.is(shown.status, 0, shown.stderr);
  assert.is(shown.stdout, saved.stdout.slice(0, -message.length));
  const json = runBin(['plan', '--in', file, '--json']);
  assert.equal(JSON.parse(json.stdout), doc);
  assert.is(runBin(['plan', '--in', file, '--detailed-exitcode']).status, 2);
});

test('--out with --json prints the document on stdout and the note on stderr', async () => {
  const file = path.join(await makeTempDir(), 'p.json');
  const run = runBin(['--root', EXAMPLE, 'plan', '--json', '--out', file]);
  assert.is(run.status, 0, run.stderr);
  assert.is(run.stderr, `Saved the plan to ${file}: apply it with harden --root ${EXAMPLE} apply ${file}\n`);
  assert.is(run.stdout, await fs.readFile(file, 'utf8'));
});

test('--in errors: a missing file, not JSON, another schema; one line and a hint, exit 1, nothing on stdout', async () => {
  const dir = await makeTempDir();
  const missing = path.join(dir, 'nope.json');
  const notJson = path.join(dir, 'notes.txt');
  await fs.writeFile(notJson, 'this is not a plan\n');
  const check = path.join(dir, 'check.json');
  await fs.writeFile(check, JSON.stringify({ schema: 'harden.check/v1' }));
  const partial = path.join(dir, 'partial.json');
  await fs.writeFile(partial, JSON.stringify({ schema: 'harden.plan/v3', root: '/' }));
  const older = path.join(dir, 'older.json');
  await fs.writeFile(older, JSON.stringify({ schema: 'harden.plan/v1', root: '/' }));
  const v2 = path.join(dir, 'v2.json');
  await fs.writeFile(v2, JSON.stringify({ schema: 'harden.plan/v2', root: '/' }));
  const cases: [string, string][] = [
    [missing, `error: cannot read the plan ${missing}: no such file\nhint: give the file that harden plan --out FILE wrote\n`],
    [notJson, `error: ${notJson} is not a harden plan: not JSON\nhint: make one with harden plan --out FILE\n`],
    [check, `error: ${check} is not a harden plan: schema is "harden.check/v1", not "harden.plan/v3"\nhint: make one with harden plan --out FILE\n`],
    [older, `error: ${older} is not a harden plan: it is a harden.plan/v1 plan, from an earlier harden; this one reads harden.plan/v3\nhint: make one with harden plan --out FILE\n`],
    [v2, `error: ${v2} is not a harden plan: it is a harden.plan/v2 plan, from an earlier harden; this one reads harden.plan/v3\nhint: make one with harden plan --out FILE\n`],
    [partial, `error: ${partial} is not a harden plan: its "sha256" field is missing or malformed\nhint: make one with harden plan --out FILE\n`],
  ];
  for (const [file, stderr] of cases) {
    const run = runBin(['plan', '--in', file]);
    assert.is(run.status, 1, file);
    assert.is(run.stdout, '', file);
    assert.is(run.stderr, stderr);
  }
});

test('--in with --profile, --only or --out is a usage error', async () => {
  const run = runBin(['plan', '--in', 'x.json', '--profile', 'cis']);
  assert.is(run.status, 1);
  assert.is(run.stdout, '');
  assert.is(run.stderr, 'error: --in shows a saved plan and does not take --profile\nhint: the plan file already says what it changes; to make a new plan, leave out --in\n');
  const both = runBin(['plan', '--in', 'x.json', '--out', 'y.json', '--only', 'kubelet.read-only-port']);
  assert.is(both.status, 1);
  assert.match(both.stderr, 'error: --in shows a saved plan and does not take --out, --only\n');
});

test('a plan whose rules cannot be carried out is refused, one line per rule, and --out writes nothing', async () => {
  const root = await makeNode({ version: '1.28' });
  const profile = await writeProfile('conflicting', `rules:\n${rule('scheduler.lease-30', 'kube-scheduler', 'set-flag', '--leader-elect-lease-duration', '30s')}${rule('scheduler.lease-45', 'kube-scheduler', 'set-flag', '--leader-elect-lease-duration', '45s')}`);
  const dir = await makeTempDir();
  const run = runBin(['--root', root, 'plan', '--profile', profile, '--out', path.join(dir, 'p.json')]);
  assert.is(run.status, 1);
  assert.is(run.stdout, '');
  assert.is(run.stderr, 'error: plan refused: rules scheduler.lease-30, scheduler.lease-45: they ask for different values of --leader-elect-lease-duration; keep one of them\nhint: nothing was written; fix what is named, or leave a rule out with --skip RULE (scheduler.lease-30, scheduler.lease-45)\n');
  assert.equal(await fs.readdir(dir), []);
});

test('plan never writes to the node: every file, mode and link is the same afterwards', async () => {
  const root = await makeNode({ version: '1.28' });
  const before = await snapshotTree(root);
  for (const args of [['plan'], ['plan', '--profile', 'cis'], ['plan', '--json'], ['plan', '--profile', 'cis', '--out', path.join(await makeTempDir(), 'p.json')]]) {
    assert.is(runBin(['--root', root, ...args]).status, 0, args.join(' '));
  }
  assert.equal(await snapshotTree(root), before);
});

test('one --root only', async () => {
  const run = runBin(['--root', EXAMPLE, '--root', EXAMPLE.replace('1.28', '1.27'), 'plan']);
  assert.is(run.status, 1);
  assert.is(run.stdout, '');
  assert.is(run.stderr, 'error: this command takes exactly one --root\nhint: run it once per node\n');
});

test('colour: --color paints added lines green and removed lines red, whatever NO_COLOR says to the suite', () => {
  const run = runBin(['--root', EXAMPLE, 'plan', '--color']);
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stdout, '\u001b[32m    + --bind-address=127.0.0.1\u001b[39m\n');
  assert.match(run.stdout, '\u001b[31m    - --authorization-mode=AlwaysAllow\u001b[39m\n');
  assert.match(run.stdout, '\u001b[33m~ /var/snap/microk8s/current/args/kube-apiserver (snap.microk8s.daemon-kubelite)\u001b[39m\n');
  const plain = runBin(['--root', EXAMPLE, 'plan', '--color'], { NO_COLOR: '1' });
  assert.not.match(plain.stdout, '\u001b[');
  assert.not.match(runBin(['--root', EXAMPLE, 'plan', '--no-color'], { FORCE_COLOR: '1' }).stdout, '\u001b[');
});

test('a mistyped option is suggested', () => {
  const run = runBin(['--root', EXAMPLE, 'plan', '--detailed-exitcod']);
  assert.is(run.status, 1);
  assert.is(run.stderr, 'error: unknown option --detailed-exitcod\nhint: did you mean --detailed-exitcode? see harden plan --help\n');
});

test.run();
