// Cluster facts: `harden facts` on each node, `harden cluster facts` to gather them, `check`, `plan` and `apply`
// with --cluster on one node, and the cluster view `harden cluster check`. A cluster of four node roots: two
// control planes and two workers (1.28, var/lock/clustered.lock).
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBin, runInProcessWith } from '../helpers/cli.js';
import { makeNode, makeTempDir } from '../helpers/node-root.js';

const GATHERED = new Date('2026-03-01T10:00:00.000Z');
const LATER = new Date('2026-03-01T10:20:00.000Z');
const at = (now: Date) => ({ change: { now: () => now } });

interface Cluster {
  readonly cp1: string;
  readonly cp2: string;
  readonly w1: string;
  readonly w2: string;
  readonly dir: string;
}

const argsOf = (root: string, file: string) => path.join(root, 'var/snap/microk8s/current/args', file);

async function edit(root: string, file: string, from: RegExp, to: string): Promise<void> {
  const text = await fs.readFile(argsOf(root, file), 'utf8');
  assert.ok(from.test(text), `${file} has ${from}`);
  await fs.writeFile(argsOf(root, file), text.replace(from, to));
}

/** Two control planes and two workers; the first worker's kubelet still accepts anonymous requests. */
async function cluster(): Promise<Cluster> {
  const [cp1, cp2, w1, w2] = await Promise.all([makeNode({ version: '1.28' }), makeNode({ version: '1.28' }), makeNode({ version: '1.28', worker: true }), makeNode({ version: '1.28', worker: true })]);
  await edit(w1, 'kubelet', /--anonymous-auth=false/, '--anonymous-auth=true');
  return { cp1, cp2, w1, w2, dir: await makeTempDir() };
}

/** Each node's facts (in-process, at GATHERED), then the cluster facts; returns the cluster file. */
async function gather(c: Cluster, when: Date = GATHERED): Promise<string> {
  const files: string[] = [];
  for (const [name, root] of [['cp-1', c.cp1], ['cp-2', c.cp2], ['w-1', c.w1], ['w-2', c.w2]] as const) {
    const run = await runInProcessWith(['--root', root, 'facts', '--node-name', name], at(when));
    assert.is(run.status, 0, run.stderr);
    const file = path.join(c.dir, `${name}.json`);
    await fs.writeFile(file, run.stdout);
    files.push(file);
  }
  const out = path.join(c.dir, 'cluster.json');
  const run = await runInProcessWith(['cluster', 'facts', ...files, '--out', out], at(when));
  assert.is(run.status, 0, run.stderr);
  assert.is(run.stderr, `Wrote cluster facts for 4 nodes to ${out}\n`);
  assert.is(run.stdout, '');
  return out;
}

const statusOf = (stdout: string, id: string) => (JSON.parse(stdout).results as { id: string; status: string; reason: string }[]).find((r) => r.id === id);
const sha256 = async (file: string) => `sha256:${createHash('sha256').update(await fs.readFile(file)).digest('hex')}`;

test('harden facts (the bin): name, role from inspect, version, profile, every rule, the settings that must agree', async () => {
  const c = await cluster();
  const plane = runBin(['--root', c.cp1, 'facts', '--node-name', 'cp-1']);
  assert.is(plane.status, 0, plane.stderr);
  assert.is(plane.stderr, '');
  const doc = JSON.parse(plane.stdout);
  assert.equal(Object.keys(doc), ['schema', 'gatheredAt', 'name', 'role', 'version', 'profile', 'results', 'settings', 'planned']);
  assert.is(doc.schema, 'harden.node-facts/v1');
  assert.is(doc.name, 'cp-1');
  assert.is(doc.role, 'control-plane');
  assert.is(doc.version, '1.28.0');
  assert.is(doc.profile.name, 'baseline');
  assert.equal(doc.results.find((r: { id: string }) => r.id === 'apiserver.authorization-mode.node-rbac'), { id: 'apiserver.authorization-mode.node-rbac', status: 'FAIL' });
  assert.is(doc.settings['kube-apiserver --authorization-mode'], 'AlwaysAllow');
  assert.is(doc.settings['kube-apiserver --token-auth-file'], null);
  // Its own plan would fix the authorization mode and the bind addresses: planned here, not yet applied.
  assert.equal(doc.planned, ['apiserver.authorization-mode.no-always-allow', 'apiserver.authorization-mode.node-rbac', 'kube-controller-manager.bind-address', 'kube-scheduler.bind-address']);
  const worker = JSON.parse(runBin(['--root', c.w1, 'facts', '--node-name', 'w-1']).stdout);
  assert.is(worker.role, 'worker');
  // Gathered with the bin, then built: the document the other tests make in-process.
  await fs.writeFile(path.join(c.dir, 'cp-1.json'), plane.stdout);
  await fs.writeFile(path.join(c.dir, 'w-1.json'), JSON.stringify(worker));
  const built = runBin(['cluster', 'facts', path.join(c.dir, 'cp-1.json'), path.join(c.dir, 'w-1.json')]);
  assert.is(built.status, 0, built.stderr);
  const document = JSON.parse(built.stdout);
  assert.is(document.schema, 'harden.cluster/v1');
  assert.equal(document.nodes.map((n: { name: string; role: string }) => `${n.name} ${n.role}`), ['cp-1 control-plane', 'w-1 worker']);
});

test('harden facts without --node-name and without etc/hostname in the root: refused, with the option to use', async () => {
  const c = await cluster();
  const run = runBin(['--root', c.cp1, 'facts']);
  assert.is(run.status, 1);
  assert.is(run.stdout, '');
  assert.is(run.stderr, `error: ${c.cp1}: no etc/hostname to name the node by\nhint: name it with --node-name NAME\n`);
  await fs.mkdir(path.join(c.cp1, 'etc'), { recursive: true });
  await fs.writeFile(path.join(c.cp1, 'etc/hostname'), 'Node-A\n');
  assert.is(JSON.parse(runBin(['--root', c.cp1, 'facts']).stdout).name, 'node-a');
});

test("a worker's kubelet.anonymous-auth is BLOCKED alone, and decided with cluster facts: fixable when both control planes pass", async () => {
  const c = await cluster();
  const alone = await runInProcessWith(['--root', c.w1, 'check', '--json'], at(LATER));
  assert.is(alone.status, 2);
  assert.is(statusOf(alone.stdout, 'kubelet.anonymous-auth')!.status, 'BLOCKED');
  const file = await gather(c);
  const run = await runInProcessWith(['--root', c.w1, 'check', '--json', '--cluster', file], at(LATER));
  assert.is(run.status, 2, run.stderr);
  assert.equal(statusOf(run.stdout, 'kubelet.anonymous-auth'), {
    ...statusOf(alone.stdout, 'kubelet.anonymous-auth'),
    status: 'FAIL',
    reason: '--anonymous-auth must be false, found true',
  });
  // The control-plane rules need not be selected: under --only they are still decided from the control planes.
  const only = await runInProcessWith(['--root', c.w1, 'check', '--json', '--only', 'kubelet.anonymous-auth,kubelet.client-ca-file', '--cluster', file], at(LATER));
  assert.is(statusOf(only.stdout, 'kubelet.anonymous-auth')!.status, 'FAIL');
  assert.equal(JSON.parse(only.stdout).results.map((r: { id: string }) => r.id), ['kubelet.anonymous-auth', 'kubelet.client-ca-file']);
  // The fix each failing rule names carries the cluster facts along.
  const text = await runInProcessWith(['--root', c.w1, 'check', '--failed', '--only', 'kubelet.anonymous-auth', '--cluster', file], at(LATER));
  assert.ok(text.stdout.includes(`found: --anonymous-auth=true (line 4); --anonymous-auth must be false, found true; blocked: needs rule kubelet.client-ca-file, which is not selected`), text.stdout);
  const failed = await runInProcessWith(['--root', c.w1, 'check', '--failed', '--only', 'kubelet.anonymous-auth,kubelet.client-ca-file', '--cluster', file], at(LATER));
  assert.ok(failed.stdout.includes(`fix: harden --root ${c.w1} plan --only kubelet.anonymous-auth --cluster ${file}\n`), failed.stdout);
  // The plan carries the fix out, and says which facts decided it.
  const plan = await runInProcessWith(['--root', c.w1, 'plan', '--cluster', file], at(LATER));
  assert.is(plan.status, 0, plan.stderr);
  assert.ok(plan.stdout.includes('    - --anonymous-auth=true\n    + --anonymous-auth=false\n'), plan.stdout);
  const blockedPlan = await runInProcessWith(['--root', c.w1, 'plan'], at(LATER));
  assert.not.ok(blockedPlan.stdout.includes('+ --anonymous-auth=false'));
});

test('with a control plane that cannot pass a required rule, the worker rule stays BLOCKED, naming that node', async () => {
  const c = await cluster();
  await edit(c.cp2, 'kube-apiserver', /^--kubelet-client-certificate=.*\n/m, '');
  // Without its certificate file, cp-2's own rule is blocked: its plan cannot fix it.
  await fs.rm(path.join(c.cp2, 'var/snap/microk8s/current/certs/apiserver-kubelet-client.crt'));
  const file = await gather(c);
  const run = await runInProcessWith(['--root', c.w1, 'check', '--json', '--cluster', file], at(LATER));
  assert.is(run.status, 2);
  const result = statusOf(run.stdout, 'kubelet.anonymous-auth')!;
  assert.is(result.status, 'BLOCKED');
  assert.is(
    result.reason,
    '--anonymous-auth must be false, found true; blocked: needs rule apiserver.kubelet-client-certificate on every control-plane node; it does not pass on cp-2 (BLOCKED) ' +
      '(the API server must present a client certificate, or kubectl logs, exec and port-forward get 401)',
  );
});

test('planned on a control plane but not yet applied: check counts it and says so; plan does not', async () => {
  const c = await cluster();
  await edit(c.cp2, 'kube-apiserver', /^--kubelet-client-certificate=.*\n/m, '');
  const file = await gather(c);
  assert.ok(JSON.parse(await fs.readFile(file, 'utf8')).nodes[1].planned.includes('apiserver.kubelet-client-certificate'));
  const check = await runInProcessWith(['--root', c.w1, 'check', '--json', '--cluster', file], at(LATER));
  const result = statusOf(check.stdout, 'kubelet.anonymous-auth')!;
  assert.is(result.status, 'FAIL');
  assert.is(result.reason, '--anonymous-auth must be false, found true; needs apiserver.kubelet-client-certificate planned on cp-2, not yet applied');
  const plan = await runInProcessWith(['--root', c.w1, 'plan', '--cluster', file], at(LATER));
  assert.is(plan.status, 0, plan.stderr);
  assert.ok(
    plan.stdout.includes(
      '  kubelet.anonymous-auth: --anonymous-auth must be false, found true; blocked: needs rule apiserver.kubelet-client-certificate on every control-plane node; ' +
        'it does not pass on cp-2 (FAIL, planned, not yet applied) (the API server must present a client certificate, or kubectl logs, exec and port-forward get 401)\n',
    ),
    plan.stdout,
  );
  assert.not.ok(plan.stdout.includes('+ --anonymous-auth=false'));
  // A preview of a rollout (Ansible's check mode) counts it, as check does, and says so in the plan.
  const preview = await runInProcessWith(['--root', c.w1, 'plan', '--cluster', file, '--assume-planned'], at(LATER));
  assert.is(preview.status, 0, preview.stderr);
  assert.ok(preview.stdout.includes('    - --anonymous-auth=true\n    + --anonymous-auth=false\n'), preview.stdout);
  assert.ok(preview.stdout.includes('needs apiserver.kubelet-client-certificate planned on cp-2, not yet applied'), preview.stdout);
});

test('--assume-planned needs --cluster, and a plan made with it cannot be saved or shown with --in', async () => {
  const c = await cluster();
  const file = await gather(c);
  const alone = await runInProcessWith(['--root', c.w1, 'plan', '--assume-planned'], at(LATER));
  assert.equal([alone.status, alone.stdout, alone.stderr], [1, '', 'error: --assume-planned goes with --cluster\nhint: name the cluster facts with --cluster FILE: what the control planes plan is in them\n']);
  const out = path.join(c.dir, 'preview.json');
  const saved = await runInProcessWith(['--root', c.w1, 'plan', '--cluster', file, '--assume-planned', '--out', out], at(LATER));
  assert.equal([saved.status, saved.stdout, saved.stderr], [
    1,
    '',
    'error: --assume-planned does not go with --out: that plan counts changes the control planes have not made yet\nhint: save the plan once the control planes are hardened, without --assume-planned\n',
  ]);
  assert.is(existsSync(out), false);
  const shown = await runInProcessWith(['plan', '--in', out, '--cluster', file, '--assume-planned'], at(LATER));
  assert.is(shown.status, 1);
  assert.ok(shown.stderr.startsWith('error: --in shows a saved plan and does not take --cluster, --assume-planned\n'), shown.stderr);
  // apply has no such option: it changes the node now, so only what is applied on the control planes counts.
  const apply = await runInProcessWith(['--root', c.w1, 'apply', '--yes', '--cluster', file, '--assume-planned'], at(LATER));
  assert.is(apply.status, 1);
  assert.equal([apply.status, apply.stderr], [1, 'error: apply takes no --assume-planned (plan does)\nhint: see harden apply --help\n']);
});

test('--cluster - reads the facts from standard input: the same decision, the digest of the bytes piped in', async () => {
  const c = await cluster();
  // Gathered now: the bin reads the real clock.
  const now = new Date();
  const file = await gather(c, now);
  const bytes = await fs.readFile(file, 'utf8');
  const digest = await sha256(file);
  // The bin, with the facts on a real pipe.
  const piped = runBin(['--root', c.w1, 'plan', '--cluster', '-'], {}, bytes);
  const named = runBin(['--root', c.w1, 'plan', '--cluster', file]);
  assert.is(piped.status, 0, piped.stderr);
  assert.is(piped.stdout.split('\n')[1], `With cluster facts from standard input (sha256 ${digest.slice(7, 23)}…)`);
  assert.is(piped.stdout.split('\n').slice(2).join('\n'), named.stdout.split('\n').slice(2).join('\n'));
  assert.ok(piped.stdout.includes('+ --anonymous-auth=false'), piped.stdout);
  // A saved plan records that they were piped in; apply takes them the same way, and no other way.
  const out = path.join(c.dir, 'plan.json');
  const save = await runInProcessWith(['--root', c.w1, 'plan', '--cluster', '-', '--out', out], { ...at(now), input: bytes });
  assert.is(save.status, 0, save.stderr);
  assert.equal(JSON.parse(await fs.readFile(out, 'utf8')).cluster, { file: '-', sha256: digest });
  const without = await runInProcessWith(['--root', c.w1, 'apply', out, '--yes', '--no-restart'], at(now));
  assert.is(without.stderr, `error: ${out} was made with cluster facts piped in on standard input (sha256 ${digest.slice(7, 23)}…)\nhint: apply it with --cluster - and the same facts on standard input\n`);
  const applied = await runInProcessWith(['--root', c.w1, 'apply', out, '--yes', '--no-restart', '--cluster', '-'], { ...at(now), input: bytes });
  assert.is(applied.status, 0, applied.stderr);
  assert.match(await fs.readFile(argsOf(c.w1, 'kubelet'), 'utf8'), /^--anonymous-auth=false$/m);
  // Nothing piped in, or not facts: the usual one-line errors, naming standard input.
  const nothing = await runInProcessWith(['--root', c.w2, 'check', '--cluster', '-'], at(now));
  assert.equal([nothing.status, nothing.stderr], [1, 'error: cannot read the cluster facts from standard input: nothing is piped in\nhint: pipe them in (harden plan --cluster - < cluster.json), or name the file: --cluster FILE\n']);
  const empty = runBin(['--root', c.w2, 'check', '--cluster', '-'], {}, '');
  assert.equal([empty.status, empty.stdout, empty.stderr], [1, '', 'error: standard input is not harden.cluster/v1: not JSON\nhint: make them again with harden cluster facts NODE.json… --out FILE\n']);
});

test('cluster facts --stdin: every node\'s facts piped in as one JSON array make the same document as the files', async () => {
  const c = await cluster();
  const file = await gather(c);
  const names = ['cp-1', 'cp-2', 'w-1', 'w-2'];
  const docs = await Promise.all(names.map(async (name) => JSON.parse(await fs.readFile(path.join(c.dir, `${name}.json`), 'utf8'))));
  const piped = await runInProcessWith(['cluster', 'facts', '--stdin'], { ...at(GATHERED), input: JSON.stringify(docs) });
  assert.is(piped.status, 0, piped.stderr);
  assert.is(piped.stdout, await fs.readFile(file, 'utf8'));
  // The bin, on a real pipe.
  const real = runBin(['cluster', 'facts', '--stdin', '--cluster-max-age', '86400'], {}, JSON.stringify(docs));
  assert.is(real.status, 1);
  assert.match(real.stderr, /^error: standard input\[0\] was gathered 2026-03-01T10:00:00.000Z, more than 24h ago\n/);
  const bad = structuredClone(docs);
  bad[1].role = 'leader';
  const cases: [string[], string | undefined, string][] = [
    [['--stdin'], JSON.stringify(bad), 'error: standard input[1]: role: must be one of "control-plane", "worker"\nhint: make it on the node with harden facts > NODE.json\n'],
    [['--stdin'], JSON.stringify(docs[0]), "error: standard input is not a JSON array of node facts\nhint: pipe in a JSON array of the nodes' harden facts documents, or name one file per node\n"],
    [['--stdin'], 'nope', "error: standard input is not a JSON array of node facts: not JSON\nhint: pipe in a JSON array of the nodes' harden facts documents, or name one file per node\n"],
    [['--stdin'], undefined, "error: cannot read the node facts from standard input: nothing is piped in\nhint: pipe in a JSON array of the nodes' harden facts documents, or name one file per node\n"],
    [['--stdin', file], JSON.stringify(docs), "error: cluster facts takes the nodes' facts from files or from --stdin, not both\nhint: name the files, or pipe them all in as one JSON array\n"],
  ];
  for (const [args, input, stderr] of cases) {
    const run = await runInProcessWith(['cluster', 'facts', ...args], { ...at(GATHERED), ...(input === undefined ? {} : { input }) });
    assert.equal([run.status, run.stdout, run.stderr], [1, '', stderr], args.join(' '));
  }
  const check = await runInProcessWith(['cluster', 'check', file, '--stdin'], at(GATHERED));
  assert.equal([check.status, check.stderr], [1, 'error: --stdin goes with cluster facts\nhint: harden cluster check cluster.json\n']);
});

test('check --cluster reports a control-plane setting that differs, with its own id; agreeing ones pass', async () => {
  const c = await cluster();
  await edit(c.cp2, 'kube-apiserver', /--authorization-mode=AlwaysAllow/, '--authorization-mode=Node,RBAC');
  const file = await gather(c);
  const run = await runInProcessWith(['--root', c.w2, 'check', '--json', '--cluster', file], at(LATER));
  assert.is(run.status, 2);
  assert.equal(statusOf(run.stdout, 'cluster.agree.authorization-mode'), {
    id: 'cluster.agree.authorization-mode',
    title: '--authorization-mode is the same on every control-plane node',
    severity: 'high',
    component: 'kube-apiserver',
    cis: [],
    file: null,
    line: null,
    status: 'FAIL',
    found: 'cp-1: AlwaysAllow; cp-2: Node,RBAC',
    reason: '--authorization-mode differs across control-plane nodes; make it the same on each (harden changes one node at a time)',
  } as never);
  assert.equal(statusOf(run.stdout, 'cluster.agree.profiling'), { ...statusOf(run.stdout, 'cluster.agree.profiling')!, status: 'PASS', found: 'false', reason: 'the same on all 2 control-plane nodes' });
  // harden cannot make two nodes agree from a third: the fix says what to do instead of a plan command.
  const text = await runInProcessWith(['--root', c.w2, 'check', '--failed', '--cluster', file], at(LATER));
  assert.ok(
    text.stdout.includes(
      '[FAIL]           high      cluster.agree.authorization-mode\n' +
        '                           --authorization-mode is the same on every control-plane node\n' +
        '                           found: cp-1: AlwaysAllow; cp-2: Node,RBAC; --authorization-mode differs across control-plane nodes; make it the same on each (harden changes one node at a time)\n' +
        '                           fix: make it the same on every control-plane node: harden plan and apply on the nodes that differ\n',
    ),
    text.stdout,
  );
  // Without --cluster there are no cluster results.
  const alone = await runInProcessWith(['--root', c.w2, 'check', '--json'], at(LATER));
  assert.is(statusOf(alone.stdout, 'cluster.agree.authorization-mode'), undefined);
});

test('the plan header shows the cluster facts digest; the saved plan records it; apply holds a saved plan to the same facts', async () => {
  const c = await cluster();
  const file = await gather(c);
  const digest = await sha256(file);
  const out = path.join(c.dir, 'plan.json');
  const run = await runInProcessWith(['--root', c.w1, 'plan', '--cluster', file, '--out', out], at(LATER));
  assert.is(run.status, 0, run.stderr);
  const lines = run.stdout.split('\n');
  assert.is(lines[1], `With cluster facts ${file} (sha256 ${digest.slice(7, 23)}…)`);
  // The command it names to apply the plan carries the facts it needs.
  assert.ok(run.stdout.endsWith(`\nSaved the plan to ${out}: apply it with harden --root ${c.w1} apply ${out} --cluster ${file}\n`), run.stdout);
  const saved = JSON.parse(await fs.readFile(out, 'utf8'));
  assert.is(saved.schema, 'harden.plan/v3');
  assert.equal(saved.cluster, { file, sha256: digest });
  assert.equal(Object.keys(saved).slice(0, 7), ['schema', 'createdAt', 'toolVersion', 'root', 'identity', 'profile', 'cluster']);
  const shown = await runInProcessWith(['--root', c.w1, 'plan', '--in', out], at(LATER));
  assert.is(shown.stdout.split('\n')[1], lines[1]);
  // Applied without --cluster, or with other facts: refused before anything is read for writing.
  const without = await runInProcessWith(['--root', c.w1, 'apply', out, '--yes', '--no-restart'], at(LATER));
  assert.is(without.status, 1);
  assert.is(without.stderr, `error: ${out} was made with the cluster facts ${file} (sha256 ${digest.slice(7, 23)}…)\nhint: apply it with --cluster ${file}\n`);
  const other = path.join(c.dir, 'other.json');
  await fs.writeFile(other, `${(await fs.readFile(file, 'utf8')).trimEnd()}\n\n`);
  const wrong = await runInProcessWith(['--root', c.w1, 'apply', out, '--yes', '--no-restart', '--cluster', other], at(LATER));
  assert.is(wrong.status, 1);
  assert.is(wrong.stderr, `error: ${other} are not the cluster facts ${out} was made with (sha256 ${digest.slice(7, 23)}…)\nhint: apply it with the cluster facts it was made with, or make a new plan with these\n`);
  // With the facts it was made with, it applies (written only: --no-restart).
  const applied = await runInProcessWith(['--root', c.w1, 'apply', out, '--yes', '--no-restart', '--cluster', file], at(LATER));
  assert.is(applied.status, 0, applied.stderr);
  assert.match(await fs.readFile(argsOf(c.w1, 'kubelet'), 'utf8'), /^--anonymous-auth=false$/m);
  const plain = path.join(c.dir, 'plain.json');
  await runInProcessWith(['--root', c.w2, 'plan', '--out', plain], at(LATER));
  assert.not.ok('cluster' in JSON.parse(await fs.readFile(plain, 'utf8')));
  const extra = await runInProcessWith(['--root', c.w2, 'apply', plain, '--yes', '--no-restart', '--cluster', file], at(LATER));
  assert.is(extra.status, 1);
  assert.is(extra.stderr, `error: ${plain} was made without cluster facts, and --cluster was given\nhint: apply it without --cluster, or make a new plan with harden plan --cluster FILE --out\n`);
});

test('cluster facts older than the limit, or an invalid document, are refused with the file named', async () => {
  const c = await cluster();
  const file = await gather(c);
  const late = new Date('2026-03-01T11:00:01.000Z');
  const old = await runInProcessWith(['--root', c.w1, 'check', '--cluster', file], at(late));
  assert.is(old.status, 1);
  assert.is(old.stdout, '');
  assert.is(
    old.stderr,
    `error: ${file} was made 2026-03-01T10:00:00.000Z, more than 1h ago\nhint: gather the facts again (harden facts on each node, then harden cluster facts), or allow older ones with --cluster-max-age SECONDS\n`,
  );
  const allowed = await runInProcessWith(['--root', c.w1, 'check', '--cluster', file, '--cluster-max-age', '7200'], at(late));
  assert.is(allowed.status, 2, allowed.stderr);
  const doc = JSON.parse(await fs.readFile(file, 'utf8'));
  doc.nodes[1].role = 'leader';
  await fs.writeFile(file, JSON.stringify(doc));
  const invalid = await runInProcessWith(['--root', c.w1, 'plan', '--cluster', file], at(LATER));
  assert.is(invalid.status, 1);
  assert.is(invalid.stderr, `error: ${file}: nodes[1].role: must be one of "control-plane", "worker"\nhint: make them again with harden cluster facts NODE.json… --out FILE\n`);
  // The bin (the single-file build, whose schema check is compiled ahead of time) says the same.
  const bin = runBin(['--root', c.w1, 'plan', '--cluster', file]);
  assert.is(bin.status, 1);
  assert.is(bin.stderr, invalid.stderr);
});

/** A small valid cluster document, for the exact outputs of the cluster view. */
function smallDocument(): object {
  const settings = (mode: string) => ({
    'kube-apiserver --authorization-mode': mode, 'kube-apiserver --enable-admission-plugins': null, 'kube-apiserver --disable-admission-plugins': null,
    'kube-apiserver --anonymous-auth': 'false', 'kube-apiserver --token-auth-file': null, 'kube-apiserver --audit-log-path': null,
    'kube-apiserver --audit-policy-file': null, 'kube-apiserver --tls-min-version': 'VersionTLS12', 'kube-apiserver --tls-cipher-suites': null,
    'kube-apiserver --encryption-provider-config': null, 'kube-apiserver --kubelet-certificate-authority': null, 'kube-apiserver --service-account-issuer': null,
    'kube-apiserver --profiling': 'false',
  });
  const profile = { name: 'baseline', sha256: `sha256:${'1'.repeat(64)}` };
  const node = (name: string, role: string, mode: string, statuses: [string, string][]) => ({
    gatheredAt: '2026-03-01T10:00:00.000Z', name, role, version: '1.28.0', profile, results: statuses.map(([id, status]) => ({ id, status })), settings: settings(mode), planned: [],
  });
  return {
    schema: 'harden.cluster/v1',
    createdAt: '2026-03-01T10:00:00.000Z',
    profile,
    nodes: [
      node('cp-1', 'control-plane', 'Node,RBAC', [['apiserver.authorization-mode.node-rbac', 'PASS'], ['kubelet.anonymous-auth', 'PASS']]),
      node('cp-2', 'control-plane', 'AlwaysAllow', [['apiserver.authorization-mode.node-rbac', 'FAIL'], ['kubelet.anonymous-auth', 'PASS']]),
      node('w-1', 'worker', 'AlwaysAllow', [['apiserver.authorization-mode.node-rbac', 'NOT APPLICABLE'], ['kubelet.anonymous-auth', 'BLOCKED']]),
    ],
  };
}

test('cluster check: a row per node and the disagreements, in text, JSON, JUnit and SARIF, exactly', async () => {
  const dir = await makeTempDir();
  const file = path.join(dir, 'cluster.json');
  await fs.writeFile(file, `${JSON.stringify(smallDocument(), null, 2)}\n`);
  const digest = await sha256(file);
  const text = await runInProcessWith(['cluster', 'check', file], at(LATER));
  assert.is(text.status, 2, text.stderr);
  assert.is(text.stderr, '');
  assert.is(
    text.stdout,
    `Cluster facts ${file} (sha256 ${digest.slice(7, 23)}…, made 2026-03-01T10:00:00.000Z, profile baseline)\n\n` +
      'NODE  ROLE           VERSION  PASSED  FAILED  BLOCKED  SCORE\n' +
      'cp-1  control-plane  1.28.0   2       0       0        100%\n' +
      'cp-2  control-plane  1.28.0   1       1       0        50%\n' +
      'w-1   worker         1.28.0   0       0       1        0%\n\n' +
      'Control-plane settings that differ (1 of 13):\n' +
      '  cluster.agree.authorization-mode: cp-1: Node,RBAC; cp-2: AlwaysAllow\n',
  );
  const json = JSON.parse((await runInProcessWith(['cluster', 'check', file, '--json'], at(LATER))).stdout);
  assert.equal(Object.keys(json), ['schema', 'file', 'sha256', 'createdAt', 'profile', 'nodes', 'agreement', 'compliant']);
  assert.is(json.schema, 'harden.cluster-check/v1');
  assert.is(json.sha256, digest);
  assert.is(json.compliant, false);
  assert.equal(json.nodes[1], {
    name: 'cp-2', role: 'control-plane', version: '1.28.0', passed: 1, failed: 1, blocked: 0, score: 50,
    results: [{ id: 'apiserver.authorization-mode.node-rbac', status: 'FAIL' }, { id: 'kubelet.anonymous-auth', status: 'PASS' }],
  });
  assert.equal(json.agreement.filter((r: { status: string }) => r.status !== 'PASS').map((r: { id: string; found: string }) => [r.id, r.found]), [['cluster.agree.authorization-mode', 'cp-1: Node,RBAC; cp-2: AlwaysAllow']]);
  const junit = (await runInProcessWith(['cluster', 'check', file, '--format', 'junit'], at(LATER))).stdout;
  const suites = junit.split('\n');
  assert.equal(suites.slice(0, 6), [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<testsuites>',
    '  <testsuite name="baseline on cp-1 (control-plane)" tests="2" failures="0" errors="0" skipped="0">',
    '    <testcase classname="baseline.cp-1" name="apiserver.authorization-mode.node-rbac"></testcase>',
    '    <testcase classname="baseline.cp-1" name="kubelet.anonymous-auth"></testcase>',
    '  </testsuite>',
  ]);
  assert.ok(junit.includes('    <testcase classname="baseline.cp-2" name="apiserver.authorization-mode.node-rbac"><failure message="FAIL"/></testcase>\n'));
  assert.ok(junit.includes('    <testcase classname="baseline.w-1" name="apiserver.authorization-mode.node-rbac"><skipped message="NOT APPLICABLE"/></testcase>\n'));
  assert.ok(junit.includes('    <testcase classname="baseline.w-1" name="kubelet.anonymous-auth"><failure type="blocked" message="BLOCKED"/></testcase>\n'));
  assert.ok(junit.includes('  <testsuite name="control-plane agreement" tests="13" failures="1" errors="0" skipped="0">\n'));
  assert.ok(junit.includes('    <testcase classname="cluster.agree" name="cluster.agree.authorization-mode"><failure message="--authorization-mode differs across control-plane nodes; make it the same on each (harden changes one node at a time)">cp-1: Node,RBAC; cp-2: AlwaysAllow</failure></testcase>\n'));
  assert.is((junit.match(/<testcase /g) ?? []).length, 6 + 13);
  const sarif = JSON.parse((await runInProcessWith(['cluster', 'check', file, '--format', 'sarif'], at(LATER))).stdout);
  const results = sarif.runs[0].results;
  assert.is(results.length, 6 + 13);
  assert.equal(results[0], { ruleId: 'apiserver.authorization-mode.node-rbac', kind: 'pass', level: 'none', message: { text: 'PASS on cp-1' }, properties: { node: 'cp-1', role: 'control-plane', status: 'PASS' } });
  assert.equal(results[5], { ruleId: 'kubelet.anonymous-auth', kind: 'fail', level: 'error', message: { text: 'BLOCKED on w-1' }, properties: { node: 'w-1', role: 'worker', status: 'BLOCKED' } });
  assert.equal(results[4].kind, 'notApplicable');
  assert.equal(results[6], {
    ruleId: 'cluster.agree.authorization-mode', kind: 'fail', level: 'error',
    message: { text: '--authorization-mode differs across control-plane nodes; make it the same on each (harden changes one node at a time): cp-1: Node,RBAC; cp-2: AlwaysAllow' },
    properties: { status: 'FAIL' },
  });
  assert.equal(sarif.runs[0].properties, { cluster: { file, sha256: digest } });
});

test('cluster facts refuses node facts of two profiles, a node given twice, and no control plane', async () => {
  const c = await cluster();
  await gather(c);
  const f = (name: string) => path.join(c.dir, `${name}.json`);
  const twice = await runInProcessWith(['cluster', 'facts', f('cp-1'), f('cp-1')], at(GATHERED));
  assert.is(twice.status, 1);
  assert.is(twice.stderr, `error: ${f('cp-1')} and ${f('cp-1')} are both node cp-1\nhint: give each node once, or name nodes apart with harden facts --node-name NAME\n`);
  const workers = await runInProcessWith(['cluster', 'facts', f('w-1'), f('w-2')], at(GATHERED));
  assert.is(workers.stderr, 'error: no control-plane node among the facts given\nhint: include the facts of every control-plane node\n');
  const cis = await runInProcessWith(['--root', c.cp2, 'facts', '--node-name', 'cp-2', '--profile', 'cis'], at(GATHERED));
  await fs.writeFile(f('cp-2'), cis.stdout);
  const mixed = await runInProcessWith(['cluster', 'facts', f('cp-1'), f('cp-2')], at(GATHERED));
  assert.is(mixed.status, 1);
  assert.match(mixed.stderr, new RegExp(`^error: ${f('cp-2')} was gathered with profile cis \\(sha256 [0-9a-f]{16}…\\), ${f('cp-1')} with baseline \\(sha256 [0-9a-f]{16}…\\)\nhint: gather every node with the same profile: harden facts --profile P on each\n$`));
});

test('cluster facts for another profile are refused by check', async () => {
  const c = await cluster();
  const file = await gather(c);
  const run = await runInProcessWith(['--root', c.w1, 'check', '--profile', 'cis', '--cluster', file], at(LATER));
  assert.is(run.status, 1);
  assert.match(run.stderr, new RegExp(`^error: ${file} holds facts for profile baseline \\(sha256 [0-9a-f]{16}…\\), not cis \\(sha256 [0-9a-f]{16}…\\)\nhint: use the profile the facts were gathered with \\(--profile\\), or gather them again with this one\n$`));
});

test.run();
