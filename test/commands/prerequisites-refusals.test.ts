// The prerequisites meet links and things in the way, on an Ubuntu host layout: harden never creates the audit
// log directory through a link, never writes its sysctl.d file over a link or a FIFO (nor hangs reading one),
// and never writes a running kernel parameter through a link; each refusal leaves the node as it was.
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runInProcessWith, type Run } from '../helpers/cli.js';
import { readTree, treeDiff } from '../helpers/live-node.js';
import { makeNode, makeTempDir } from '../helpers/node-root.js';

const ONLY = ['--profile', 'cis', '--only', 'files.audit-log-dir,kubelet.kernel-parameters'];
const SYSCTL_FILE = '/etc/sysctl.d/zz-harden-kubelet.conf';

const hostNode = () => makeNode({ version: '1.28', host: {} });
const bin = (root: string, ...words: string[]): Promise<Run> => runInProcessWith(['--root', root, ...words]);

/** The lines of a check report from `[STATUS] ... rule` to the next blank or `[` line. */
function checkBlock(stdout: string, rule: string): string[] {
  const lines = stdout.split('\n');
  const start = lines.findIndex((line) => line.startsWith('[') && line.trimEnd().endsWith(` ${rule}`));
  assert.ok(start >= 0, stdout);
  const end = lines.findIndex((line, i) => i > start && (line === '' || line.startsWith('[')));
  return lines.slice(start, end).map((line) => line.trim());
}

/** plan and apply both refuse with `message` (exit 1), and the node, state dir included, is byte for byte as it was. */
async function refusedUntouched(root: string, message: string, rule: string): Promise<void> {
  const before = await readTree(root, []);
  const plan = await bin(root, 'plan', ...ONLY);
  assert.equal([plan.status, plan.stdout, plan.stderr], [1, '', `error: plan refused: rule ${rule}: ${message}\nhint: nothing was written; fix what is named, or leave a rule out with --skip RULE (${rule})\n`]);
  const apply = await bin(root, 'apply', '--yes', '--no-restart', ...ONLY);
  assert.equal([apply.status, apply.stdout, apply.stderr], [1, '', `error: plan refused: rule ${rule}: ${message}\nhint: nothing was written; fix what is named, or leave a rule out with --skip RULE\n`]);
  assert.equal(treeDiff(before, await readTree(root, [])), []);
}

test('/var/log/apiserver a symlink out of the root: check fails the rule naming the link; plan and apply refuse, nothing written', async () => {
  const root = await hostNode();
  const elsewhere = await makeTempDir('harden-elsewhere-');
  await fs.symlink(elsewhere, path.join(root, 'var/log/apiserver'));
  const check = await bin(root, 'check', ...ONLY);
  assert.is(check.status, 2, check.stderr);
  assert.equal(checkBlock(check.stdout, 'files.audit-log-dir').slice(0, 3), [
    '[FAIL]           medium    files.audit-log-dir',
    'Create the audit log directory, root-only',
    `found: symlink to ${elsewhere}; /var/log/apiserver: a symlink to ${elsewhere}, never followed: remove it`,
  ]);
  await refusedUntouched(root, `/var/log/apiserver: a symlink to ${elsewhere}, never followed: remove it`, 'files.audit-log-dir');
  assert.equal(await fs.readdir(elsewhere), []);
});

test('/var/log a symlink inside the root: the directory rule is blocked (harden will not create it there), and nothing is made', async () => {
  const root = await hostNode();
  await fs.mkdir(path.join(root, 'srv/logs'), { recursive: true });
  await fs.rmdir(path.join(root, 'var/log'));
  await fs.symlink('../srv/logs', path.join(root, 'var/log'));
  const reason = '/var/log/apiserver does not exist, and harden will not create it in /var/log: a symlink to ../srv/logs, never followed: remove it';
  const check = await bin(root, 'check', ...ONLY);
  assert.is(check.status, 2, check.stderr);
  assert.equal(checkBlock(check.stdout, 'files.audit-log-dir'), ['[BLOCKED]        medium    files.audit-log-dir', 'Create the audit log directory, root-only', `found: absent; ${reason}`]);
  const plan = await bin(root, 'plan', ...ONLY);
  assert.is(plan.status, 0, plan.stderr);
  const lines = plan.stdout.split('\n');
  const blocked = lines.indexOf('Blocked (harden will not change these until what they need is in place):');
  assert.equal(lines.slice(blocked, blocked + 3), ['Blocked (harden will not change these until what they need is in place):', `  files.audit-log-dir: ${reason}`, '']);
  assert.not.match(plan.stdout, '/var/log/apiserver/ (directory');
  // Applied, only the kernel parameters change: nothing appears under the link's target.
  const apply = await bin(root, 'apply', '--yes', '--no-restart', ...ONLY);
  assert.is(apply.status, 0, apply.stderr);
  assert.match(apply.stdout, '\nWrote 1 file, set 3 running kernel parameters.\n');
  assert.equal(await fs.readdir(path.join(root, 'srv/logs')), []);
});

test(`${SYSCTL_FILE} a symlink: plan and apply refuse naming it, nothing written`, async () => {
  const root = await hostNode();
  await fs.writeFile(path.join(root, 'etc/other.conf'), 'kernel.panic = 10\n');
  await fs.symlink('../other.conf', path.join(root, SYSCTL_FILE));
  await refusedUntouched(root, `${SYSCTL_FILE} is a symlink to ../other.conf: harden never writes through a link nor over something else; remove it`, 'kubelet.kernel-parameters');
  assert.is(await fs.readFile(path.join(root, 'etc/other.conf'), 'utf8'), 'kernel.panic = 10\n');
});

test(`${SYSCTL_FILE} a FIFO: check, plan and apply do not hang on it; plan and apply refuse naming it, nothing written`, async () => {
  const root = await hostNode();
  execFileSync('mkfifo', [path.join(root, SYSCTL_FILE)]);
  const check = await bin(root, 'check', ...ONLY);
  assert.is(check.status, 2, check.stderr);
  assert.match(checkBlock(check.stdout, 'kubelet.kernel-parameters')[2], /^found: 6 of 6 not running or not persisted; /);
  await refusedUntouched(root, `${SYSCTL_FILE} is not a regular file or a directory: harden never writes through a link nor over something else; remove it`, 'kubelet.kernel-parameters');
  assert.ok((await fs.lstat(path.join(root, SYSCTL_FILE))).isFIFO());
});

test('/proc/sys/kernel/panic a symlink to a root file: apply refuses that write before any change, and nothing changes', async () => {
  const root = await hostNode();
  const panic = path.join(root, 'proc/sys/kernel/panic');
  await fs.rm(panic);
  await fs.writeFile(path.join(root, 'etc/panic-target'), '0\n');
  await fs.symlink('../../../etc/panic-target', panic);
  const before = await readTree(root);
  const apply = await bin(root, 'apply', '--yes', '--no-restart', ...ONLY);
  assert.is(apply.status, 1, apply.stdout);
  assert.is(apply.stderr, 'error: cannot set kernel.panic: /proc/sys/kernel/panic is not a regular file; nothing was changed\nhint: the node changed since the plan was made: run harden plan again\n');
  assert.equal(treeDiff(before, await readTree(root)), []);
  assert.is(await fs.readFile(path.join(root, 'etc/panic-target'), 'utf8'), '0\n');
  // No snapshot stands for it: drift has nothing to compare.
  assert.equal(await fs.readdir(path.join(root, 'var/lib/harden/snapshots')).catch(() => []), []);
});

test.run();
