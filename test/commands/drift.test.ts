// `harden drift`: each cause simulated on a fixture node after a real `apply --no-restart`, the way MicroK8s
// makes it (a refresh: a new revision dir copied from the old one, `current` moved, the configure hook's mode
// reset; a worker join and a control-plane join; kubelite's sanitisation after a refresh to a version without the
// flag; `microk8s disable cis-hardening`; a hand edit), found and attributed; a rollback leaves no drift; a held
// lock is not drift; the JSON and JSON-lines forms. `--reapply` on a live node: one restart, then idempotent.
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBinAsync, runInProcessWith, type Run } from '../helpers/cli.js';
import { makeLiveNode, readTree, treeDiff, type LiveNode } from '../helpers/live-node.js';
import { MICROK8S_GID, makeNode } from '../helpers/node-root.js';
import { readLog } from '../helpers/stand-ins.js';
import { harden } from '../helpers/terminal.js';

const DATA = 'var/snap/microk8s/current';
const args = (root: string, name: string) => path.join(root, DATA, 'args', name);
const pause = () => new Promise((resolve) => setTimeout(resolve, 20));

async function applied(root: string, ...extra: string[]): Promise<string> {
  const run = await runInProcessWith(['--root', root, 'apply', '--yes', '--no-restart', ...extra]);
  assert.is(run.status, 0, run.stderr);
  const id = /^Snapshot (\S+) in /m.exec(run.stdout)![1];
  await pause();
  return id;
}

const drift = (root: string, ...extra: string[]): Promise<Run> => runInProcessWith(['--root', root, 'drift', ...extra]);

interface DriftJson {
  drifted: number;
  drifts: { rules: string[]; kind: string; file: string | null; before: { line: number | null; text: string } | null; now: { line: number | null; text: string } | null; cause: string; detail: string; reapplicable: boolean }[];
}
async function driftJson(root: string): Promise<DriftJson> {
  const run = await drift(root, '--json');
  assert.ok(run.status === 0 || run.status === 2, run.stderr);
  return JSON.parse(run.stdout) as DriftJson;
}
const causes = (report: DriftJson) => Object.fromEntries(report.drifts.map((d) => [`${d.rules.join(',')}@${d.kind}`, d.cause]));

/** A refresh as snapd and the snap make it: the data revision copied, `current` moved, the new snap's version. */
async function refresh(root: string, from: string, to: string, version?: string): Promise<void> {
  execFileSync('cp', ['-a', path.join(root, 'var/snap/microk8s', from), path.join(root, 'var/snap/microk8s', to)]);
  await fs.rm(path.join(root, 'var/snap/microk8s/current'));
  await fs.symlink(to, path.join(root, 'var/snap/microk8s/current'));
  const yaml = await fs.readFile(path.join(root, 'snap/microk8s', from, 'meta/snap.yaml'), 'utf8');
  await fs.mkdir(path.join(root, 'snap/microk8s', to, 'meta'), { recursive: true });
  await fs.writeFile(path.join(root, 'snap/microk8s', to, 'meta/snap.yaml'), version ? yaml.replace(/^version: .*$/m, `version: ${version}`) : yaml);
  await fs.rm(path.join(root, 'snap/microk8s/current'));
  await fs.symlink(to, path.join(root, 'snap/microk8s/current'));
}

/** Runs a shell snippet in the node's data dir with real bash, as MicroK8s' scripts edit their files. */
const sh = (root: string, script: string) => execFileSync('bash', ['-c', script], { cwd: path.join(root, DATA) });

test('nothing applied, or nothing changed since: exit 0, no drift', async () => {
  const root = await makeNode({ version: '1.28' });
  const none = await drift(root);
  assert.equal([none.status, none.stdout], [0, `No drift on ${root}: no change of harden's stands on this node (none was applied, or each was rolled back or put back).\n`]);
  const id = await applied(root, '--profile', 'cis');
  const run = await drift(root);
  assert.is(run.status, 0, run.stdout + run.stderr);
  assert.match(run.stdout, new RegExp(`^No drift on ${root}: the \\d+ settings and rules harden left still hold \\(snapshots ${id}\\)\\.\\n$`));
});

test('a hand edit: the rule, the file, the line before and now, attributed to an edit with its time and owner', async () => {
  const root = await makeNode({ version: '1.28' });
  const id = await applied(root, '--profile', 'cis');
  sh(root, "sed -i 's/^--anonymous-auth=false$/--anonymous-auth=true/' args/kubelet");
  const tree = await readTree(root, []);
  const run = await drift(root);
  assert.is(run.status, 2, run.stderr);
  // drift only reads: the node and the state dir are byte for byte as they were.
  assert.equal(treeDiff(tree, await readTree(root, [])), []);
  const lines = run.stdout.split('\n');
  assert.match(lines[0], new RegExp(`^Drift on ${root}: 1 of the \\d+ settings and rules harden left no longer hold \\(snapshots ${id}\\)$`));
  assert.equal(lines.slice(2, 6), [
    '[DRIFT] kubelet.anonymous-auth  Refuse anonymous requests to the kubelet',
    '  file    /var/snap/microk8s/current/args/kubelet',
    `  before  line 4: --anonymous-auth=false (snapshot ${id})`,
    '  now     line 4: --anonymous-auth=true',
  ]);
  assert.match(lines[6], /^ {2}cause {3}edited: edited by hand or by another tool: kubelet changed \d{4}-\d\d-\d\dT[\d:.]+Z, owner root:root, after harden left it at \d{4}-[\d\-T:.]+Z$/);
  assert.equal(lines.slice(7), ['', 'Causes: 1 edited.', `Put it back with: harden --root ${root} drift --reapply`, '']);
  // JSON, and one JSON line per drift (what the journal gets).
  const json = await driftJson(root);
  assert.is(json.drifted, 1);
  assert.equal(json.drifts[0].rules, ['kubelet.anonymous-auth']);
  assert.equal([json.drifts[0].before, json.drifts[0].now], [{ line: 4, text: '--anonymous-auth=false' }, { line: 4, text: '--anonymous-auth=true' }]);
  const jsonl = await drift(root, '--format', 'jsonl');
  assert.is(jsonl.status, 2);
  const entries = jsonl.stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
  assert.is(entries.length, 1);
  assert.equal([entries[0].schema, entries[0].root, entries[0].cause, entries[0].rules], ['harden.drift/v1', root, 'edited', ['kubelet.anonymous-auth']]);
});

test("a refresh: a new revision, the configure hook's feature-gates line; harden's settings still hold, so it is said, not drift", async () => {
  const root = await makeNode({ version: '1.28' });
  const id = await applied(root, '--profile', 'cis');
  await refresh(root, '6089', '6100');
  // The hook on a kine/dqlite node: ListFromCacheSnapshot=false appended to --feature-gates, or the line added.
  sh(root, `grep -q -- '^--feature-gates=' args/kube-apiserver && sed -i 's/^--feature-gates=.*/&,ListFromCacheSnapshot=false/' args/kube-apiserver || echo '--feature-gates=ListFromCacheSnapshot=false' >> args/kube-apiserver`);
  const run = await drift(root);
  assert.is(run.status, 0, run.stdout + run.stderr);
  const lines = run.stdout.split('\n');
  assert.match(lines[0], `: the `);
  assert.match(lines[0], `settings and rules harden left still hold (snapshots ${id}; revision 6089 then, 6100 now).`);
  assert.equal(lines.slice(1), [
    '',
    "Changed since harden left it, every setting of harden's still holding:",
    `  /var/snap/microk8s/current/args/kube-apiserver (snapshot ${id})`,
    '    + --feature-gates=ListFromCacheSnapshot=false',
    '    cause: refresh: the snap was refreshed from revision 6089 to 6100, and its configure hook makes this change',
    '',
  ]);
  const json = await driftJson(root);
  assert.equal(json.drifts, []);
});

test('a refresh that changes nothing of harden\'s is not drift; an edit after it is an edit, and says the refresh did not make it', async () => {
  const root = await makeNode({ version: '1.28' });
  await applied(root, '--profile', 'cis');
  await refresh(root, '6089', '6100');
  assert.is((await drift(root)).status, 0);
  sh(root, "sed -i 's/^--anonymous-auth=false$/--anonymous-auth=true/' args/kubelet");
  const [d] = (await driftJson(root)).drifts;
  assert.is(d.cause, 'edited');
  assert.match(d.detail, /; the snap was also refreshed \(revision 6089 to 6100\), but its hook does not make this change$/);
});

test('a worker join: args/kubelet replaced by the control plane\'s, var/lock/clustered.lock newer than the apply', async () => {
  const root = await makeNode({ version: '1.28' });
  const stock = await fs.readFile(args(root, 'kubelet'), 'utf8');
  await applied(root, '--profile', 'cis');
  // microk8s join: the control plane's kubelet args (here the stock ones) over this node's, and the lock.
  await fs.writeFile(args(root, 'kubelet'), stock.replace('--anonymous-auth=false', '--anonymous-auth=true'));
  await fs.writeFile(path.join(root, DATA, 'var/lock/clustered.lock'), '');
  const report = await driftJson(root);
  const kubelet = report.drifts.filter((d) => d.file === '/var/snap/microk8s/current/args/kubelet');
  assert.ok(kubelet.length >= 2, JSON.stringify(report));
  for (const d of kubelet) {
    assert.is(d.cause, 'join', JSON.stringify(d));
    assert.match(d.detail, /^args\/kubelet was replaced when this node joined a cluster as a worker \(var\/lock\/clustered\.lock made .*, after harden left it at .*\)$/);
  }
});

test("a control-plane join: the API server's authorization mode set again, args/kubelet.backup newer than the apply", async () => {
  const root = await makeNode({ version: '1.28' });
  await applied(root, '--profile', 'cis');
  sh(root, 'cp args/kubelet args/kubelet.backup && sed -i "s/^--authorization-mode=.*/--authorization-mode=AlwaysAllow/" args/kube-apiserver');
  const report = await driftJson(root);
  const mode = report.drifts.find((d) => d.file === '/var/snap/microk8s/current/args/kube-apiserver' && d.now?.text === '--authorization-mode=AlwaysAllow');
  assert.ok(mode, JSON.stringify(report));
  assert.is(mode!.cause, 'join');
  assert.match(mode!.detail, /^a control-plane join rewrote it \(args\/kubelet\.backup made .*, after harden left it at .*\)$/);
});

test("kubelite's sanitisation: after a refresh to 1.24 the scheduler's --address is gone; nothing to put back", async () => {
  const root = await makeNode({ version: '1.21' });
  // This node lacked the scheduler's --address: harden wrote it.
  sh(root, "sed -i '/^--address=/d' args/kube-scheduler");
  await applied(root);
  assert.match(await fs.readFile(args(root, 'kube-scheduler'), 'utf8'), /^--address=127\.0\.0\.1$/m);
  await refresh(root, '2128', '3500', 'v1.24.0');
  // run-kubelite-with-args' sanitise_args_kube_scheduler at the next start.
  sh(root, "sed -i '/^--address=/d' args/kube-scheduler");
  const report = await driftJson(root);
  const address = report.drifts.find((d) => d.file === '/var/snap/microk8s/current/args/kube-scheduler');
  assert.ok(address, JSON.stringify(report));
  assert.equal([address!.rules, address!.cause, address!.reapplicable], [['kube-scheduler.insecure-address'], 'kubelite-sanitisation', false]);
  assert.is(address!.detail, 'kubelite deleted --address at start: MicroK8s 1.24.0 no longer has it, and var/lock/no-arg-sanitisation is absent');
  const text = await drift(root);
  assert.match(text.stdout, '  (its rules do not apply to this node now: --reapply leaves it)\n');
});

test('microk8s disable cis-hardening: its flags deleted by name, its lock gone, the modes re-opened', async () => {
  const root = await makeNode({ version: '1.28' });
  await applied(root, '--profile', 'cis');
  // The addon's disable: removeArgument drops every line containing the flag name; UndoFilePermissions; the lock.
  sh(
    root,
    `sed -i '/--authorization-mode/d;/--protect-kernel-defaults/d;/--tls-cipher-suites/d' args/kubelet && sed -i '/--audit-log-path/d;/--audit-policy-file/d' args/kube-apiserver && ` +
      `chmod -R g+wr args credentials certs && chgrp -R ${MICROK8S_GID} args credentials certs && rm var/lock/cis-hardening`,
  );
  const report = await driftJson(root);
  assert.ok(report.drifted > 0);
  assert.equal(
    report.drifts.filter((d) => d.cause !== 'cis-hardening-disabled').map((d) => `${d.rules.join(',')} ${d.cause}`),
    [],
  );
  const lock = report.drifts.find((d) => d.file === '/var/snap/microk8s/current/var/lock/cis-hardening');
  assert.equal([lock?.kind, lock?.before?.text, lock?.now?.text], ['file', '(created by harden)', '(gone)']);
  assert.ok(report.drifts.some((d) => d.kind === 'mode'));
  assert.ok(report.drifts.some((d) => d.file === '/var/snap/microk8s/current/args/kube-apiserver'));
});

test('a rollback leaves no drift; a change in progress is not drift', async () => {
  const root = await makeNode({ version: '1.28' });
  const id = await applied(root, '--profile', 'cis');
  const back = await runInProcessWith(['--root', root, 'rollback', id, '--yes', '--no-restart']);
  assert.is(back.status, 0, back.stderr);
  const run = await drift(root);
  assert.equal([run.status, run.stdout], [0, `No drift on ${root}: no change of harden's stands on this node (none was applied, or each was rolled back or put back).\n`]);
  // A live run holds the lock: drift compares nothing and says why.
  await applied(root, '--profile', 'cis');
  sh(root, "sed -i 's/^--anonymous-auth=false$/--anonymous-auth=true/' args/kubelet");
  const lock = path.join(root, 'var/lib/harden/lock');
  const bootId = (await fs.readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
  await fs.writeFile(lock, `${JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString(), bootId })}\n`, { mode: 0o600 });
  try {
    const held = await drift(root);
    assert.is(held.status, 0, held.stderr);
    assert.is(held.stdout, '');
    assert.match(held.stderr, /^A change is in progress \(.*\): it is not drift, and nothing was compared\.\n$/);
  } finally {
    await fs.rm(lock);
  }
  assert.is((await drift(root)).status, 2);
});

test('--yes without --reapply is refused', async () => {
  const root = await makeNode({ version: '1.28' });
  const run = await drift(root, '--yes');
  assert.equal([run.status, run.stdout, run.stderr], [1, '', 'error: --yes goes with --reapply\nhint: harden drift --reapply --yes puts back what drifted without asking\n']);
});

/** A live node hardened with cis, then its kubelet's anonymous auth turned back on by hand: the kubelet args as hardened. */
async function hardenedThenLoosened(node: LiveNode): Promise<string> {
  const first = await runBinAsync(['--root', node.root, 'apply', '--yes', '--profile', 'cis', '--health-window', '0'], node.env);
  assert.is(first.status, 0, first.stderr);
  const hardened = await fs.readFile(node.args('kubelet'), 'utf8');
  await fs.writeFile(node.args('kubelet'), hardened.replace('--anonymous-auth=false', '--anonymous-auth=true'));
  return hardened;
}

test('--reapply on a live node: the drifted rules only, one restart, verified; run again it changes nothing', async () => {
  const node = await makeLiveNode({ version: '1.28' });
  try {
    const hardened = await hardenedThenLoosened(node);
    const restartsBefore = (await readLog(node.standIns)).filter((l) => l.startsWith('snap restart')).length;
    const run = await runBinAsync(['--root', node.root, 'drift', '--reapply', '--yes', '--health-window', '0'], node.env);
    assert.is(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, '[DRIFT] kubelet.anonymous-auth');
    assert.match(run.stdout, 'Applied and verified: 1 rules now pass.', run.stdout);
    assert.is(await fs.readFile(node.args('kubelet'), 'utf8'), hardened);
    const restarts = (await readLog(node.standIns)).filter((l) => l.startsWith('snap restart'));
    assert.equal(restarts.slice(restartsBefore), ['snap restart microk8s.daemon-kubelite']);
    const again = await runBinAsync(['--root', node.root, 'drift', '--reapply', '--yes', '--health-window', '0'], node.env);
    assert.equal([again.status, again.stderr], [0, 'Nothing drifted: nothing to put back.\n'], again.stdout);
    assert.is((await readLog(node.standIns)).filter((l) => l.startsWith('snap restart')).length, restartsBefore + 1);
  } finally {
    await node.close();
  }
});

test('--reapply in a terminal: the drift, then apply\'s own checklist and confirm; answered yes, it is put back', async () => {
  const node = await makeLiveNode({ version: '1.28' });
  try {
    const hardened = await hardenedThenLoosened(node);
    const live = harden(['--root', node.root, 'drift', '--reapply', '--health-window', '0'], { env: node.env, rows: 60 });
    try {
      await live.waitFor('[DRIFT] kubelet.anonymous-auth');
      await live.waitFor('Changes to make');
      live.keys('Enter');
      await live.waitFor('Apply these changes?');
      live.type('y');
      live.keys('Enter');
      assert.is(await live.exited(), 0, live.screen());
      assert.match(live.screen(), 'Applied and verified: 1 rules now pass.');
    } finally {
      live.close();
    }
    assert.is(await fs.readFile(node.args('kubelet'), 'utf8'), hardened);
  } finally {
    await node.close();
  }
});

test('--watch, as harden-drift.service runs it: the policy off reports only; on, it re-applies once an hour; a failed gate trips it for good', async () => {
  const node = await makeLiveNode({ version: '1.28' });
  const bin = (...words: string[]) => runBinAsync(['--root', node.root, ...words], node.env);
  const restarts = async () => (await readLog(node.standIns)).filter((l) => l.startsWith('snap restart')).length;
  const loosen = async () => fs.writeFile(node.args('kubelet'), (await fs.readFile(node.args('kubelet'), 'utf8')).replace('--anonymous-auth=false', '--anonymous-auth=true'));
  const watch = () => bin('drift', '--format', 'jsonl', '--watch', '--health-timeout', '5', '--health-window', '0');
  const jsonLines = (run: Run) => run.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { rules: string[] });
  try {
    assert.is((await bin('apply', '--yes', '--profile', 'cis', '--health-window', '0')).status, 0);
    const hardened = await fs.readFile(node.args('kubelet'), 'utf8');
    await loosen();
    // Off by default: the drift on stdout as JSON lines, the decision on stderr, exit 2.
    const off = await watch();
    assert.is(off.status, 2, off.stderr);
    assert.equal(jsonLines(off).map((d) => d.rules), [['kubelet.anonymous-auth']]);
    assert.is(off.stderr, 'harden drift --watch: automatic re-apply is off (harden watch enable-auto turns it on)\n');
    // On: it re-applies (apply's own report on stderr, stdout still JSON lines only), one restart, exit 0.
    assert.is((await bin('watch', 'enable-auto')).status, 0);
    const before = await restarts();
    const on = await watch();
    assert.is(on.status, 0, on.stdout + on.stderr);
    assert.equal(jsonLines(on).map((d) => d.rules), [['kubelet.anonymous-auth']]);
    assert.match(on.stderr, 'Applied and verified: 1 rules now pass.');
    assert.match(on.stderr, /harden drift --watch: re-applied 1 drifted rule \(exit 0\)\n$/);
    assert.is(await fs.readFile(node.args('kubelet'), 'utf8'), hardened);
    assert.is(await restarts(), before + 1);
    // Nothing drifted now: exit 0, nothing printed on stdout.
    const quiet = await watch();
    assert.equal([quiet.status, quiet.stdout], [0, '']);
    // Again within the hour: the rate limit (1 an hour) holds it back.
    await loosen();
    const limited = await watch();
    assert.is(limited.status, 2);
    assert.match(limited.stderr, /^harden drift --watch: 1 automatic re-apply in the last hour, the limit is 1/);
    assert.is(await restarts(), before + 1);
    // A re-apply whose gate fails is put back, and trips the policy until a person re-enables it.
    assert.is((await bin('watch', 'enable-auto', '--max-per-hour', '12')).status, 0);
    // This time the API server's profiling was turned back on, and the API server will not come up without it.
    const apiserver = await fs.readFile(node.args('kube-apiserver'), 'utf8');
    assert.match(apiserver, /^--profiling=false$/m);
    await fs.writeFile(node.args('kube-apiserver'), apiserver.replace('--profiling=false', '--profiling=true'));
    await node.rejectFlag('--profiling=false');
    const failed = await watch();
    assert.is(failed.status, 3, failed.stderr);
    assert.match(failed.stderr, 'Putting the node back from snapshot');
    await node.rejectFlag(null);
    const tripped = await watch();
    assert.is(tripped.status, 2);
    assert.match(tripped.stderr, /^harden drift --watch: .*tripped/i);
    const status = await bin('watch', 'status');
    assert.match(status.stdout, /TRIPPED/);
  } finally {
    await node.close();
  }
});

test('--watch and --reapply together are refused', async () => {
  const root = await makeNode({ version: '1.28' });
  const run = await drift(root, '--watch', '--reapply');
  assert.equal([run.status, run.stderr], [1, 'error: --watch and --reapply do not go together\nhint: --watch re-applies only as the policy allows (harden watch status); --reapply always does\n']);
});

// ---- prerequisites: the audit log directory and the kernel parameters, on an Ubuntu host layout ----------

const SYSCTL_FILE = '/etc/sysctl.d/zz-harden-kubelet.conf';

/** A 1.28 node on an Ubuntu host layout (/var/log, proc/sys, sysctl.d), hardened with cis (--no-restart). */
async function hostApplied(): Promise<{ root: string; id: string }> {
  const root = await makeNode({ version: '1.28', host: {} });
  const id = await applied(root, '--profile', 'cis');
  assert.is(await fs.readFile(path.join(root, 'proc/sys/kernel/panic'), 'utf8'), '10\n');
  assert.is((await drift(root)).status, 0);
  return { root, id };
}

/** The report's lines from `[DRIFT] <rule>` up to the blank line after it. */
function driftBlock(stdout: string, rule: string): string[] {
  const lines = stdout.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`[DRIFT] ${rule} `));
  assert.ok(start >= 0, stdout);
  return lines.slice(start, lines.indexOf('', start));
}

test('prerequisites: the audit log directory removed is drift of files.audit-log-dir, the directory named as gone', async () => {
  const { root, id } = await hostApplied();
  await fs.rmdir(path.join(root, 'var/log/apiserver'));
  const run = await drift(root);
  assert.is(run.status, 2, run.stderr);
  assert.match(run.stdout.split('\n')[0], new RegExp(`^Drift on ${root}: 1 of the \\d+ settings and rules harden left no longer hold \\(snapshots ${id}\\)$`));
  const block = driftBlock(run.stdout, 'files.audit-log-dir');
  assert.equal(block.slice(0, 4), [
    '[DRIFT] files.audit-log-dir  Create the audit log directory, root-only',
    '  file    /var/log/apiserver',
    `  before  (created by harden) (snapshot ${id})`,
    '  now     (gone)',
  ]);
  assert.match(block[4], /^ {2}cause {3}edited: edited by hand or by another tool: apiserver, after harden left it at \d{4}-[\d\-T:.]+Z$/);
  assert.equal(run.stdout.split('\n').slice(-3), ['Causes: 1 edited.', `Put it back with: harden --root ${root} drift --reapply`, '']);
  const json = await driftJson(root);
  assert.is(json.drifted, 1);
  assert.equal(
    json.drifts.map((d) => [d.rules, d.kind, d.file, d.before, d.now, d.cause, d.reapplicable]),
    [[['files.audit-log-dir'], 'file', '/var/log/apiserver', { line: null, text: '(created by harden)' }, { line: null, text: '(gone)' }, 'edited', true]],
  );
});

test('prerequisites: a running kernel parameter set back (a reboot without the file, another tool) is drift of kubelet.kernel-parameters', async () => {
  const { root, id } = await hostApplied();
  await fs.writeFile(path.join(root, 'proc/sys/kernel/panic'), '0\n');
  const run = await drift(root);
  assert.is(run.status, 2, run.stderr);
  const block = driftBlock(run.stdout, 'kubelet.kernel-parameters');
  assert.equal(block.slice(0, 4), [
    '[DRIFT] kubelet.kernel-parameters  Set and persist the kernel parameters the kubelet protects',
    `  file    ${SYSCTL_FILE}`,
    `  before  passed when harden left the node (snapshot ${id})`,
    `  now     FAIL: kernel.panic must be 10: running 0, persisted as 10 by ${SYSCTL_FILE} line 5`,
  ]);
  // The file is as harden left it: the cause is the running value, not an edit of the file.
  assert.match(block[4], /^ {2}cause {3}edited: a running kernel parameter was set again by hand or by another tool since harden set it at \d{4}-[\d\-T:.]+Z; zz-harden-kubelet\.conf is unchanged$/);
  assert.is(block.length, 5, block.join('\n'));
  const json = await driftJson(root);
  assert.equal(
    json.drifts.map((d) => [d.rules, d.kind, d.file, d.now?.text, d.reapplicable]),
    [[['kubelet.kernel-parameters'], 'rule', SYSCTL_FILE, `FAIL: kernel.panic must be 10: running 0, persisted as 10 by ${SYSCTL_FILE} line 5`, true]],
  );
});

test('prerequisites: the sysctl.d file removed is drift of kubelet.kernel-parameters, the file named as gone', async () => {
  const { root, id } = await hostApplied();
  await fs.rm(path.join(root, SYSCTL_FILE));
  const run = await drift(root);
  assert.is(run.status, 2, run.stderr);
  const block = driftBlock(run.stdout, 'kubelet.kernel-parameters');
  assert.equal(block.slice(0, 4), [
    '[DRIFT] kubelet.kernel-parameters  Set and persist the kernel parameters the kubelet protects',
    `  file    ${SYSCTL_FILE}`,
    `  before  (created by harden) (snapshot ${id})`,
    '  now     (gone)',
  ]);
  assert.match(block[4], /^ {2}cause {3}edited: edited by hand or by another tool: zz-harden-kubelet\.conf, after harden left it at /);
  const json = await driftJson(root);
  assert.equal(
    json.drifts.map((d) => [d.rules, d.kind, d.file, d.before?.text, d.now?.text, d.cause]),
    [[['kubelet.kernel-parameters'], 'file', SYSCTL_FILE, '(created by harden)', '(gone)', 'edited']],
  );
});

test('prerequisites: drift --reapply on a live node puts back the directory, the sysctl.d file and the running value', async () => {
  const node = await makeLiveNode({ version: '1.28', host: {} });
  try {
    const first = await runBinAsync(['--root', node.root, 'apply', '--yes', '--profile', 'cis', '--health-window', '0'], node.env);
    assert.is(first.status, 0, first.stderr);
    const persisted = await fs.readFile(path.join(node.root, SYSCTL_FILE), 'utf8');
    await fs.rmdir(path.join(node.root, 'var/log/apiserver'));
    await fs.rm(path.join(node.root, SYSCTL_FILE));
    await fs.writeFile(path.join(node.root, 'proc/sys/kernel/panic'), '0\n');
    const report = await runBinAsync(['--root', node.root, 'drift', '--json'], node.env);
    assert.is(report.status, 2, report.stderr);
    assert.equal((JSON.parse(report.stdout) as DriftJson).drifts.map((d) => d.rules.join(',')).sort(), ['files.audit-log-dir', 'kubelet.kernel-parameters']);
    const run = await runBinAsync(['--root', node.root, 'drift', '--reapply', '--yes', '--health-window', '0'], node.env);
    assert.is(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, '[DRIFT] files.audit-log-dir');
    assert.match(run.stdout, '[DRIFT] kubelet.kernel-parameters');
    assert.match(run.stdout, 'created 1 directory, set 1 running kernel parameter');
    assert.match(run.stdout, 'Applied and verified: 2 rules now pass.');
    assert.is(await fs.readFile(path.join(node.root, SYSCTL_FILE), 'utf8'), persisted);
    assert.is(await fs.readFile(path.join(node.root, 'proc/sys/kernel/panic'), 'utf8'), '10\n');
    const dir = await fs.lstat(path.join(node.root, 'var/log/apiserver'));
    assert.equal([dir.isDirectory(), (dir.mode & 0o7777).toString(8), dir.uid, dir.gid], [true, '700', 0, 0]);
    const again = await runBinAsync(['--root', node.root, 'drift'], node.env);
    assert.is(again.status, 0, again.stdout);
  } finally {
    await node.close();
  }
});

test.run();
