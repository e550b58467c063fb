// The prerequisites at apply's checklist, in a real pseudo-terminal (test/helpers/terminal.ts): the audit log
// directory and the kubelet's kernel parameters are a group of their own; declining the kernel parameters
// rebuilds the plan with --protect-kernel-defaults blocked, naming the declined rule; accepting then applies
// the rest, and the kernel parameters are left as they were (no sysctl.d file, /proc/sys unchanged).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeLiveNode, readTree, treeDiff, type LiveNode } from '../helpers/live-node.js';
import { harden } from '../helpers/terminal.js';

const FAST = ['--health-timeout', '10', '--health-window', '1'];
const RULES = 'kubelet.kernel-parameters,kubelet.protect-kernel-defaults,files.audit-log-dir,apiserver.audit-log-path,apiserver.audit-policy-file,files.audit-policy';
const ONLY = ['--profile', 'cis', '--only', RULES];
const SIZE = { rows: 60, columns: 160 };
const PLAN_HEADER = 'Plan for profile cis';

const nodes: LiveNode[] = [];
test.after(async () => {
  for (const node of nodes.splice(0)) await node.close();
});
/** A live 1.28 node on an Ubuntu host layout: /var/log, proc/sys at Ubuntu's values, sysctl.d. */
async function hostNode(): Promise<LiveNode> {
  const node = await makeLiveNode({ version: '1.28', host: {} });
  nodes.push(node);
  return node;
}

const count = (text: string, part: string) => text.split(part).length - 1;
/** The lines of `screen` from the first one starting with `first` up to (not including) the first after it starting with `end`. */
function linesBetween(screen: string, first: string, end: string, from = 0): string[] {
  const lines = screen.split('\n');
  const start = lines.findIndex((line, i) => i >= from && line.startsWith(first));
  assert.ok(start >= 0, `no line starting ${first} in:\n${screen}`);
  const stop = lines.findIndex((line, i) => i > start && line.startsWith(end));
  assert.ok(stop > start, `no line starting ${end} after ${first} in:\n${screen}`);
  return lines.slice(start, stop);
}

const CHECKLIST = [
  '? Changes to make (space toggles, enter accepts)',
  ' /var/snap/microk8s/current/args/kube-apiserver',
  '❯◉ apiserver.audit-log-path: --audit-log-path must be /var/log/apiserver/audit.log (or any value)',
  ' ◉ apiserver.audit-policy-file: --audit-policy-file must be ${SNAP_DATA}/args/audit-policy.yaml (or any value)',
  ' /var/snap/microk8s/current/args/kubelet',
  ' ◉ kubelet.protect-kernel-defaults: --protect-kernel-defaults must be true, found false',
  ' /var/snap/microk8s/6089/args/audit-policy.yaml',
  ' ◉ files.audit-policy: /var/snap/microk8s/6089/args/audit-policy.yaml does not exist',
  ' prerequisites (declining one blocks the rules that need it)',
  ' ◉ files.audit-log-dir: /var/log/apiserver does not exist: harden creates it (mode 0700 or stricter, owner root:root)',
  ' ◉ kubelet.kernel-parameters: vm.overcommit_memory must be 1: running 0, persisted nowhere; vm.panic_on_oom must be 0: running 0, persisted nowhere;',
  'kernel.panic must be 10: running 0, persisted nowhere; kernel.panic_on_oops must be 1: running 0, persisted nowhere; kernel.keys.root_maxkeys must be 1000000:',
  'running 1000000, persisted nowhere; kernel.keys.root_maxbytes must be 25000000: running 25000000, persisted nowhere; persisted means set at boot by',
  'systemd-sysctl from /etc/sysctl.d, /run/sysctl.d, /usr/local/lib/sysctl.d, /usr/lib/sysctl.d',
  '',
];

test('the checklist shows the audit log directory and the kernel parameters as a group of prerequisites', async () => {
  const n = await hostNode();
  const terminal = harden(['--root', n.root, 'apply', ...ONLY, ...FAST], { env: n.env, ...SIZE });
  try {
    const screen = await terminal.waitFor('Changes to make');
    assert.equal(linesBetween(screen, '? Changes to make', 'risk: '), CHECKLIST);
    // The plan above it lists both under Prerequisites.
    assert.equal(linesBetween(screen, 'Prerequisites:', '~ vm.overcommit_memory'), [
      'Prerequisites:',
      '+ /var/log/apiserver/ (directory 0700 root:root)',
      '    # files.audit-log-dir',
      '+ /etc/sysctl.d/zz-harden-kubelet.conf (0644 root:root)',
      '    + # Written by harden for rule kubelet.kernel-parameters: applied at every boot by systemd-sysctl.',
      '    + # harden rollback removes it; edit the profile, not this file.',
      '    + vm.overcommit_memory = 1',
      '    + vm.panic_on_oom = 0',
      '    + kernel.panic = 10',
      '    + kernel.panic_on_oops = 1',
      '    + kernel.keys.root_maxkeys = 1000000',
      '    + kernel.keys.root_maxbytes = 25000000',
    ]);
    terminal.keys('C-c');
    assert.is(await terminal.exited(), 130, terminal.screen());
  } finally {
    terminal.close();
  }
});

test('declining kubelet.kernel-parameters blocks --protect-kernel-defaults, naming it; yes applies the rest and leaves the kernel parameters alone', async () => {
  const n = await hostNode();
  const procBefore = await readTree(path.join(n.root, 'proc'), []);
  const sysctlBefore = await readTree(path.join(n.root, 'etc/sysctl.d'), []);
  const kubeletBefore = await fs.readFile(n.args('kubelet'), 'utf8');
  const terminal = harden(['--root', n.root, 'apply', ...ONLY, ...FAST], { env: n.env, ...SIZE });
  try {
    await terminal.waitFor('Changes to make');
    // The kernel parameters are the sixth and last choice.
    terminal.keys('Down', 'Down', 'Down', 'Down', 'Down', 'Space');
    await terminal.waitFor('❯◯ kubelet.kernel-parameters: ');
    terminal.keys('Enter');
    const asked = await terminal.waitFor('Apply these changes?');
    assert.is(count(asked, PLAN_HEADER), 2, asked);
    const lines = asked.split('\n');
    const rebuilt = lines.findIndex((line, i) => i > 0 && line.startsWith(PLAN_HEADER) && lines.slice(0, i).some((l) => l.startsWith('✔ Changes to make')));
    assert.ok(rebuilt > 0, asked);
    // The rebuilt plan: the directory alone as a prerequisite, the kubelet's flag blocked by the declined rule.
    assert.equal(linesBetween(asked, 'Prerequisites:', 'Risks:', rebuilt), ['Prerequisites:', '+ /var/log/apiserver/ (directory 0700 root:root)', '    # files.audit-log-dir', '']);
    assert.equal(linesBetween(asked, 'Blocked', 'Warnings:', rebuilt), [
      'Blocked (harden will not change these until what they need is in place):',
      '  kubelet.protect-kernel-defaults: --protect-kernel-defaults must be true, found false; blocked: needs rule kubelet.kernel-parameters, which is not selected (the kubelet exits at start when one of them differs, and a value not persisted is lost at the next reboot)',
      '',
    ]);
    assert.is(count(lines.slice(rebuilt).join('\n'), 'zz-harden-kubelet.conf'), 0, asked);
    assert.is(count(lines.slice(rebuilt).join('\n'), 'running:'), 0, asked);
    assert.equal(lines.slice(-3), [
      'Plan: 4 to add, 0 to change, 0 to remove in 3 files; restarts: snap.microk8s.daemon-kubelite.',
      'Left after it: 1 rule blocked, 0 manual.',
      '? Apply these changes? (y/N)',
    ]);
    terminal.type('y');
    terminal.keys('Enter');
    assert.is(await terminal.exited(), 0, terminal.screen());
    const id = (await fs.readdir(path.join(n.stateDir, 'snapshots')))[0];
    assert.equal(terminal.screen().split('\n').slice(-7), [
      '✔ Apply these changes? Yes',
      `Snapshot ${id} in ${n.stateDir}/snapshots/${id}`,
      'Wrote 2 files, created 1 directory.',
      'Restarting snap.microk8s.daemon-kubelite',
      'after: waiting for snap.microk8s.daemon-kubelite to stay up 1s — 0s of 10s',
      'Applied and verified: 4 rules now pass.',
      `Undo with: harden --root ${n.root} rollback ${id}`,
    ]);
  } finally {
    terminal.close();
  }
  // The kernel parameters: no file under sysctl.d, /proc/sys as it was; the kubelet's flag not written.
  assert.equal(treeDiff(procBefore, await readTree(path.join(n.root, 'proc'), [])), []);
  assert.equal(treeDiff(sysctlBefore, await readTree(path.join(n.root, 'etc/sysctl.d'), [])), []);
  assert.is(await fs.lstat(path.join(n.root, 'etc/sysctl.d/zz-harden-kubelet.conf')).then(() => 'there', (error: NodeJS.ErrnoException) => error.code), 'ENOENT');
  assert.is(await fs.readFile(path.join(n.root, 'proc/sys/kernel/panic'), 'utf8'), '0\n');
  assert.is(await fs.readFile(n.args('kubelet'), 'utf8'), kubeletBefore);
  // The directory: made 0700 root:root, empty.
  const dir = await fs.lstat(path.join(n.root, 'var/log/apiserver'));
  assert.equal([dir.isDirectory(), (dir.mode & 0o7777).toString(8), dir.uid, dir.gid], [true, '700', 0, 0]);
  assert.equal(await fs.readdir(path.join(n.root, 'var/log/apiserver')), []);
});

test.run();
