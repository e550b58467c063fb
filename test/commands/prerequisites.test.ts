// Prerequisites as planned changes, on node roots laid out with their host (test/helpers/node-root.ts `host`:
// /var/log without apiserver/, Ubuntu's running kernel parameters under proc/sys, systemd-sysctl's files): the
// audit log directory (files.audit-log-dir) and the kubelet's kernel parameters (kubelet.kernel-parameters),
// planned, applied, verified, rolled back and judged persisted as systemd-sysctl would set them at boot.
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { realFileOps } from '../../src/effects/file-ops.js';
import { BIN, runBinAsync, runInProcessWith } from '../helpers/cli.js';
import { makeLiveNode, readTree, treeDiff } from '../helpers/live-node.js';
import { DEFAULT_REVISIONS, makeNode, makeTempDir, UBUNTU_SYSCTLS } from '../helpers/node-root.js';
import { testCerts } from '../helpers/test-certs.js';
import { fixtureVersions } from '../helpers/paths.js';
import { readLog } from '../helpers/stand-ins.js';

interface Result {
  readonly id: string;
  readonly status: string;
  readonly reason: string;
}

const SYSCTL_FILE = 'etc/sysctl.d/zz-harden-kubelet.conf';
const SYSCTL_TEXT = `# Written by harden for rule kubelet.kernel-parameters: applied at every boot by systemd-sysctl.
# harden rollback removes it; edit the profile, not this file.
vm.overcommit_memory = 1
vm.panic_on_oom = 0
kernel.panic = 10
kernel.panic_on_oops = 1
kernel.keys.root_maxkeys = 1000000
kernel.keys.root_maxbytes = 25000000
`;
const AUDIT_RULES = ['files.audit-log-dir', 'apiserver.audit-log-path', 'apiserver.audit-log-maxage', 'apiserver.audit-log-maxbackup', 'apiserver.audit-log-maxsize'];
const KERNEL_RULES = ['kubelet.kernel-parameters', 'kubelet.protect-kernel-defaults'];

async function results(root: string, env: Record<string, string> = {}): Promise<Map<string, Result>> {
  const run = await runBinAsync(['check', '--root', root, '--profile', 'cis', '--json'], env);
  assert.ok(run.status === 0 || run.status === 2, run.stderr);
  return new Map((JSON.parse(run.stdout) as { results: Result[] }).results.map((r) => [r.id, r]));
}

const statusOf = (found: Map<string, Result>, ids: readonly string[]) => ids.map((id) => `${id} ${found.get(id)?.status}`);
const proc = (root: string, key: string) => fs.readFile(path.join(root, 'proc/sys', ...key.split('.')), 'utf8');
const modeOf = async (file: string) => {
  const stat = await fs.lstat(file);
  return `${(stat.mode & 0o7777).toString(8).padStart(4, '0')} ${stat.uid}:${stat.gid}`;
};

for (const version of fixtureVersions) {
  for (const worker of [false, true]) {
    const role = worker ? 'worker' : 'control plane';
    test(`${version} ${role}: apply --profile cis --no-restart makes the prerequisites; their rules pass; a second apply changes nothing; rollback puts back every file, directory and running value`, async () => {
      const root = await makeNode({ version, worker, host: {} });
      const original = await readTree(root);
      const before = await results(root);
      assert.equal(statusOf(before, KERNEL_RULES), KERNEL_RULES.map((id) => `${id} FAIL`));

      const applied = await runBinAsync(['apply', '--root', root, '--profile', 'cis', '--yes', '--no-restart']);
      assert.is(applied.status, 0, applied.stderr);
      assert.match(applied.stdout, worker ? /, set 3 running kernel parameters\.\n/ : /, created 1 directory, set 3 running kernel parameters\.\n/);

      const after = await results(root);
      assert.equal(statusOf(after, KERNEL_RULES), KERNEL_RULES.map((id) => `${id} PASS`));
      assert.equal(statusOf(after, AUDIT_RULES), AUDIT_RULES.map((id) => `${id} ${worker ? 'NOT APPLICABLE' : 'PASS'}`));
      assert.is(await fs.readFile(path.join(root, SYSCTL_FILE), 'utf8'), SYSCTL_TEXT);
      assert.is(await modeOf(path.join(root, SYSCTL_FILE)), '0644 0:0');
      for (const [key, value] of [['vm.overcommit_memory', '1'], ['kernel.panic', '10'], ['kernel.panic_on_oops', '1'], ['kernel.keys.root_maxkeys', '1000000']]) {
        assert.is(await proc(root, key), `${value}\n`, key);
      }
      if (worker) assert.is(await fs.lstat(path.join(root, 'var/log/apiserver')).catch(() => null), null, 'no audit log directory on a worker');
      else assert.is(await modeOf(path.join(root, 'var/log/apiserver')), '0700 0:0');

      const again = await runBinAsync(['plan', '--root', root, '--profile', 'cis', '--detailed-exitcode']);
      assert.is(again.status, 0, again.stdout);
      assert.match(again.stdout, /^No changes\./m);

      const rolledBack = await runBinAsync(['rollback', '--root', root, '--yes', '--no-restart']);
      assert.is(rolledBack.status, 0, rolledBack.stderr);
      assert.match(rolledBack.stdout, / and 3 running kernel parameters from /);
      assert.equal(treeDiff(original, await readTree(root)), [], 'every file, directory, mode, owner and running value as before');
    });
  }
}

test('1.28: the plan shows each prerequisite, what runs and what is persisted now, and what harden writes', async () => {
  const root = await makeNode({ version: '1.28', host: {} });
  const run = await runBinAsync(['plan', '--root', root, '--profile', 'cis']);
  assert.is(run.status, 0, run.stderr);
  const section = run.stdout.slice(run.stdout.indexOf('Prerequisites:\n'), run.stdout.indexOf('\nRisks:\n'));
  assert.is(
    section,
    `Prerequisites:
+ /var/log/apiserver/ (directory 0700 root:root)
    # files.audit-log-dir
+ /etc/sysctl.d/zz-harden-kubelet.conf (0644 root:root)
${SYSCTL_TEXT.trimEnd().split('\n').map((line) => `    + ${line}`).join('\n')}
~ vm.overcommit_memory running: 0 -> 1 (written to /proc/sys/vm/overcommit_memory)
~ kernel.panic running: 0 -> 10 (written to /proc/sys/kernel/panic)
~ kernel.panic_on_oops running: 0 -> 1 (written to /proc/sys/kernel/panic_on_oops)
    # kubelet.kernel-parameters, now:
    #   vm.overcommit_memory = 1 wanted; running 0, persisted nowhere
    #   vm.panic_on_oom = 0 wanted; running 0, persisted nowhere
    #   kernel.panic = 10 wanted; running 0, persisted nowhere
    #   kernel.panic_on_oops = 1 wanted; running 0, persisted nowhere
    #   kernel.keys.root_maxkeys = 1000000 wanted; running 1000000, persisted nowhere
    #   kernel.keys.root_maxbytes = 25000000 wanted; running 25000000, persisted nowhere
    #   (persisted: set at boot by systemd-sysctl from /etc/sysctl.d, /run/sysctl.d, /usr/local/lib/sysctl.d, /usr/lib/sysctl.d)
`,
  );
  // The check says the same, rule by rule, and what the kubelet rule waits for.
  const found = await results(root);
  assert.is(
    found.get('kubelet.kernel-parameters')!.reason,
    'vm.overcommit_memory must be 1: running 0, persisted nowhere; vm.panic_on_oom must be 0: running 0, persisted nowhere; kernel.panic must be 10: running 0, persisted nowhere; kernel.panic_on_oops must be 1: running 0, persisted nowhere; kernel.keys.root_maxkeys must be 1000000: running 1000000, persisted nowhere; kernel.keys.root_maxbytes must be 25000000: running 25000000, persisted nowhere; persisted means set at boot by systemd-sysctl from /etc/sysctl.d, /run/sysctl.d, /usr/local/lib/sysctl.d, /usr/lib/sysctl.d',
  );
});

test('persisted follows systemd-sysctl: /etc/sysctl.conf through 99-sysctl.conf counts; a node that runs and persists the values gets nothing', async () => {
  const values = Object.entries({ ...UBUNTU_SYSCTLS, 'vm.overcommit_memory': '1', 'kernel.panic': '10', 'kernel.panic_on_oops': '1' });
  const root = await makeNode({
    version: '1.36',
    host: { running: Object.fromEntries(values), sysctlFiles: { '/etc/sysctl.conf': values.map(([k, v]) => `${k}=${v}\n`).join('') } },
  });
  const found = await results(root);
  assert.is(found.get('kubelet.kernel-parameters')!.status, 'PASS', found.get('kubelet.kernel-parameters')!.reason);
  const plan = JSON.parse((await runBinAsync(['plan', '--root', root, '--profile', 'cis', '--json'])).stdout) as { sysctls: unknown[] };
  assert.equal(plan.sysctls, []);
});

test('persisted, not only running: the running values right and nothing persisted writes the file alone', async () => {
  const running = { 'vm.overcommit_memory': '1', 'kernel.panic': '10', 'kernel.panic_on_oops': '1' };
  const root = await makeNode({ version: '1.28', host: { running } });
  const found = await results(root);
  assert.is(found.get('kubelet.kernel-parameters')!.status, 'FAIL');
  assert.match(found.get('kubelet.kernel-parameters')!.reason, 'kernel.panic must be 10: running 10, persisted nowhere');
  const plan = JSON.parse((await runBinAsync(['plan', '--root', root, '--profile', 'cis', '--json'])).stdout) as { sysctls: { file: { before: null; after: string }; running: unknown[] }[] };
  assert.is(plan.sysctls[0].file.after, SYSCTL_TEXT);
  assert.equal(plan.sysctls[0].running, []);
});

test('a same-named file in /etc/sysctl.d hides one in /usr/lib/sysctl.d: what it would have set is not persisted', async () => {
  const all = Object.entries({ ...UBUNTU_SYSCTLS, 'vm.overcommit_memory': '1', 'kernel.panic': '10', 'kernel.panic_on_oops': '1' });
  const root = await makeNode({
    version: '1.28',
    host: {
      running: Object.fromEntries(all),
      sysctlFiles: { '/usr/lib/sysctl.d/60-kubelet.conf': all.map(([k, v]) => `${k} = ${v}\n`).join(''), '/etc/sysctl.d/60-kubelet.conf': '# hidden on purpose\n' },
    },
  });
  const reason = (await results(root)).get('kubelet.kernel-parameters')!.reason;
  assert.match(reason, 'vm.overcommit_memory must be 1: running 1, persisted nowhere');
  // Without the file in /etc, /usr/lib's counts.
  await fs.rm(path.join(root, 'etc/sysctl.d/60-kubelet.conf'));
  assert.is((await results(root)).get('kubelet.kernel-parameters')!.status, 'PASS');
});

test('a file applied after harden\'s would set another value at boot: the rule is BLOCKED, naming the file and line, and nothing of it is planned', async () => {
  const root = await makeNode({ version: '1.28', host: { sysctlFiles: { '/etc/sysctl.d/zzz-local.conf': '# local\nkernel.panic = 0\n' } } });
  const found = await results(root);
  const rule = found.get('kubelet.kernel-parameters')!;
  assert.is(rule.status, 'BLOCKED');
  assert.ok(rule.reason.endsWith('; blocked: /etc/sysctl.d/zzz-local.conf line 2 sets kernel.panic = 0 after /etc/sysctl.d/zz-harden-kubelet.conf: change or remove that line'), rule.reason);
  assert.is(found.get('kubelet.protect-kernel-defaults')!.status, 'BLOCKED');
  const plan = JSON.parse((await runBinAsync(['plan', '--root', root, '--profile', 'cis', '--json'])).stdout) as { sysctls: unknown[]; files: { path: string; after: string }[] };
  assert.equal(plan.sysctls, []);
  assert.not.match(plan.files.find((f) => f.path.endsWith('/kubelet'))?.after ?? '', '--protect-kernel-defaults');
});

test('a read-only /proc/sys (EROFS, as in an LXD container): the rule is BLOCKED with the reason, and apply sets nothing of it', async () => {
  const root = await makeNode({ version: '1.36', host: {} });
  const original = await readTree(root);
  // A real read-only bind mount, in a mount namespace of its own: access(2) answers EROFS as it would in LXD.
  const readOnly = (args: readonly string[]) =>
    spawnSync('unshare', ['-m', 'sh', '-c', 'mount --bind -o ro "$1/proc/sys" "$1/proc/sys" && shift && exec "$@"', 'sh', root, process.execPath, BIN, ...args], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
  const check = readOnly(['check', '--root', root, '--profile', 'cis', '--json']);
  assert.is(check.status, 2, check.stderr);
  const found = new Map((JSON.parse(check.stdout) as { results: Result[] }).results.map((r) => [r.id, r]));
  const rule = found.get('kubelet.kernel-parameters')!;
  assert.is(rule.status, 'BLOCKED');
  assert.ok(
    rule.reason.endsWith(
      '; blocked: /proc/sys/vm/overcommit_memory cannot be written (EROFS: a read-only /proc/sys, as in an LXD or other unprivileged container); /proc/sys/kernel/panic cannot be written (EROFS: a read-only /proc/sys, as in an LXD or other unprivileged container); /proc/sys/kernel/panic_on_oops cannot be written (EROFS: a read-only /proc/sys, as in an LXD or other unprivileged container)',
    ),
    rule.reason,
  );
  assert.match(found.get('kubelet.protect-kernel-defaults')!.reason, 'blocked: needs rule kubelet.kernel-parameters, which is BLOCKED');

  const applied = readOnly(['apply', '--root', root, '--profile', 'cis', '--yes', '--no-restart']);
  assert.is(applied.status, 0, applied.stderr);
  const changed = treeDiff(original, await readTree(root));
  assert.equal(changed.filter((line) => line.startsWith('proc/') || line.startsWith('etc/sysctl.d')), [], 'no kernel parameter, no sysctl file');
  assert.ok(changed.includes('var/log/apiserver: new'), changed.join('\n'));
});

test('a read-only /var/log (a sandbox, a read-only mount): the audit log directory and the audit rules are BLOCKED, the rest applies', async () => {
  const root = await makeNode({ version: '1.36', host: {} });
  const readOnly = (args: readonly string[]) =>
    spawnSync('unshare', ['-m', 'sh', '-c', 'mount --bind -o ro "$1/var/log" "$1/var/log" && shift && exec "$@"', 'sh', root, process.execPath, BIN, ...args], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
  const check = readOnly(['check', '--root', root, '--profile', 'cis', '--json']);
  const found = new Map((JSON.parse(check.stdout) as { results: Result[] }).results.map((r) => [r.id, r]));
  assert.is(found.get('files.audit-log-dir')!.status, 'BLOCKED');
  assert.is(found.get('files.audit-log-dir')!.reason, "/var/log/apiserver does not exist, and /var/log cannot be written here (EROFS: a read-only filesystem, or a sandbox such as harden watch's)");
  assert.match(found.get('apiserver.audit-log-path')!.reason, 'blocked: needs rule files.audit-log-dir, which is BLOCKED');
  const applied = readOnly(['apply', '--root', root, '--profile', 'cis', '--yes', '--no-restart']);
  assert.is(applied.status, 0, applied.stderr);
  assert.is(await proc(root, 'kernel.panic'), '10\n');
  assert.is(await fs.lstat(path.join(root, 'var/log/apiserver')).catch(() => null), null);
});

test('a regular file where the audit log directory goes: check names it, plan refuses, nothing is written (its mode is never changed)', async () => {
  const root = await makeNode({ version: '1.36', host: {} });
  await fs.writeFile(path.join(root, 'var/log/apiserver'), 'not a directory\n', { mode: 0o644 });
  const original = await readTree(root);
  const rule = (await results(root)).get('files.audit-log-dir')!;
  assert.equal([rule.status, rule.reason], ['FAIL', '/var/log/apiserver: not a directory: move it away']);
  const applied = await runBinAsync(['apply', '--root', root, '--profile', 'cis', '--yes', '--no-restart']);
  assert.is(applied.status, 1, applied.stdout);
  assert.match(applied.stderr, 'error: plan refused: rule files.audit-log-dir: /var/log/apiserver is there and not a directory: move it away\n');
  assert.equal(treeDiff(original, await readTree(root)), []);
});

test('no /etc/sysctl.d on the node: the kernel parameters rule is BLOCKED (harden makes no such directory), the rest applies', async () => {
  const root = await makeNode({ version: '1.36', host: {} });
  await fs.rm(path.join(root, 'etc/sysctl.d'), { recursive: true });
  const rule = (await results(root)).get('kubelet.kernel-parameters')!;
  assert.is(rule.status, 'BLOCKED');
  assert.ok(rule.reason.endsWith('; blocked: /etc/sysctl.d does not exist: harden writes the file only into that directory itself'), rule.reason);
  const applied = await runBinAsync(['apply', '--root', root, '--profile', 'cis', '--yes', '--no-restart']);
  assert.is(applied.status, 0, applied.stderr);
  assert.is(await proc(root, 'kernel.panic'), '0\n', 'no running value is set without its file');
});

test('a profile\'s own `fact: sysctl` requirement counts only a value both running and persisted', async () => {
  const dir = await makeTempDir('harden-profile-');
  const profile = path.join(dir, 'mine.yaml');
  await fs.writeFile(
    profile,
    `apiVersion: harden/v1\nkind: Profile\nname: mine\ntitle: Mine\nrules:\n  - id: kubelet.pkd\n    title: Protect kernel defaults\n    rationale: R\n    severity: low\n    component: kubelet\n    requires:\n      - { fact: sysctl, key: kernel.panic, value: "10" }\n    operation: set-flag\n    flag: --protect-kernel-defaults\n    value: "true"\n    default: "false"\n`,
  );
  const status = async (root: string) => {
    const run = await runBinAsync(['check', '--root', root, '--profile', profile, '--json']);
    const [result] = (JSON.parse(run.stdout) as { results: Result[] }).results;
    return [result.status, result.reason];
  };
  const running = await makeNode({ version: '1.28', host: { running: { 'kernel.panic': '10' } } });
  assert.equal(await status(running), ['BLOCKED', '--protect-kernel-defaults must be true, found false; blocked: needs sysctl kernel.panic=10 running and persisted (running 10, persisted nowhere)']);
  const both = await makeNode({ version: '1.28', host: { running: { 'kernel.panic': '10' }, sysctlFiles: { '/etc/sysctl.d/60-panic.conf': 'kernel.panic = 10\n' } } });
  assert.equal(await status(both), ['FAIL', '--protect-kernel-defaults must be true, found false']);
});

test('a running value the kernel refuses at apply (EACCES), or does not take (read back as another): everything is put back, exit 3', async () => {
  for (const [what, fault, message] of [
    ['EACCES', async () => Promise.reject(Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' })), 'cannot write /proc/sys/kernel/panic (EACCES)'],
    // The kernel keeps 5 of the 10 it is given (and takes the 0 the put-back writes).
    ['clamped', async (file: string, data: string) => (data === '10\n' ? fs.writeFile(file, '5\n') : realFileOps.writeInPlace(file, data)), '/proc/sys/kernel/panic reads 5 after harden wrote 10: the kernel did not take it'],
  ] as const) {
    const root = await makeNode({ version: '1.28', host: {} });
    const original = await readTree(root);
    const ops = { ...realFileOps, writeInPlace: async (file: string, data: string) => (file.endsWith('/proc/sys/kernel/panic') ? fault(file, data) : realFileOps.writeInPlace(file, data)) };
    const run = await runInProcessWith(['apply', '--root', root, '--profile', 'cis', '--yes', '--no-restart'], { change: { ops } });
    assert.is(run.status, 3, `${what}: ${run.stderr}`);
    assert.match(run.stderr, `error: a write failed, and the files already written were put back: ${message}\n`, what);
    // vm.overcommit_memory, written before kernel.panic, is back to 0; the directory and the file are gone.
    assert.equal(treeDiff(original, await readTree(root)), [], what);
  }
});

test('a saved plan carries the prerequisites and is applied exactly', async () => {
  const root = await makeNode({ version: '1.36', host: {} });
  const dir = await makeTempDir('harden-plan-');
  const file = path.join(dir, 'plan.json');
  const saved = await runBinAsync(['plan', '--root', root, '--profile', 'cis', '--out', file]);
  assert.is(saved.status, 0, saved.stderr);
  const document = JSON.parse(await fs.readFile(file, 'utf8')) as { directories: unknown[]; sysctls: { file: { path: string }; running: { key: string; from: string; to: string }[] }[] };
  assert.equal(document.directories, [{ ruleId: 'files.audit-log-dir', path: '/var/log/apiserver', mode: '0700', owner: 'root:root' }]);
  assert.is(document.sysctls[0].file.path, '/etc/sysctl.d/zz-harden-kubelet.conf');
  assert.equal(document.sysctls[0].running.map((r) => `${r.key} ${r.from}->${r.to}`), ['vm.overcommit_memory 0->1', 'kernel.panic 0->10', 'kernel.panic_on_oops 0->1']);
  const applied = await runBinAsync(['apply', file, '--root', root, '--yes', '--no-restart']);
  assert.is(applied.status, 0, applied.stderr);
  assert.is(await proc(root, 'kernel.panic'), '10\n');
});

test('a running value changed between plan and apply: the saved plan is refused, nothing written', async () => {
  const root = await makeNode({ version: '1.36', host: {} });
  const file = path.join(await makeTempDir('harden-plan-'), 'plan.json');
  assert.is((await runBinAsync(['plan', '--root', root, '--profile', 'cis', '--out', file])).status, 0);
  await fs.writeFile(path.join(root, 'proc/sys/kernel/panic'), '5\n');
  const original = await readTree(root);
  const applied = await runBinAsync(['apply', file, '--root', root, '--yes', '--no-restart']);
  assert.is(applied.status, 1, applied.stdout);
  assert.match(applied.stderr, "its running kernel parameter kernel.panic differs from what the profile writes");
  assert.equal(treeDiff(original, await readTree(root)), []);
});

test('1.36, live: apply --profile cis restarts kubelite once and passes its gates with the prerequisites made; rollback keeps an audit directory that holds a log, and says so', async () => {
  const n = await makeLiveNode({ version: '1.36', host: {} });
  try {
    const FAST = ['--health-timeout', '10', '--health-window', '1'];
    const original = await readTree(n.root);
    const applied = await runBinAsync(['apply', '--root', n.root, '--profile', 'cis', '--yes', ...FAST], n.env);
    assert.is(applied.status, 0, applied.stderr);
    assert.match(applied.stdout, /^Applied and verified: \d+ rules now pass\.$/m);
    const restarts = async () => (await readLog(n.standIns, 'snap')).filter((line) => line.startsWith('snap restart '));
    assert.equal(await restarts(), ['snap restart microk8s.daemon-kubelite']);
    const after = await results(n.root, n.env);
    assert.equal(statusOf(after, [...AUDIT_RULES, ...KERNEL_RULES]), [...AUDIT_RULES, ...KERNEL_RULES].map((id) => `${id} PASS`));

    // The API server has logged into the directory since.
    await fs.writeFile(path.join(n.root, 'var/log/apiserver/audit.log'), '{"kind":"Event"}\n', { mode: 0o600 });
    const rolledBack = await runBinAsync(['rollback', '--root', n.root, '--yes', ...FAST], n.env);
    assert.is(rolledBack.status, 0, rolledBack.stderr);
    assert.match(rolledBack.stdout, '  /var/log/apiserver/ (created by the apply; it holds files now: left in place)\n');
    assert.match(rolledBack.stdout, 'Left /var/log/apiserver in place: the apply created it, and it holds files now (the audit log); remove it by hand once they are kept elsewhere.\n');
    assert.equal(treeDiff(original, await readTree(n.root)), ['var/log/apiserver: new', 'var/log/apiserver/audit.log: new']);
  } finally {
    await n.close();
  }
});

test('--kubelet-certificate-authority waits for a kubelet certificate signed by the CA: a self-signed one (the kubelet\'s own before 1.28) or another issuer\'s blocks it', async () => {
  const certs = await testCerts();
  const root = await makeNode({ version: '1.26', host: {} });
  const dir = path.join(root, 'var/snap/microk8s', DEFAULT_REVISIONS['1.26'], 'certs');
  const reason = async () => (await results(root)).get('apiserver.kubelet-certificate-authority')!;
  const signedBy = (found: string) =>
    `needs /var/snap/microk8s/${DEFAULT_REVISIONS['1.26']}/certs/kubelet.crt signed by /var/snap/microk8s/${DEFAULT_REVISIONS['1.26']}/certs/ca.crt (found ${found})`;
  await fs.writeFile(path.join(dir, 'ca.crt'), certs.ca);
  await fs.writeFile(path.join(dir, 'kubelet.key'), certs.serverKey);
  for (const [kubelet, found] of [[certs.otherCa, 'self-signed'], ['not a certificate\n', 'not a certificate']] as const) {
    await fs.writeFile(path.join(dir, 'kubelet.crt'), kubelet);
    const result = await reason();
    assert.is(result.status, 'BLOCKED', found);
    assert.match(result.reason, signedBy(found));
  }
  await fs.writeFile(path.join(dir, 'ca.crt'), certs.otherCa);
  await fs.writeFile(path.join(dir, 'kubelet.crt'), certs.serverCert);
  assert.match((await reason()).reason, signedBy('another issuer'));
  // Signed by the node's CA: the requirement holds (the token rules still block the rest on 1.26).
  await fs.writeFile(path.join(dir, 'ca.crt'), certs.ca);
  assert.not.match((await reason()).reason, 'signed by');
});

test('profiles show: every rule of every shipped profile is shown (a prerequisite rule once crashed it), the prerequisites with what they write', async () => {
  for (const profile of ['baseline', 'cis', 'cis-1-12']) {
    const listing = await runInProcessWith(['profiles', 'show', profile]);
    const ids = listing.stdout.split('\n').slice(1).filter(Boolean).map((line) => line.trim().split(/\s+/)[0]);
    assert.ok(ids.length > 20, listing.stdout);
    for (const id of ids) {
      const run = await runInProcessWith(['profiles', 'show', profile, id]);
      assert.is(run.status, 0, `${profile} ${id}: ${run.stderr}`);
    }
  }
  const kernel = await runBinAsync(['profiles', 'show', 'cis', 'kubelet.kernel-parameters']);
  assert.ok(
    kernel.stdout.endsWith(
      '\nWrites, by MicroK8s version\n  1.13-1.36  vm.overcommit_memory=1, vm.panic_on_oom=0, kernel.panic=10, kernel.panic_on_oops=1, kernel.keys.root_maxkeys=1000000, kernel.keys.root_maxbytes=25000000, running (in place, under /proc/sys) and persisted in /etc/sysctl.d/zz-harden-kubelet.conf\n',
    ),
    kernel.stdout,
  );
  const directory = await runBinAsync(['profiles', 'show', 'cis-1-12', 'files.audit-log-dir']);
  assert.match(directory.stdout, '  operation  directory /var/log/apiserver (0700 root:root), created when missing\n');
  assert.ok(directory.stdout.endsWith('\nWrites, by MicroK8s version\n  1.13-1.36  /var/log/apiserver/ (mode 0700, owner root:root) when missing\n'), directory.stdout);
});

test.run();
