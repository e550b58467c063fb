// The bad-input catalogue: every way a user can hand harden something wrong, each with the command as typed,
// the exact exit code and output, and what may change on disk (nothing, unless `changes` says otherwise).
// test/catalogue/bad-input.test.ts runs every case and renders docs/bad-input.md from the real results.
//
// Placeholders in argv and in the expected text: <root> the node root, <tmp> a directory outside the node
// for profiles and saved plans, <pid> a process id, <id> a snapshot id.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { realFileOps, type FileOps } from '../../src/effects/file-ops.js';
import { realFileSystem, type FileSystem } from '../../src/effects/file-system.js';
import { Interrupted, type Prompt } from '../../src/effects/prompt.js';
import { runInProcessWith } from '../helpers/cli.js';
import type { Box, Injection } from './sandbox.js';

export interface Expected {
  readonly status: number;
  /** Exactly, with placeholders: the `error:` line(s) and the `hint:` line. */
  readonly stderr: string;
  /** Exactly; empty unless the refusal prints something worth reading. */
  readonly stdout?: string;
  /** The only differences the run may leave in the digest of the whole temp tree. */
  readonly changes?: readonly string[];
}

export interface CatalogueCase {
  /** Stable, kebab-case; the doc's anchor. */
  readonly id: string;
  readonly group: string;
  /** What is wrong, in one line. */
  readonly what: string;
  /** The offending input, shown in the doc (a profile line, a file's bytes). */
  readonly input?: string;
  /** The command as typed (after `harden`). */
  readonly argv: readonly string[];
  /** Set when the fault is injected through an interface (the run is then in-process): what is injected. */
  readonly injected?: string;
  /** Run through the real bin/harden.cjs in a child process (one case of each kind; the rest run main() in-process). */
  readonly bin?: boolean;
  readonly setup?: (box: Box) => Promise<Injection | void>;
  readonly expect: Expected;
}

// ---- profile texts -------------------------------------------------------------------------------------

const HEAD = 'apiVersion: harden/v1\nkind: Profile\nname: mine\ntitle: My rules\nrules:\n';
const RULE_START = '  - id: kubelet.hostname\n    title: Pin the node name\n    rationale: Keep the name the node registers with\n';
/** A set-flag rule on the kubelet with this value (as YAML). Its `value:` is on line 13. */
const valueRule = (value: string) => `${HEAD}${RULE_START}    severity: low\n    component: kubelet\n    operation: set-flag\n    flag: --hostname-override\n    value: ${value}\n`;

const profileCase = (id: string, what: string, text: string, input: string, stderr: string): CatalogueCase => ({
  id,
  group: 'Profiles',
  what,
  input,
  argv: ['--root', '<root>', 'plan', '--profile', '<tmp>/mine.yaml'],
  setup: async (box) => {
    await box.node();
    await box.file('mine.yaml', text);
  },
  expect: { status: 1, stderr },
});

const VALUE_ERROR = (line: number) =>
  `error: <tmp>/mine.yaml:${line}: rule kubelet.hostname: value: a value may not carry a newline, quote, space, backtick, shell metacharacter or $ (other than \${SNAP}, \${SNAP_DATA}, \${SNAP_COMMON})\nhint: fix the profile; profiles/schema.json describes the format\n`;
const valueCase = (id: string, what: string, yamlValue: string): CatalogueCase => profileCase(id, what, valueRule(yamlValue), `value: ${yamlValue}`, VALUE_ERROR(13));

// ---- node faults -----------------------------------------------------------------------------------------

const planCase = (id: string, what: string, setup: (box: Box) => Promise<Injection | void>, stderr: string, extra: Partial<CatalogueCase> = {}): CatalogueCase => ({
  id,
  group: 'The node',
  what,
  argv: ['--root', '<root>', 'plan'],
  setup,
  expect: { status: 1, stderr },
  ...extra,
});

const errno = (code: string, message: string) => Object.assign(new Error(`${code}: ${message}`), { code });

/** A FileSystem whose `method` fails with `code` on paths ending in `suffix`. */
function failingFs(method: 'readFile' | 'readdir', suffix: string, code: string): FileSystem {
  return {
    ...realFileSystem,
    [method]: async (file: string) => {
      if (file.endsWith(suffix)) throw errno(code, `injected, ${method} ${file}`);
      return (realFileSystem[method] as (p: string) => Promise<unknown>)(file);
    },
  } as FileSystem;
}

async function relink(link: string, target: string): Promise<void> {
  await fs.unlink(link);
  await fs.symlink(target, link);
}

// ---- state: an earlier apply, locks, prompts ---------------------------------------------------------------

/** A plain node on which `harden apply --yes --no-restart` already changed one file: a snapshot to roll back. */
async function appliedNode(box: Box): Promise<string> {
  await box.node();
  const run = await runInProcessWith(['--root', box.root, 'apply', '--only', 'kube-scheduler.bind-address', '--yes', '--no-restart']);
  if (run.status !== 0) throw new Error(`setup apply failed: ${run.stderr}`);
  const [id] = await box.snapshotIds();
  return id;
}

/** A plan saved with `harden plan --out <tmp>/plan.json`. */
async function savedPlan(box: Box): Promise<string> {
  const file = path.join(box.tmp, 'plan.json');
  const run = await runInProcessWith(['--root', box.root, 'plan', '--out', file]);
  if (run.status !== 0) throw new Error(`setup plan --out failed: ${run.stderr}`);
  return file;
}

const bootId = () => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

async function writeLock(box: Box, pid: number): Promise<void> {
  await fs.mkdir(box.stateDir, { mode: 0o700 });
  await fs.writeFile(path.join(box.stateDir, 'lock'), `${JSON.stringify({ pid, startedAt: '2026-01-01T00:00:00.000Z', bootId: bootId() })}\n`, { mode: 0o600 });
  box.name(String(pid), '<pid>');
}

/** A prompt that keeps every change and answers the confirm with `answer`, or is interrupted (Ctrl-C). */
function answering(answer: boolean | 'ctrl-c', at: 'choose' | 'confirm' = 'confirm'): Prompt {
  return {
    async choose(_message, groups) {
      if (answer === 'ctrl-c' && at === 'choose') throw new Interrupted();
      return groups.flatMap((group) => group.choices.map((choice) => choice.value));
    },
    async confirm() {
      if (answer === 'ctrl-c') throw new Interrupted();
      return answer;
    },
  };
}

/** FileOps that fail `mkdir` of harden's state dir with `code`. */
function stateDirFails(box: Box, code: string): FileOps {
  return {
    ...realFileOps,
    mkdir: async (dir, mode) => {
      if (dir === box.stateDir) throw errno(code, `injected, mkdir ${dir}`);
      return realFileOps.mkdir(dir, mode);
    },
  };
}

const GATE = ['--health-window', '0'];

/** Real file ops that show the id of a snapshot the run makes as `<id>`, even when the run removes it again. */
function namingSnapshots(box: Box): FileOps {
  return {
    ...realFileOps,
    mkdir: async (dir, mode) => {
      if (path.dirname(dir) === path.join(box.stateDir, 'snapshots')) box.name(path.basename(dir), '<id>');
      return realFileOps.mkdir(dir, mode);
    },
  };
}
const NO_TERMINAL = 'error: no terminal to confirm the changes: nothing was written\nhint: run it in a terminal, or pass --yes\n';

/** The plan text apply shows for `--only kube-scheduler.bind-address` on a live 1.28 node. */
const SCHEDULER_PLAN = `Plan for profile baseline on <root> (MicroK8s 1.28.0)

Symbols: + add, ~ change, - remove

~ /var/snap/microk8s/current/args/kube-scheduler (snap.microk8s.daemon-kubelite)
    @@ -2,3 +2,4 @@
      --leader-elect-lease-duration=60s
      --leader-elect-renew-deadline=30s
      --profiling=false
    + --bind-address=127.0.0.1
    # kube-scheduler.bind-address: --bind-address must be 127.0.0.1, found 0.0.0.0

Risks:
  kube-scheduler.bind-address: Off-host scraping of :10259 stops working.

Warnings:
  ! kubelite rewrites its args files at every start: it deletes flags Kubernetes removed (unless var/lock/no-arg-sanitisation exists) and adds --resolv-conf and a few host-specific kubelet flags
  ! the configure hook (every snap refresh and \`snap set microk8s\`) patches some flags in place; \`microk8s join\` overwrites args/kubelet with the control plane's, so harden the joined node again after a join

Plan: 1 to add, 0 to change, 0 to remove in 1 file; restarts: snap.microk8s.daemon-kubelite.
`;

/** The reverse diff rollback shows for the scheduler change of appliedNode. */
const SCHEDULER_ROLLBACK = `Index: /var/snap/microk8s/current/args/kube-scheduler
===================================================================
--- /var/snap/microk8s/current/args/kube-scheduler\tnow
+++ /var/snap/microk8s/current/args/kube-scheduler\tsnapshot <id>
@@ -2,4 +2,3 @@
 --leader-elect-lease-duration=60s
 --leader-elect-renew-deadline=30s
 --profiling=false
---bind-address=127.0.0.1

`;

// ---- the catalogue -------------------------------------------------------------------------------------------

export const CASES: readonly CatalogueCase[] = [
  // Profiles: every problem of a profile is found before anything is read from the node.
  profileCase(
    'profile-not-yaml',
    'a profile that is not valid YAML (an unclosed flow sequence)',
    `${HEAD}${RULE_START}    severity: low\n    component: kube-apiserver\n    operation: include-items\n    flag: --authorization-mode\n    items: [Node, RBAC\n`,
    'items: [Node, RBAC',
    'error: <tmp>/mine.yaml:14: not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]\nhint: fix the profile; profiles/schema.json describes the format\n',
  ),
  profileCase(
    'profile-missing-field',
    'a rule without its `severity`',
    `${HEAD}${RULE_START}    component: kubelet\n    operation: set-flag\n    flag: --hostname-override\n    value: node-1\n`,
    '(no severity: line)',
    'error: <tmp>/mine.yaml:6: rule kubelet.hostname: missing field "severity"\nhint: fix the profile; profiles/schema.json describes the format\n',
  ),
  profileCase(
    'profile-wrong-type',
    '`risks` given as a string where a list is expected',
    `${HEAD}${RULE_START}    severity: low\n    component: kubelet\n    risks: the node may register under a new name\n    operation: set-flag\n    flag: --hostname-override\n    value: node-1\n`,
    'risks: the node may register under a new name',
    'error: <tmp>/mine.yaml:11: rule kubelet.hostname: risks: must be array\nhint: fix the profile; profiles/schema.json describes the format\n',
  ),
  profileCase(
    'profile-unknown-field',
    'a rule with a field the schema does not know',
    `${HEAD}${RULE_START}    severity: low\n    component: kubelet\n    operation: set-flag\n    flag: --hostname-override\n    value: node-1\n    colour: red\n`,
    'colour: red',
    'error: <tmp>/mine.yaml:14: rule kubelet.hostname: unknown field "colour"\nhint: fix the profile; profiles/schema.json describes the format\n',
  ),
  profileCase(
    'profile-unknown-operation',
    'an operation harden does not have',
    `${HEAD}${RULE_START}    severity: low\n    component: kubelet\n    operation: delete-flag\n    flag: --hostname-override\n`,
    'operation: delete-flag',
    'error: <tmp>/mine.yaml:11: rule kubelet.hostname: operation: must be one of "set-flag", "remove-flag", "include-items", "exclude-items", "companion-file", "file-mode", "manual", "probe"\nhint: fix the profile; profiles/schema.json describes the format\n',
  ),
  profileCase(
    'profile-unknown-component',
    'a component MicroK8s does not run',
    `${HEAD}${RULE_START}    severity: low\n    component: kubelett\n    operation: set-flag\n    flag: --hostname-override\n    value: node-1\n`,
    'component: kubelett',
    'error: <tmp>/mine.yaml:10: rule kubelet.hostname: component: must be one of "kube-apiserver", "kubelet", "kube-proxy", "kube-scheduler", "kube-controller-manager", "kubelite", "etcd", "k8s-dqlite", "containerd"\nhint: fix the profile; profiles/schema.json describes the format\n',
  ),
  valueCase('value-newline', 'a value carrying a newline (a second flag smuggled onto the next line)', '"node-1\\n--anonymous-auth=true"'),
  valueCase('value-command-substitution', 'a value carrying `$(`: bash would run it as root', '"$(reboot)"'),
  valueCase('value-backtick', 'a value carrying a backtick command substitution', '"`reboot`"'),
  valueCase('value-semicolon', 'a value carrying an unquoted `;`', '"node-1;reboot"'),
  valueCase('value-pipe', 'a value carrying an unquoted `|`', '"node-1|reboot"'),
  valueCase('value-ampersand', 'a value carrying an unquoted `&`', '"node-1&reboot"'),
  valueCase('value-redirect', 'a value carrying an unquoted `>`', '"node-1>/etc/passwd"'),
  {
    id: 'profile-unknown-name',
    bin: true,
    group: 'Profiles',
    what: 'a profile name that is not shipped',
    argv: ['--root', '<root>', 'plan', '--profile', 'hardest'],
    setup: (box) => box.node(),
    expect: { status: 1, stderr: 'error: unknown profile "hardest"\nhint: shipped profiles: baseline, cis; or pass a file path\n' },
  },
  profileCase(
    'profile-extends-unknown',
    '`extends` names a profile that is not shipped',
    `apiVersion: harden/v1\nkind: Profile\nname: mine\ntitle: My rules\nextends: hardest\nrules: []\n`,
    'extends: hardest',
    'error: <tmp>/mine.yaml: extends: unknown profile "hardest"\nhint: shipped profiles: baseline, cis; or pass a file path\n',
  ),
  {
    id: 'only-unknown-rule',
    group: 'Profiles',
    what: '`--only` names a rule the profile does not have',
    argv: ['--root', '<root>', 'plan', '--only', 'kubelet.read-only-prot'],
    setup: (box) => box.node(),
    expect: { status: 1, stderr: 'error: unknown rule id "kubelet.read-only-prot" in --only/--skip (profile baseline)\nhint: harden profiles show baseline lists the rule ids\n' },
  },
  {
    id: 'skip-unknown-rule',
    group: 'Profiles',
    what: '`--skip` names rules the profile does not have',
    argv: ['--root', '<root>', 'plan', '--profile', 'cis', '--skip', 'kubelet.protect-kernel-default,apiserver.audit'],
    setup: (box) => box.node(),
    expect: { status: 1, stderr: 'error: unknown rule ids "kubelet.protect-kernel-default", "apiserver.audit" in --only/--skip (profile cis)\nhint: harden profiles show cis lists the rule ids\n' },
  },

  // Flags the node's version does not have: harden says so and writes nothing.
  {
    id: 'flag-removed-in-version',
    bin: true,
    group: 'Versions',
    what: 'a rule setting a flag the node’s Kubernetes removed (`--network-plugin`, gone in 1.24) on a 1.28 node',
    input: 'flag: --network-plugin / value: cni',
    argv: ['--root', '<root>', 'check', '--profile', '<tmp>/mine.yaml'],
    setup: async (box) => {
      await box.node();
      await box.file('mine.yaml', `${HEAD}  - id: kubelet.network-plugin\n    title: Use CNI\n    rationale: R\n    severity: low\n    component: kubelet\n    operation: set-flag\n    flag: --network-plugin\n    value: cni\n`);
    },
    expect: {
      status: 0,
      stdout: `Profile mine on <root> (MicroK8s 1.28.0)
[NOT APPLICABLE] kubelet.network-plugin
                 Use CNI
                 found: absent; --network-plugin=cni was removed from kubelet in 1.24; the node runs 1.28. (--network-plugin=cni cannot be set on this node)

1 rule: 0 passed, 0 failed, 0 blocked, 0 manual, 1 not applicable — complies with profile mine
`,
      stderr: '',
    },
  },
  {
    id: 'value-removed-in-version',
    group: 'Versions',
    what: 'a rule adding an admission plugin the node’s Kubernetes removed (`PodSecurityPolicy`, gone in 1.25) on a 1.28 node',
    input: 'flag: --enable-admission-plugins / items: [PodSecurityPolicy]',
    argv: ['--root', '<root>', 'apply', '--profile', '<tmp>/mine.yaml', '--yes'],
    setup: async (box) => {
      await box.node();
      await box.file('mine.yaml', `${HEAD}  - id: apiserver.psp\n    title: Admit pods by policy\n    rationale: R\n    severity: low\n    component: kube-apiserver\n    operation: include-items\n    flag: --enable-admission-plugins\n    items: [PodSecurityPolicy]\n`);
    },
    expect: {
      status: 0,
      stdout: `Plan for profile mine on <root> (MicroK8s 1.28.0)

Blocked (harden will not change these until what they need is in place):
  apiserver.psp: --enable-admission-plugins must include PodSecurityPolicy; blocked: harden will not write --enable-admission-plugins=PodSecurityPolicy: --enable-admission-plugins=PodSecurityPolicy was removed from kube-apiserver in 1.25; the node runs 1.28.

No changes. Still in the way: 1 rule blocked, 0 manual.
`,
      stderr: '',
    },
  },

  // The node root and its args dir: refused before anything is planned.
  {
    id: 'root-missing',
    bin: true,
    group: 'The node',
    what: '`--root` names a directory that does not exist',
    argv: ['--root', '<tmp>/nowhere', 'plan'],
    expect: { status: 1, stderr: 'error: node root <tmp>/nowhere is not a directory\nhint: pass --root the directory that holds the node’s filesystem (/ for this machine)\n' },
  },
  planCase('root-without-microk8s', 'a root with no MicroK8s in it', async (box) => {
    await fs.mkdir(box.root);
  }, 'error: /var/snap/microk8s/current not found: MicroK8s is not installed in this root\nhint: check --root; on a node, `snap list microk8s` shows whether MicroK8s is installed\n'),
  planCase('current-missing', 'MicroK8s’ `var/snap/microk8s/current` link is missing', async (box) => {
    await box.node();
    await fs.unlink(path.join(box.root, 'var/snap/microk8s/current'));
  }, 'error: /var/snap/microk8s/current not found: MicroK8s is not installed in this root\nhint: check --root; on a node, `snap list microk8s` shows whether MicroK8s is installed\n'),
  planCase('current-dangling', '`current` points to a revision that is not there', async (box) => {
    await box.node();
    await relink(path.join(box.root, 'var/snap/microk8s/current'), '9999');
  }, 'error: /var/snap/microk8s/current not found: MicroK8s is not installed in this root\nhint: check --root; on a node, `snap list microk8s` shows whether MicroK8s is installed\n'),
  planCase('args-dir-missing', 'the args dir is gone', async (box) => {
    await box.node();
    await fs.rm(box.args(), { recursive: true });
  }, 'error: args dir /var/snap/microk8s/current/args not found\nhint: MicroK8s keeps its args files there; pass --args-dir if this node keeps them elsewhere\n'),
  {
    id: 'args-dir-not-a-directory',
    group: 'The node',
    what: '`--args-dir` names a file',
    argv: ['--root', '<root>', '--args-dir', '<root>/var/snap/microk8s/current/args/kubelet', 'plan'],
    setup: (box) => box.node(),
    expect: { status: 1, stderr: 'error: args dir <root>/var/snap/microk8s/current/args/kubelet is not a directory\nhint: point --args-dir at the directory that holds the args files\n' },
  },
  planCase('args-file-unreadable', 'an args file harden may not read (EACCES)', async (box) => {
    await box.node();
    return { fs: failingFs('readFile', '/args/kubelet', 'EACCES') };
  }, 'error: cannot read /var/snap/microk8s/current/args/kubelet (EACCES)\nhint: run harden as root (sudo), as MicroK8s keeps these files private\n', { injected: 'EACCES on reading args/kubelet (the tests run as root, who may read anything)' }),
  planCase('args-dir-io-error', 'an I/O error listing the args dir (EIO)', async (box) => {
    await box.node();
    return { fs: failingFs('readdir', '/args', 'EIO') };
  }, 'error: cannot read /var/snap/microk8s/6089/args (EIO)\nhint: check the disk and the file’s permissions\n', { injected: 'EIO on listing the args dir' }),
  planCase('args-file-binary', 'an args file with a NUL byte', async (box) => {
    await box.node();
    await fs.writeFile(box.args('kubelet'), Buffer.from('--read-only-port=0\n\0\0\n'));
  }, 'error: /var/snap/microk8s/current/args/kubelet has a NUL byte at offset 19: it is binary, not an args file\nhint: restore the file from a backup or snapshot, or move it out of the args dir\n', { input: '--read-only-port=0\\n\\0\\0\\n' }),
  planCase('args-file-not-utf8', 'an args file that is not UTF-8', async (box) => {
    await box.node();
    await fs.writeFile(box.args('kube-proxy'), Buffer.from([0x2d, 0x2d, 0x76, 0x3d, 0xff, 0xfe, 0x0a]));
  }, 'error: /var/snap/microk8s/current/args/kube-proxy is not UTF-8 text\nhint: restore the file from a backup or snapshot, or move it out of the args dir\n', { input: 'bytes 2d 2d 76 3d ff fe 0a' }),
  planCase('args-file-huge', 'an args file over the 16 MiB limit (sparse)', async (box) => {
    await box.node();
    await fs.truncate(box.args('kube-apiserver'), 16 * 1024 * 1024 + 1);
  }, `error: /var/snap/microk8s/current/args/kube-apiserver is ${16 * 1024 * 1024 + 1} bytes, over the 16 MiB limit for an args file\nhint: an args file holds a few dozen flags: restore it from a backup or snapshot\n`),
  planCase('args-file-is-directory', 'a directory where the API server’s args file should be', async (box) => {
    await box.node();
    await fs.rm(box.args('kube-apiserver'));
    await fs.mkdir(box.args('kube-apiserver'));
  }, 'error: /var/snap/microk8s/current/args/kube-apiserver is a directory, not an args file\nhint: kube-apiserver reads its flags from this file: move the directory out of the args dir and restore the file from a backup or snapshot\n'),
  planCase('args-symlink-absolute', 'an args file symlinked outside the args dir, by an absolute path', async (box) => {
    await box.node();
    await relink(box.args('kubelet'), '/etc/passwd');
  }, 'error: /var/snap/microk8s/current/args/kubelet is a symlink to /etc/passwd, which leads outside the args dir\nhint: replace the link with a regular file; harden never follows an args file out of the args dir\n', { input: 'args/kubelet -> /etc/passwd', bin: true }),
  planCase('args-symlink-relative', 'an args file symlinked outside the args dir, by a relative path', async (box) => {
    await box.node();
    await relink(box.args('kubelet'), '../credentials/client.config');
  }, 'error: /var/snap/microk8s/current/args/kubelet is a symlink to ../credentials/client.config, which leads outside the args dir\nhint: replace the link with a regular file; harden never follows an args file out of the args dir\n', { input: 'args/kubelet -> ../credentials/client.config' }),
  planCase('args-symlink-loop', 'two args files that are symlinks to each other', async (box) => {
    await box.node();
    await relink(box.args('kubelet'), 'kubelet-b');
    await fs.symlink('kubelet', box.args('kubelet-b'));
  }, 'error: /var/snap/microk8s/6089/args/kubelet: too many levels of symbolic links\nhint: a symlink loop: fix the links under this path\n', { input: 'args/kubelet -> kubelet-b -> kubelet' }),

  // harden's own state dir, and the disk.
  {
    id: 'state-dir-is-a-file',
    bin: true,
    group: 'State and disk',
    what: '`--state-dir` names a file',
    argv: ['--root', '<root>', '--state-dir', '<tmp>/state', 'apply', '--yes'],
    setup: async (box) => {
      await box.node();
      await box.file('state', 'not a directory\n');
    },
    expect: { status: 1, stderr: 'error: cannot use the state directory <tmp>/state: it is not a directory\nhint: move it out of the way, or choose another place with --state-dir\n' },
  },
  {
    id: 'state-dir-read-only',
    group: 'State and disk',
    what: 'the state dir cannot be made: read-only filesystem (EROFS)',
    injected: 'EROFS on creating <root>/var/lib/harden',
    argv: ['--root', '<root>', 'apply', '--yes'],
    setup: async (box) => {
      await box.node();
      return { ops: stateDirFails(box, 'EROFS') };
    },
    expect: { status: 1, stderr: 'error: cannot use the state directory <root>/var/lib/harden (EROFS)\nhint: the filesystem is mounted read-only\n' },
  },
  {
    id: 'state-dir-permission-denied',
    group: 'State and disk',
    what: 'the state dir cannot be made: permission denied (EACCES)',
    injected: 'EACCES on creating <root>/var/lib/harden',
    argv: ['--root', '<root>', 'apply', '--yes'],
    setup: async (box) => {
      await box.node();
      return { ops: stateDirFails(box, 'EACCES') };
    },
    expect: { status: 1, stderr: 'error: cannot use the state directory <root>/var/lib/harden (EACCES)\nhint: run harden as root (sudo): MicroK8s keeps these files private\n' },
  },
  {
    id: 'disk-full-during-write',
    group: 'State and disk',
    what: 'the disk fills up while apply stages the second of three args files (ENOSPC): nothing was changed yet, and the snapshot is removed',
    injected: 'ENOSPC on creating the temporary file for the second args file',
    argv: ['--root', '<root>', 'apply', '--yes', ...GATE],
    setup: async (box) => {
      const node = await box.liveNode();
      let argsWrites = 0;
      const ops: FileOps = {
        ...namingSnapshots(box),
        writeNew: async (file, data, mode) => {
          if (file.startsWith(`${node.argsDir}/`) && ++argsWrites === 2) throw errno('ENOSPC', `injected, write ${file}`);
          return realFileOps.writeNew(file, data, mode);
        },
      };
      return { ops };
    },
    expect: {
      status: 1,
      stdout: 'Snapshot <id> in <root>/var/lib/harden/snapshots/<id>\n',
      stderr: 'error: no space left on device to stage /var/snap/microk8s/current/args/kube-scheduler (ENOSPC); nothing was changed\nhint: the disk is full: free some space and run harden again\n',
    },
  },

  // One run at a time.
  {
    id: 'lock-held',
    bin: true,
    group: 'Locks',
    what: 'another harden run holds the lock (a live pid)',
    argv: ['--root', '<root>', 'apply', '--yes'],
    setup: async (box) => {
      await box.node();
      const sleeper = spawn('sleep', ['120'], { stdio: 'ignore' });
      box.onCleanup(() => void sleeper.kill());
      await writeLock(box, sleeper.pid!);
    },
    expect: { status: 1, stderr: 'error: another harden run (pid <pid>) holds <root>/var/lib/harden/lock\nhint: wait for it to finish; if pid <pid> is not harden, remove <root>/var/lib/harden/lock and try again\n' },
  },
  {
    id: 'lock-stale',
    group: 'Locks',
    what: 'a lock left by a run that no longer runs (a dead pid) is taken over, with a note; here the run then stops for want of a terminal',
    argv: ['--root', '<root>', 'apply', ...GATE],
    setup: async (box) => {
      await box.liveNode();
      const gone = spawn('true', [], { stdio: 'ignore' });
      await new Promise((resolve) => gone.on('exit', resolve));
      await writeLock(box, gone.pid!);
    },
    expect: {
      status: 1,
      stderr: `note: took over <root>/var/lib/harden/lock from harden pid <pid>, which no longer runs\n${NO_TERMINAL}`,
      changes: ['<root>/var/lib/harden/lock: gone'],
    },
  },

  // Saved plans.
  {
    id: 'saved-plan-edited',
    bin: true,
    group: 'Saved plans',
    what: 'a saved plan edited after `plan --out` (its `after` text now carries `$(reboot)`)',
    argv: ['--root', '<root>', 'apply', '<tmp>/plan.json', '--yes'],
    setup: async (box) => {
      await box.node();
      const file = await savedPlan(box);
      const doc = JSON.parse(await fs.readFile(file, 'utf8'));
      doc.files[0].after = doc.files[0].after.replace('--authorization-mode=Node,RBAC', '--authorization-mode=$(reboot)');
      await fs.writeFile(file, `${JSON.stringify(doc, null, 2)}\n`);
    },
    expect: { status: 1, stderr: 'error: <tmp>/plan.json was edited after harden plan wrote it: its content does not match its sha256\nhint: a saved plan is applied only as it was reviewed: make a new one with harden plan --out FILE\n' },
  },
  {
    id: 'saved-plan-forged',
    bin: true,
    group: 'Saved plans',
    what: 'a saved plan edited and sealed again with a new sha256 (its `after` text now keeps `AlwaysAllow`)',
    argv: ['--root', '<root>', 'apply', '<tmp>/plan.json', '--yes'],
    setup: async (box) => {
      await box.node();
      const file = await savedPlan(box);
      const { sha256: _old, ...doc } = JSON.parse(await fs.readFile(file, 'utf8'));
      doc.files[0].after = doc.files[0].after.replace('--authorization-mode=Node,RBAC', '--authorization-mode=AlwaysAllow');
      // Anyone can seal a plan: the digest is of the text, with no secret in it.
      const sha256 = `sha256:${createHash('sha256').update(JSON.stringify(doc, null, 2)).digest('hex')}`;
      await fs.writeFile(file, `${JSON.stringify({ ...doc, sha256 }, null, 2)}\n`);
    },
    expect: {
      status: 1,
      stderr:
        'error: <tmp>/plan.json is not what profile baseline gives on this node: its args file /var/snap/microk8s/current/args/kube-apiserver differs from what the profile writes\n' +
        'hint: a saved plan is applied only as harden made it: make a new one with harden plan --out, review it, and apply that\n',
    },
  },
  {
    id: 'saved-plan-outdated',
    group: 'Saved plans',
    what: 'an args file changed after `plan --out`',
    argv: ['--root', '<root>', 'apply', '<tmp>/plan.json', '--yes'],
    setup: async (box) => {
      await box.node();
      await savedPlan(box);
      await fs.appendFile(box.args('kube-apiserver'), '--v=2\n');
    },
    expect: { status: 1, stderr: 'error: the node changed since the plan was made: /var/snap/microk8s/current/args/kube-apiserver\nhint: make a new plan with harden plan --out, review it, and apply that\n' },
  },
  {
    id: 'saved-plan-with-profile',
    group: 'Saved plans',
    what: 'a saved plan given together with `--profile`',
    argv: ['--root', '<root>', 'apply', '<tmp>/plan.json', '--profile', 'cis'],
    setup: async (box) => {
      await box.node();
      await savedPlan(box);
    },
    expect: { status: 1, stderr: 'error: a saved plan is applied exactly and does not take --profile\nhint: make a new plan with harden plan --out, or leave out the plan file\n' },
  },
  {
    id: 'saved-plan-not-json',
    group: 'Saved plans',
    what: 'a file that is not a saved plan given to `plan --in`',
    argv: ['plan', '--in', '<tmp>/plan.json'],
    setup: async (box) => {
      await box.file('plan.json', 'apply everything\n');
    },
    expect: { status: 1, stderr: 'error: <tmp>/plan.json is not a harden plan: not JSON\nhint: make one with harden plan --out FILE\n' },
  },

  // Questions: asked only on a terminal; no answer, Ctrl-C or No write nothing.
  {
    id: 'apply-no-terminal',
    bin: true,
    group: 'Prompts',
    what: '`apply` without a terminal and without `--yes`',
    argv: ['--root', '<root>', 'apply', ...GATE],
    setup: async (box) => void (await box.liveNode()),
    expect: { status: 1, stderr: NO_TERMINAL },
  },
  {
    id: 'apply-ctrl-c',
    group: 'Prompts',
    what: 'Ctrl-C at apply’s checklist of changes',
    injected: 'the prompt is interrupted as inquirer is by Ctrl-C',
    argv: ['--root', '<root>', 'apply', '--only', 'kube-scheduler.bind-address', ...GATE],
    setup: async (box) => {
      await box.liveNode();
      return { prompt: answering('ctrl-c', 'choose'), interactive: true };
    },
    expect: { status: 130, stdout: SCHEDULER_PLAN, stderr: 'error: interrupted at the prompt: nothing was written\nhint: run the command again to start over\n' },
  },
  {
    id: 'apply-declined',
    group: 'Prompts',
    what: 'No at `Apply these changes?`',
    injected: 'the prompt keeps every change and answers No',
    argv: ['--root', '<root>', 'apply', '--only', 'kube-scheduler.bind-address', ...GATE],
    setup: async (box) => {
      await box.liveNode();
      return { prompt: answering(false), interactive: true };
    },
    expect: { status: 1, stdout: `${SCHEDULER_PLAN}${SCHEDULER_PLAN}Nothing was changed.\n`, stderr: '' },
  },
  {
    id: 'rollback-no-terminal',
    group: 'Prompts',
    what: '`rollback` without a terminal and without `--yes` (after showing what it would restore)',
    argv: ['--root', '<root>', 'rollback'],
    setup: async (box) => void (await appliedNode(box)),
    expect: { status: 1, stdout: SCHEDULER_ROLLBACK, stderr: 'error: no terminal to confirm the rollback: nothing was written\nhint: run it in a terminal, or pass --yes\n' },
  },
  {
    id: 'rollback-ctrl-c',
    group: 'Prompts',
    what: 'Ctrl-C at `Restore snapshot …?`',
    injected: 'the prompt is interrupted as inquirer is by Ctrl-C',
    argv: ['--root', '<root>', 'rollback'],
    setup: async (box) => {
      await appliedNode(box);
      return { prompt: answering('ctrl-c'), interactive: true };
    },
    expect: { status: 130, stdout: SCHEDULER_ROLLBACK, stderr: 'error: interrupted at the prompt: nothing was written\nhint: run the command again to start over\n' },
  },
  {
    id: 'rollback-declined',
    group: 'Prompts',
    what: 'No at `Restore snapshot …?`',
    injected: 'the prompt answers No',
    argv: ['--root', '<root>', 'rollback'],
    setup: async (box) => {
      await appliedNode(box);
      return { prompt: answering(false), interactive: true };
    },
    expect: { status: 1, stdout: `${SCHEDULER_ROLLBACK}Nothing was changed.\n`, stderr: '' },
  },

  // Health.
  {
    id: 'unhealthy-before-apply',
    group: 'Health',
    what: 'the API server answers /readyz with 500 before anything is changed (no `--force`)',
    argv: ['--root', '<root>', 'apply', '--yes', '--health-timeout', '0', ...GATE],
    setup: async (box) => {
      const node = await box.liveNode();
      await node.setUnhealthy(true);
    },
    expect: {
      status: 1,
      stderr: 'error: the node is not healthy before the change: kube-apiserver /readyz: HTTP 500: [-]poststarthook/start-apiextensions-controllers failed: reason withheld\nhint: fix the node first (journalctl -u the failing service), or pass --force to apply anyway\n',
    },
  },

  // Snapshots and rollback.
  {
    id: 'snapshot-manifest-corrupt',
    group: 'Snapshots',
    what: 'a snapshot whose manifest.json was cut short',
    argv: ['--root', '<root>', 'rollback'],
    setup: async (box) => {
      const id = await appliedNode(box);
      await fs.writeFile(path.join(box.stateDir, 'snapshots', id, 'manifest.json'), '{\n  "schema": "harden.snapshot/v1",\n  "id": ');
    },
    expect: { status: 1, stderr: 'error: snapshot <id> is damaged: manifest.json is not valid JSON\nhint: harden will not restore from it; restore the files from another snapshot or by hand\n' },
  },
  {
    id: 'snapshot-checksum-mismatch',
    bin: true,
    group: 'Snapshots',
    what: 'a snapshot copy that no longer matches its recorded sha256',
    argv: ['--root', '<root>', 'rollback'],
    setup: async (box) => {
      const id = await appliedNode(box);
      await fs.appendFile(path.join(box.stateDir, 'snapshots', id, '01-kube-scheduler'), '--v=9\n');
    },
    expect: { status: 1, stderr: 'error: snapshot <id> is damaged: the copy of /var/snap/microk8s/current/args/kube-scheduler (01-kube-scheduler) does not match its recorded sha256\nhint: harden will not restore from it; restore the files from another snapshot or by hand\n' },
  },
  {
    id: 'snapshot-other-revision',
    group: 'Snapshots',
    what: 'a snapshot taken on revision 6089 while `current` now points to 9999 (a snap refresh since)',
    argv: ['--root', '<root>', 'rollback', '--yes'],
    setup: async (box) => {
      await appliedNode(box);
      const base = path.join(box.root, 'var/snap/microk8s');
      await fs.cp(path.join(base, '6089'), path.join(base, '9999'), { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
      await relink(path.join(base, 'current'), '9999');
    },
    expect: { status: 1, stderr: 'error: will not roll back <id>: current points to revision 9999, the snapshot was taken on 6089\nhint: look at harden snapshots diff ID; pass --force to restore the snapshot anyway\n' },
  },
  {
    id: 'snapshot-id-malformed',
    group: 'Snapshots',
    what: 'a snapshot id that is not one',
    argv: ['--root', '<root>', 'rollback', 'latest'],
    setup: async (box) => void (await appliedNode(box)),
    expect: { status: 1, stderr: 'error: latest is not a snapshot id\nhint: snapshot ids look like 20261122T183000Z-1a2b\n' },
  },
  {
    id: 'snapshot-id-unknown',
    group: 'Snapshots',
    what: 'a well-formed snapshot id that does not exist',
    argv: ['--root', '<root>', 'rollback', '20250101T000000Z-0000'],
    setup: async (box) => void (await appliedNode(box)),
    expect: { status: 1, stderr: 'error: no snapshot 20250101T000000Z-0000 in <root>/var/lib/harden/snapshots\nhint: choose one of the snapshots that exist\n' },
  },
  {
    id: 'nothing-to-roll-back',
    group: 'Snapshots',
    what: '`rollback` on a node harden never changed',
    argv: ['--root', '<root>', 'rollback'],
    setup: (box) => box.node(),
    expect: { status: 1, stderr: 'error: no apply to roll back in <root>/var/lib/harden/snapshots\nhint: harden snapshots list shows what there is\n' },
  },

  // The command line.
  {
    id: 'unknown-command',
    bin: true,
    group: 'Command line',
    what: 'a mistyped command',
    argv: ['--root', '<root>', 'aply'],
    setup: (box) => box.node(),
    expect: { status: 1, stderr: "error: unknown command 'aply'\nhint: did you mean apply? see harden --help\n" },
  },
  {
    id: 'unknown-option',
    group: 'Command line',
    what: 'a mistyped option',
    argv: ['--root', '<root>', 'plan', '--profil', 'cis'],
    setup: (box) => box.node(),
    expect: { status: 1, stderr: 'error: unknown option --profil\nhint: did you mean --profile? see harden --help\n' },
  },
  {
    id: 'invalid-choice',
    group: 'Command line',
    what: 'an output format `plan` does not have',
    argv: ['--root', '<root>', 'plan', '--format', 'yaml'],
    setup: (box) => box.node(),
    expect: { status: 1, stderr: 'error: Invalid values: Argument: format, Given: "yaml", Choices: "text", "json"\nhint: see harden --help\n' },
  },
  {
    id: 'no-command',
    group: 'Command line',
    what: 'no command at all',
    argv: ['--root', '<root>'],
    setup: (box) => box.node(),
    expect: { status: 1, stderr: 'error: name a command\nhint: see harden --help\n' },
  },
  {
    id: 'args-dir-with-several-roots',
    group: 'Command line',
    what: '`--args-dir` with several `--root`',
    argv: ['--root', '<root>', '--root', '<tmp>', '--args-dir', '<root>/var/snap/microk8s/current/args', 'inspect'],
    setup: (box) => box.node(),
    expect: { status: 1, stderr: 'error: --args-dir and --state-dir go with a single --root\nhint: drop them, or run once per root\n' },
  },
  {
    id: 'plan-with-several-roots',
    group: 'Command line',
    what: '`plan` with two `--root`',
    argv: ['--root', '<root>', '--root', '<tmp>', 'plan'],
    setup: (box) => box.node(),
    expect: { status: 1, stderr: 'error: this command takes exactly one --root\nhint: run it once per node\n' },
  },
  {
    id: 'prune-without-keep',
    group: 'Command line',
    what: '`snapshots prune` without `--keep`',
    argv: ['--root', '<root>', 'snapshots', 'prune'],
    setup: async (box) => void (await appliedNode(box)),
    expect: { status: 1, stderr: 'error: snapshots prune needs --keep N (a whole number)\nhint: harden snapshots prune --keep 5\n' },
  },
  {
    id: 'disk-full-at-snapshot',
    group: 'State and disk',
    what: 'the disk is full when apply takes its snapshot (ENOSPC): nothing was changed, and no trace of the snapshot is left',
    injected: 'ENOSPC on writing the copy of the second args file into the snapshot',
    argv: ['--root', '<root>', 'apply', '--yes', '--no-restart'],
    setup: async (box) => {
      await box.node();
      let copies = 0;
      const ops: FileOps = {
        ...namingSnapshots(box),
        writeNew: async (file, data, mode) => {
          if (file.startsWith(`${box.stateDir}/snapshots/`) && ++copies === 2) throw errno('ENOSPC', `injected, write ${file}`);
          return realFileOps.writeNew(file, data, mode);
        },
      };
      return { ops };
    },
    expect: { status: 1, stderr: 'error: no space left on device for the snapshot in <root>/var/lib/harden/snapshots (ENOSPC); nothing was changed\nhint: the disk is full: free some space and run harden again\n' },
  },
  {
    id: 'disk-full-recording-the-change',
    group: 'State and disk',
    what: 'every file is staged, then the disk fills up before the snapshot can record the change (ENOSPC): nothing was changed, and the snapshot is removed',
    injected: 'ENOSPC on writing the snapshot’s new manifest (status written), staged before the first rename',
    argv: ['--root', '<root>', 'apply', '--yes', '--no-restart'],
    setup: async (box) => {
      await box.node();
      let manifests = 0;
      const ops: FileOps = {
        ...namingSnapshots(box),
        writeNew: async (file, data, mode) => {
          if (path.basename(file).startsWith('.manifest.json.') && ++manifests === 2) throw errno('ENOSPC', `injected, write ${file}`);
          return realFileOps.writeNew(file, data, mode);
        },
      };
      return { ops };
    },
    expect: {
      status: 1,
      stdout: 'Snapshot <id> in <root>/var/lib/harden/snapshots/<id>\n',
      stderr: 'error: no space left on device to record the change in the snapshot <id> (ENOSPC); nothing was changed\nhint: the disk is full: free some space and run harden again\n',
    },
  },
  {
    id: 'write-fails-during-commit',
    group: 'State and disk',
    what: 'a rename fails while apply commits the second of three args files (EIO): the first is put back by rename, exit 3',
    injected: 'EIO on renaming the second args file into place',
    argv: ['--root', '<root>', 'apply', '--yes', '--no-restart'],
    setup: async (box) => {
      await box.node();
      let renames = 0;
      const ops: FileOps = {
        ...realFileOps,
        rename: async (from, to) => {
          if (to.startsWith(`${box.args()}`) && ++renames === 2) throw errno('EIO', `injected, rename ${to}`);
          return realFileOps.rename(from, to);
        },
      };
      return { ops };
    },
    expect: {
      status: 3,
      stdout: 'Snapshot <id> in <root>/var/lib/harden/snapshots/<id>\n',
      stderr: 'error: a write failed, and the files already written were put back: cannot write /var/snap/microk8s/current/args/kube-scheduler (EIO)\nhint: nothing is left changed; the snapshot is <id>\n',
      changes: [
        '<root>/var/lib/harden: new',
        '<root>/var/lib/harden/snapshots: new',
        '<root>/var/lib/harden/snapshots/<id>: new',
        '<root>/var/lib/harden/snapshots/<id>/01-kube-apiserver: new',
        '<root>/var/lib/harden/snapshots/<id>/02-kube-scheduler: new',
        '<root>/var/lib/harden/snapshots/<id>/03-kube-controller-manager: new',
        '<root>/var/lib/harden/snapshots/<id>/manifest.json: new',
      ],
    },
  },
];
