// Where the node is: an --args-dir outside --root is refused alike by every command, before anything is read or
// written; a root without /etc serves every owner that is root or a number, and says plainly which file is
// missing when a name must be looked up.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBin } from '../helpers/cli.js';
import { makeNode, makeTempDir } from '../helpers/node-root.js';

const ARGS = 'var/snap/microk8s/current/args';

async function listing(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    const full = path.join(entry.parentPath, entry.name);
    const stat = await fs.lstat(full);
    out.push(`${path.relative(dir, full)} ${stat.mode.toString(8)} ${stat.uid}:${stat.gid} ${stat.isFile() ? (await fs.readFile(full)).toString('base64') : ''}`);
  }
  return out.sort();
}

test('--args-dir outside --root: every command refuses it the same way, and nothing is written', async () => {
  const root = await makeNode({ version: '1.28' });
  const outside = path.join(await makeTempDir(), 'args');
  await fs.cp(path.join(root, ARGS), outside, { recursive: true });
  const before = [await listing(root), await listing(outside)];
  const expected =
    `error: --args-dir ${outside} is outside --root ${root}\n` +
    `hint: the args dir is the node's own: name it inside the root (${root}/var/snap/microk8s/current/args by default), or copy it into the root\n`;
  for (const command of [['inspect'], ['check'], ['plan'], ['apply', '--yes', '--no-restart'], ['ports']]) {
    const run = runBin(['--root', root, '--args-dir', outside, ...command]);
    assert.is(run.status, 1, command[0]);
    assert.is(run.stdout, '', command[0]);
    assert.is(run.stderr, expected, command[0]);
  }
  // `..` that climbs out is outside too.
  const climbing = runBin(['--root', root, '--args-dir', path.join(root, '..', path.basename(path.dirname(outside)), 'args'), 'plan']);
  assert.is(climbing.status, 1);
  assert.match(climbing.stderr, /^error: --args-dir .* is outside --root /);
  assert.equal([await listing(root), await listing(outside)], before);
});

test('--args-dir inside --root, given as a host path, still plans and applies', async () => {
  const root = await makeNode({ version: '1.28' });
  const plan = runBin(['--root', root, '--args-dir', path.join(root, ARGS), 'plan', '--only', 'kube-scheduler.bind-address']);
  assert.is(plan.status, 0, plan.stderr);
  assert.ok(plan.stdout.includes('~ /var/snap/microk8s/current/args/kube-scheduler (snap.microk8s.daemon-kubelite)'), plan.stdout);
  const apply = runBin(['--root', root, '--args-dir', path.join(root, ARGS), 'apply', '--only', 'kube-scheduler.bind-address', '--yes', '--no-restart']);
  assert.is(apply.status, 0, apply.stderr);
  assert.match(await fs.readFile(path.join(root, ARGS, 'kube-scheduler'), 'utf8'), /^--bind-address=127\.0\.0\.1$/m);
});

test('a root without /etc: owners of root need no lookup; plan shows no owner change that is none, and apply applies', async () => {
  const root = await makeNode({ version: '1.28' });
  await fs.rm(path.join(root, 'etc'), { recursive: true });
  const plan = runBin(['--root', root, 'plan', '--profile', 'cis', '--only', 'files.pki-ownership,files.apiserver-args,files.cis-hardening-lock']);
  assert.is(plan.status, 0, plan.stderr);
  // The certs directory is 0:0 already: root:root, not "owner 0:0 -> root:root".
  assert.not.match(plan.stdout, /certs: .*owner/);
  assert.ok(plan.stdout.includes('~ /var/snap/microk8s/6089/args/kube-apiserver: mode 0660 -> 0640, owner root:998 -> root:root'), plan.stdout);
  const apply = runBin(['--root', root, 'apply', '--profile', 'cis', '--only', 'files.pki-ownership,files.apiserver-args,files.cis-hardening-lock', '--yes', '--no-restart']);
  assert.is(apply.status, 0, apply.stderr);
  const stat = await fs.stat(path.join(root, ARGS, 'kube-apiserver'));
  assert.equal([stat.mode & 0o7777, stat.uid, stat.gid], [0o640, 0, 0]);
});

test.run();
