// File-mode and companion-file rules on a node where someone who can write a directory MicroK8s opens to its
// group has planted links: harden names them and never follows them, acts only on the regular files and
// directories that are themselves where a rule looks, and refuses a saved plan whose modes, owners or inodes
// moved. Run as root, with real links to real files, whose mode and owner are compared before and after.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { realFileOps, type FileOps } from '../../src/effects/file-ops.js';
import { runInProcessWith } from '../helpers/cli.js';
import { DEFAULT_REVISIONS, makeNode, makeTempDir, MICROK8S_GID } from '../helpers/node-root.js';

const asRoot = process.getuid?.() === 0;
const REV = DEFAULT_REVISIONS['1.28'];
const CERTS = `/var/snap/microk8s/${REV}/certs`;
const PKI = ['--profile', 'cis', '--only', 'files.pki-ownership,files.pki-certificates,files.pki-keys,files.cis-hardening-lock'];

/** mode, uid and gid of a host path, without following a link there. */
async function meta(file: string): Promise<[string, number, number]> {
  const stat = await fs.lstat(file);
  return [(stat.mode & 0o7777).toString(8), stat.uid, stat.gid];
}

/** A 1.28 node with `<root>/etc/shadow` (0640 root:nogroup) and a file outside the root (0644 nobody:nogroup). */
async function nodeWithSecrets(): Promise<{ root: string; shadow: string; outside: string }> {
  const root = await makeNode({ version: '1.28' });
  const shadow = path.join(root, 'etc/shadow');
  await fs.writeFile(shadow, 'root:*:19000:0:99999:7:::\n');
  await fs.chmod(shadow, 0o640);
  await fs.chown(shadow, 0, 65534);
  const outside = path.join(await makeTempDir('harden-outside-'), 'precious');
  await fs.writeFile(outside, 'not harden\'s\n');
  await fs.chmod(outside, 0o644);
  await fs.chown(outside, 65534, 65534);
  return { root, shadow, outside };
}

const certs = (root: string, name = '') => path.join(root, CERTS, name);

if (asRoot) {
  test('a symlink in certs/ is named by check and refuses apply; neither what it points to nor the rest changes', async () => {
    const { root, shadow, outside } = await nodeWithSecrets();
    await fs.symlink('/etc/shadow', certs(root, 'a-evil.crt'));
    await fs.symlink(outside, certs(root, 'a-far.key'));
    const before = [await meta(shadow), await meta(outside), await meta(certs(root, 'ca.crt'))];

    const check = await runInProcessWith(['--root', root, 'check', ...PKI, '--format', 'json']);
    assert.is(check.status, 2, check.stderr);
    const reasons = Object.fromEntries((JSON.parse(check.stdout) as { results: { id: string; reason: string }[] }).results.map((r) => [r.id, r.reason]));
    assert.match(reasons['files.pki-certificates'], `${CERTS}/a-evil.crt: a symlink to /etc/shadow, never followed: remove it`);
    assert.match(reasons['files.pki-keys'], `${CERTS}/a-far.key: a symlink to ${outside}, never followed: remove it`);

    const run = await runInProcessWith(['--root', root, 'apply', ...PKI, '--yes']);
    assert.is(run.status, 1);
    assert.is(run.stdout, '');
    assert.is(
      run.stderr,
      [
        `error: plan refused: rule files.pki-ownership: ${CERTS}/a-evil.crt: a symlink to /etc/shadow, never followed: remove it`,
        `error: plan refused: rule files.pki-ownership: ${CERTS}/a-far.key: a symlink to ${outside}, never followed: remove it`,
        `error: plan refused: rule files.pki-certificates: ${CERTS}/a-evil.crt: a symlink to /etc/shadow, never followed: remove it`,
        `error: plan refused: rule files.pki-keys: ${CERTS}/a-far.key: a symlink to ${outside}, never followed: remove it`,
        'hint: nothing was written; fix what is named, or leave a rule out with --skip RULE',
        '',
      ].join('\n'),
    );
    assert.equal([await meta(shadow), await meta(outside), await meta(certs(root, 'ca.crt'))], before);
    assert.is(await fs.readlink(certs(root, 'a-evil.crt')), '/etc/shadow');
  });

  test('a certs/ directory that is itself a symlink is not looked into', async () => {
    const { root, shadow } = await nodeWithSecrets();
    const elsewhere = path.join(root, 'etc/pki');
    await fs.rename(certs(root), elsewhere);
    await fs.symlink('/etc/pki', certs(root));
    const before = [await meta(shadow), await meta(path.join(elsewhere, 'ca.crt'))];
    const run = await runInProcessWith(['--root', root, 'apply', ...PKI, '--yes']);
    assert.is(run.status, 1);
    assert.is(
      run.stderr,
      [
        `error: plan refused: rule files.pki-ownership: ${CERTS}: a symlink to /etc/pki, never followed: remove it`,
        `error: plan refused: rule files.pki-certificates: ${CERTS}: a symlink to /etc/pki, never followed: remove it`,
        `error: plan refused: rule files.pki-keys: ${CERTS}: a symlink to /etc/pki, never followed: remove it`,
        'hint: nothing was written; fix what is named, or leave a rule out with --skip RULE',
        '',
      ].join('\n'),
    );
    assert.equal([await meta(shadow), await meta(path.join(elsewhere, 'ca.crt'))], before);
  });

  test('a hard link in certs/ to a file elsewhere is refused, and the file it shares keeps its mode and owner', async () => {
    const { root, shadow } = await nodeWithSecrets();
    await fs.link(shadow, certs(root, 'hard.crt'));
    const before = await meta(shadow);
    const run = await runInProcessWith(['--root', root, 'apply', ...PKI, '--yes']);
    assert.is(run.status, 1);
    assert.is(
      run.stderr,
      [
        `error: plan refused: rule files.pki-ownership: ${CERTS}/hard.crt: 2 hard links: another name shares this file`,
        `error: plan refused: rule files.pki-certificates: ${CERTS}/hard.crt: 2 hard links: another name shares this file`,
        'hint: nothing was written; fix what is named, or leave a rule out with --skip RULE',
        '',
      ].join('\n'),
    );
    assert.equal(await meta(shadow), before);
  });

  test('a certificate swapped for a symlink after the plan is never written through: the change stops there', async () => {
    const { root, shadow } = await nodeWithSecrets();
    const first = certs(root, 'apiserver-kubelet-client.crt');
    const before = await meta(shadow);
    let swapped = false;
    // Between harden's last look and its write, the certificate becomes a link to /etc/shadow: on the first
    // change of its mode or owner, whichever call makes it.
    const swap = async (file: string) => {
      if (swapped || file !== first) return;
      swapped = true;
      await fs.unlink(first);
      await fs.symlink('/etc/shadow', first);
    };
    const ops = {
      ...realFileOps,
      chown: async (file: string, uid: number, gid: number) => {
        await swap(file);
        return realFileOps.chown(file, uid, gid);
      },
      chmod: async (file: string, mode: number) => {
        await swap(file);
        return realFileOps.chmod(file, mode);
      },
      setOwnerAndMode: async (file: string, change: Parameters<FileOps['setOwnerAndMode']>[1]) => {
        await swap(file);
        return realFileOps.setOwnerAndMode(file, change);
      },
    } as FileOps;
    const run = await runInProcessWith(['--root', root, 'apply', ...PKI, '--yes'], { change: { ops } });
    assert.ok(swapped, 'the link was planted');
    assert.equal(await meta(shadow), before, '/etc/shadow keeps its mode and owner');
    assert.is(run.status, 4, run.stderr);
    const [first_line] = run.stderr.split('\n');
    assert.is(
      first_line,
      `error: a write failed (cannot change ${CERTS}/apiserver-kubelet-client.crt: it is a symlink (to /etc/shadow), and harden never writes through one) and putting the files back failed too: ${CERTS}/apiserver-kubelet-client.crt (mode 0660, owner root:microk8s): cannot change ${CERTS}/apiserver-kubelet-client.crt: it is a symlink (to /etc/shadow), and harden never writes through one`,
    );
  });

  test('a companion file is never created through a dangling symlink', async () => {
    const { root } = await nodeWithSecrets();
    await fs.mkdir(path.join(root, 'etc/cron.d'));
    const lock = path.join(root, `var/snap/microk8s/${REV}/var/lock/cis-hardening`);
    await fs.symlink('/etc/cron.d/harden', lock);
    const run = await runInProcessWith(['--root', root, 'apply', '--profile', 'cis', '--only', 'files.cis-hardening-lock', '--yes']);
    assert.is(run.status, 1);
    assert.is(
      run.stderr,
      `error: plan refused: rule files.cis-hardening-lock: /var/snap/microk8s/${REV}/var/lock/cis-hardening is a symlink to /etc/cron.d/harden: harden never writes through a link nor over something else; remove it\n` +
        'hint: nothing was written; fix what is named, or leave a rule out with --skip RULE\n',
    );
    assert.equal(await fs.readdir(path.join(root, 'etc/cron.d')), []);
  });

  test('rollback --force never removes what a link planted over a created file points to', async () => {
    const { root, shadow } = await nodeWithSecrets();
    const applied = await runInProcessWith(['--root', root, 'apply', '--profile', 'cis', '--only', 'files.cis-hardening-lock', '--yes']);
    assert.is(applied.status, 0, applied.stderr);
    const lock = path.join(root, `var/snap/microk8s/${REV}/var/lock/cis-hardening`);
    await fs.unlink(lock);
    await fs.symlink('/etc/shadow', lock);
    const run = await runInProcessWith(['--root', root, 'rollback', '--yes', '--force']);
    assert.not.equal(run.status, 0);
    assert.match(run.stderr, `cannot write /var/snap/microk8s/${REV}/var/lock/cis-hardening: it is not a regular file`);
    assert.ok(await fs.lstat(shadow).then((stat) => stat.isFile()), '/etc/shadow is still there');
  });

  test('rollback names a certificate that became a symlink since the apply; --force leaves it and what it points to alone', async () => {
    const { root, shadow } = await nodeWithSecrets();
    const applied = await runInProcessWith(['--root', root, 'apply', '--profile', 'cis', '--only', 'files.pki-certificates,files.cis-hardening-lock', '--yes']);
    assert.is(applied.status, 0, applied.stderr);
    const ca = certs(root, 'ca.crt');
    await fs.rename(ca, `${ca}.moved`);
    await fs.symlink('/etc/shadow', ca);
    const before = await meta(shadow);
    const refused = await runInProcessWith(['--root', root, 'rollback', '--yes']);
    assert.is(refused.status, 1);
    assert.match(refused.stderr, `error: will not roll back`);
    assert.match(refused.stderr, `${CERTS}/ca.crt is a symlink now`);
    const forced = await runInProcessWith(['--root', root, 'rollback', '--yes', '--force']);
    assert.is(forced.status, 0, forced.stderr);
    assert.match(forced.stdout, `Left as it is (--force): ${CERTS}/ca.crt, whose mode and owner are not restored`);
    assert.equal(await meta(shadow), before, '/etc/shadow keeps its mode and owner');
    assert.equal(await meta(certs(root, 'server.crt')), ['660', 0, MICROK8S_GID], 'the other certificates are back');
  });

  test('apply PLAN refuses when a mode, an owner or an inode file-mode rules planned from changed', async () => {
    const only = ['--profile', 'cis', '--only', 'files.pki-certificates,files.cis-hardening-lock'];
    const cases: [string, (file: string) => Promise<void>, string][] = [
      ['mode', (file) => fs.chmod(file, 0o640), 'file 0660 root:microk8s when planned, file 0640 root:microk8s now'],
      ['owner', (file) => fs.chown(file, 0, 0), 'file 0660 root:microk8s when planned, file 0660 root:root now'],
      [
        'inode',
        async (file) => {
          await fs.copyFile(file, `${file}.new`);
          await fs.chmod(`${file}.new`, 0o660);
          await fs.chown(`${file}.new`, 0, MICROK8S_GID);
          await fs.rename(`${file}.new`, file);
        },
        'replaced by another file',
      ],
    ];
    for (const [what, change, shown] of cases) {
      const { root } = await nodeWithSecrets();
      const plan = path.join(await makeTempDir('harden-plan-'), 'plan.json');
      const made = await runInProcessWith(['--root', root, 'plan', ...only, '--out', plan]);
      assert.is(made.status, 0, made.stderr);
      await change(certs(root, 'ca.crt'));
      const before = await meta(certs(root, 'ca.crt'));
      const run = await runInProcessWith(['--root', root, 'apply', plan, '--yes']);
      assert.is(run.status, 1, what);
      assert.is(
        run.stderr,
        `error: the node changed since the plan was made: ${CERTS}/ca.crt (${shown})\nhint: make a new plan with harden plan --out, review it, and apply that\n`,
        what,
      );
      assert.equal(await meta(certs(root, 'ca.crt')), before, `${what}: nothing written`);
    }
  });
} else {
  test('file-mode link tests need root', () => {
    console.warn('skipped: test/security/file-modes.test.ts runs as root only');
  });
}

test.run();
