// Every way a node can fail to read, and every usage mistake: a one-line error naming the node path, a hint,
// exit code 1, nothing on stdout.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { realFileSystem, type FileSystem } from '../../src/effects/file-system.js';
import { runBin, runInProcess, type Run } from '../helpers/cli.js';
import { makeNode, makeTempDir } from '../helpers/node-root.js';

const ARGS = 'var/snap/microk8s/6089/args';

const node = () => makeNode({ version: '1.28' });

function assertError(run: Run, error: string, hint: string): void {
  assert.is(run.status, 1, run.stderr);
  assert.is(run.stdout, '');
  assert.is(run.stderr, `error: ${error}\nhint: ${hint}\n`);
}

test('a missing root', async () => {
  const missing = path.join(await makeTempDir(), 'nowhere');
  assertError(runBin(['--root', missing, 'inspect']), `node root ${missing} is not a directory`, 'pass --root the directory that holds the node’s filesystem (/ for this machine)');
});

test('a root without MicroK8s', async () => {
  const root = await makeTempDir();
  assertError(runBin(['--root', root, 'inspect']), '/var/snap/microk8s/current not found: MicroK8s is not installed in this root', 'check --root; on a node, `snap list microk8s` shows whether MicroK8s is installed');
});

test('a missing args dir', async () => {
  const root = await node();
  await fs.rm(path.join(root, ARGS), { recursive: true });
  assertError(runBin(['--root', root, 'inspect']), 'args dir /var/snap/microk8s/current/args not found', 'MicroK8s keeps its args files there; pass --args-dir if this node keeps them elsewhere');
});

test('an args dir replaced by a regular file is "not a directory", not "not found"', async () => {
  const root = await node();
  await fs.rm(path.join(root, ARGS), { recursive: true });
  await fs.writeFile(path.join(root, ARGS), '--read-only-port=0\n');
  assertError(runBin(['--root', root, 'inspect']), 'args dir /var/snap/microk8s/current/args is not a directory (it is a regular file)', 'MicroK8s reads its args files from this directory: move what is there aside and restore the directory from a backup or snapshot');
});

test('a dangling current link reads as no MicroK8s', async () => {
  const root = await node();
  await fs.unlink(path.join(root, 'var/snap/microk8s/current'));
  await fs.symlink('9999', path.join(root, 'var/snap/microk8s/current'));
  assertError(runBin(['--root', root, 'inspect']), '/var/snap/microk8s/current not found: MicroK8s is not installed in this root', 'check --root; on a node, `snap list microk8s` shows whether MicroK8s is installed');
});

test('an --args-dir that is not a directory', async () => {
  const root = await node();
  const file = path.join(root, ARGS, 'kubelet');
  assertError(runBin(['--root', root, '--args-dir', file, 'inspect']), `args dir ${file} is not a directory`, 'point --args-dir at the directory that holds the args files');
});

test('--args-dir inside the root is shown as a node path', async () => {
  const root = await node();
  const run = runBin(['--root', root, '--args-dir', path.join(root, ARGS), 'inspect', '--json']);
  assert.is(run.status, 0, run.stderr);
  assert.is(JSON.parse(run.stdout).argsDir, `/${ARGS}`);
});

test('an unreadable file (EACCES injected through the filesystem interface)', async () => {
  const root = await node();
  const denied: FileSystem = {
    ...realFileSystem,
    readRegularFile: async (file, maxBytes) => {
      if (file.endsWith(`${ARGS}/kubelet`)) throw Object.assign(new Error('permission denied'), { code: 'EACCES' });
      return realFileSystem.readRegularFile(file, maxBytes);
    },
  };
  assertError(await runInProcess(['--root', root, 'inspect'], denied), 'cannot read /var/snap/microk8s/current/args/kubelet (EACCES)', 'run harden as root (sudo), as MicroK8s keeps these files private');
});

test('an args file that is no longer a regular file when opened (a FIFO put there after the lstat)', async () => {
  const root = await node();
  const swapped: FileSystem = {
    ...realFileSystem,
    readRegularFile: async (file, maxBytes) => {
      if (file.endsWith(`${ARGS}/kube-proxy`)) throw Object.assign(new Error('ENOTREGULAR: a FIFO'), { code: 'ENOTREGULAR' });
      return realFileSystem.readRegularFile(file, maxBytes);
    },
  };
  assertError(
    await runInProcess(['--root', root, 'check'], swapped),
    'cannot read /var/snap/microk8s/current/args/kube-proxy: it is no longer a regular file (it changed while harden read the node)',
    'nothing else should be changing the args dir: run harden again once it is done',
  );
});

test('an I/O error while listing the args dir', async () => {
  const root = await node();
  const broken: FileSystem = {
    ...realFileSystem,
    readdir: async (dir) => {
      if (dir.endsWith(ARGS)) throw Object.assign(new Error('i/o'), { code: 'EIO' });
      return realFileSystem.readdir(dir);
    },
  };
  assertError(await runInProcess(['--root', root, 'inspect'], broken), `cannot read /${ARGS} (EIO)`, 'check the disk and the file’s permissions');
});

test('a binary file (NUL byte)', async () => {
  const root = await node();
  await fs.writeFile(path.join(root, ARGS, 'kubelet'), Buffer.from('--a=1\n\0\0\n'));
  assertError(runBin(['--root', root, 'inspect']), '/var/snap/microk8s/current/args/kubelet has a NUL byte at offset 6: it is binary, not an args file', 'restore the file from a backup or snapshot, or move it out of the args dir');
});

test('a file that is not UTF-8', async () => {
  const root = await node();
  await fs.writeFile(path.join(root, ARGS, 'kube-proxy'), Buffer.from([0x2d, 0x2d, 0xff, 0xfe, 0x0a]));
  assertError(runBin(['--root', root, 'inspect']), '/var/snap/microk8s/current/args/kube-proxy is not UTF-8 text', 'restore the file from a backup or snapshot, or move it out of the args dir');
});

test('an over-large file (over 16 MiB, sparse)', async () => {
  const root = await node();
  const file = path.join(root, ARGS, 'kube-apiserver');
  await fs.truncate(file, 16 * 1024 * 1024 + 1);
  assertError(runBin(['--root', root, 'inspect']), `/var/snap/microk8s/current/args/kube-apiserver is ${16 * 1024 * 1024 + 1} bytes, over the 16 MiB limit for an args file`, 'an args file holds a few dozen flags: restore it from a backup or snapshot');
});

test('an args file symlinked outside the args dir, absolute or relative', async () => {
  for (const target of ['/etc/passwd', '../credentials/client.config']) {
    const root = await node();
    const link = path.join(root, ARGS, 'kubelet');
    await fs.unlink(link);
    await fs.symlink(target, link);
    assertError(runBin(['--root', root, 'inspect']), `/var/snap/microk8s/current/args/kubelet is a symlink to ${target}, which leads outside the args dir`, 'replace the link with a regular file; harden never follows an args file out of the args dir');
  }
});

test('a symlink loop', async () => {
  const root = await node();
  const args = path.join(root, ARGS);
  await fs.unlink(path.join(args, 'kubelet'));
  await fs.symlink('kubelet-b', path.join(args, 'kubelet'));
  await fs.symlink('kubelet', path.join(args, 'kubelet-b'));
  const run = runBin(['--root', root, 'inspect']);
  assert.is(run.status, 1);
  assert.match(run.stderr, /^error: \/var\/snap\/microk8s\/6089\/args\/kubelet(-b)?: too many levels of symbolic links\nhint: /);
});

test('a FIFO in the args dir is listed, never read', async () => {
  const root = await node();
  const { spawnSync } = await import('node:child_process');
  spawnSync('mkfifo', [path.join(root, ARGS, 'pipe')]);
  const run = runBin(['--root', root, 'inspect', '--json']);
  assert.is(run.status, 0, run.stderr);
  assert.is(JSON.parse(run.stdout).files.find((f: any) => f.name === 'pipe').kind, 'other');
});

test('usage: --args-dir or --state-dir with several roots', async () => {
  const root = await node();
  for (const option of ['--args-dir', '--state-dir']) {
    assertError(runBin(['--root', root, '--root', '/', option, root, 'inspect']), '--args-dir and --state-dir go with a single --root', 'drop them, or run once per root');
  }
});

test('usage: unknown command, unknown option, bad choice, no command', () => {
  assertError(runBin(['inspct']), "unknown command 'inspct'", 'did you mean inspect? see harden --help');
  assertError(runBin(['inspect', '--formt', 'json']), 'unknown option --formt', 'did you mean --format? see harden inspect --help');
  assertError(runBin(['inspect', '--rooot=/']), 'unknown option --rooot', 'did you mean --root? see harden inspect --help');
  assertError(runBin(['inspect', '--format', 'yaml']), 'Invalid values: Argument: format, Given: "yaml", Choices: "text", "json"', 'see harden --help');
  assertError(runBin([]), 'name a command', 'see harden --help');
});

test('--help lists the exit codes and examples; --version prints the version', () => {
  const help = runBin(['--help']);
  assert.is(help.status, 0);
  assert.match(help.stdout, 'harden inspect');
  assert.match(help.stdout, '130  interrupted before anything was written');
  assert.match(help.stdout, '4    the automatic put-back itself failed, or a third signal left it: the node needs a person');
  const inspectHelp = runBin(['inspect', '--help']);
  assert.is(inspectHelp.status, 0);
  assert.match(inspectHelp.stdout, 'harden --root ./examples/node-1.28 inspect');
  assert.match(inspectHelp.stdout, '3    an apply or rollback failed (a write, a restart or its health gate) or was interrupted after');
  const version = runBin(['--version']);
  assert.is(version.status, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
});

test('an unexpected exception is reported as a bug, exit 1', async () => {
  const root = await node();
  // A filesystem answering with the wrong shape: not a HardenError, so it must surface as a bug.
  const buggy: FileSystem = { ...realFileSystem, stat: async () => ({}) as never };
  const run = await runInProcess(['--root', root, 'inspect'], buggy);
  assert.is(run.status, 1);
  assert.is(run.stdout, '');
  assert.match(run.stderr, 'harden: internal error (a bug): TypeError:');
  assert.match(run.stderr, 'Please report it');
});

test.run();
