// The bad-input catalogue: every way a user can hand harden something wrong, each with the command as typed,
// the exact exit code and output, and what may change on disk (nothing, unless `changes` says otherwise).
// test/catalogue/bad-input.test.ts runs every case and renders docs/bad-input.md from the real results.
//
// Placeholders in argv and in the expected text: <root> the node root, <tmp> a directory outside the node
// for profiles and saved plans, <pid> a process id, <id> a snapshot id.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { realFileOps, type FileOps } from '../../src/effects/file-ops.js';
import { realFileSystem, type FileSystem } from '../../src/effects/file-system.js';
import { loadProfile, profileIdentity } from '../../src/effects/profile-store.js';
import { Interrupted, type Prompt } from '../../src/effects/prompt.js';
import { runInProcessWith } from '../helpers/cli.js';
import { DEFAULT_REVISIONS, layOutNode } from '../helpers/node-root.js';
import { setMode } from '../helpers/stand-ins.js';
import { gzipSync } from 'node:zlib';
import { reportBytes, reportFiles, tarBytes } from '../helpers/inspection-report.js';
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

/** The first 16 hex digits of a profile's sha256, as plan headers show it: a shipped name, or a profile text. */
async function shortDigest(profile: { name: string } | { text: string }): Promise<string> {
  if ('name' in profile) return profileIdentity(await loadProfile(profile.name)).sha256.slice(7, 23);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'harden-digest-'));
  try {
    const file = path.join(dir, 'mine.yaml');
    await fs.writeFile(file, profile.text);
    return profileIdentity(await loadProfile(file)).sha256.slice(7, 23);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
const BASELINE_DIGEST = await shortDigest({ name: 'baseline' });
const CIS_DIGEST = await shortDigest({ name: 'cis' });

const HEAD = 'apiVersion: harden/v1\nkind: Profile\nname: mine\ntitle: My rules\nrules:\n';
const RULE_START = '  - id: kubelet.hostname\n    title: Pin the node name\n    rationale: Keep the name the node registers with\n';
/** A set-flag rule on the kubelet with this value (as YAML). Its `value:` is on line 13. */
const valueRule = (value: string) => `${HEAD}${RULE_START}    severity: low\n    component: kubelet\n    operation: set-flag\n    flag: --hostname-override\n    value: ${value}\n`;

const PSP_PROFILE = `${HEAD}  - id: apiserver.psp\n    title: Admit pods by policy\n    rationale: R\n    severity: low\n    component: kube-apiserver\n    operation: include-items\n    flag: --enable-admission-plugins\n    items: [PodSecurityPolicy]\n`;

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

/** The error for the value on `line`, which holds `what` (as the message names it). */
const VALUE_ERROR = (line: number, what: string) =>
  `error: <tmp>/mine.yaml:${line}: rule kubelet.hostname: value: it holds ${what}; a value may hold only ASCII letters, digits and ! # % * + , - . / : = ? @ [ ] ^ _ ~, and $ only in \${SNAP}, \${SNAP_DATA} or \${SNAP_COMMON}\nhint: fix the profile; profiles/schema.json describes the format\n`;
const valueCase = (id: string, what: string, yamlValue: string, holds: string): CatalogueCase => profileCase(id, what, valueRule(yamlValue), `value: ${yamlValue}`, VALUE_ERROR(13, holds));

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
function failingFs(method: 'readRegularFile' | 'readdir', suffix: string, code: string): FileSystem {
  return {
    ...realFileSystem,
    [method]: async (file: string, maxBytes: number) => {
      if (file.endsWith(suffix)) throw errno(code, `injected, ${method} ${file}`);
      return (realFileSystem[method] as (p: string, max: number) => Promise<unknown>)(file, maxBytes);
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

/**
 * Adds args/<name> to snapshot `id` as if the apply had changed it: a copy holding `text` with its sha256
 * recomputed in the manifest, and the node's present bytes, mode and owner as what the apply left.
 */
async function forgeCopy(box: Box, id: string, name: string, text: string): Promise<void> {
  const dir = path.join(box.stateDir, 'snapshots', id);
  const manifest = JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8')) as { files: Record<string, unknown>[] };
  const now = await fs.readFile(box.args(name));
  const stat = await fs.stat(box.args(name));
  const digest = (bytes: string | Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  const copy = `0${manifest.files.length + 1}-${name}`;
  await fs.writeFile(path.join(dir, copy), text, { mode: 0o600 });
  manifest.files.push({
    path: `/var/snap/microk8s/current/args/${name}`,
    realPath: `/var/snap/microk8s/${box.revision}/args/${name}`,
    created: false,
    sha256Before: digest(text),
    sha256After: digest(now),
    mode: (stat.mode & 0o777).toString(8).padStart(4, '0'),
    uid: stat.uid,
    gid: stat.gid,
    owner: 'root:microk8s',
    copy,
  });
  await fs.writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
}

/** A plan saved with `harden plan --out <tmp>/plan.json`. */
async function savedPlan(box: Box): Promise<string> {
  const file = path.join(box.tmp, 'plan.json');
  const run = await runInProcessWith(['--root', box.root, 'plan', '--out', file]);
  if (run.status !== 0) throw new Error(`setup plan --out failed: ${run.stderr}`);
  return file;
}

/** Edits a saved plan and seals it again with a fresh sha256, as anyone can (the digest holds no secret). */
async function resealPlan(file: string, edit: (doc: any) => void): Promise<void> {
  const { sha256: _old, ...doc } = JSON.parse(await fs.readFile(file, 'utf8'));
  edit(doc);
  const sha256 = `sha256:${createHash('sha256').update(JSON.stringify(doc, null, 2)).digest('hex')}`;
  await fs.writeFile(file, `${JSON.stringify({ ...doc, sha256 }, null, 2)}\n`);
}

/** A profile file that calls itself `baseline` and turns kubelet anonymous auth back on. */
const FAKE_BASELINE = 'apiVersion: harden/v1\nkind: Profile\nname: baseline\ntitle: Baseline\nrules:\n  - id: kubelet.anonymous-auth\n    title: Let anyone in\n    rationale: R\n    severity: low\n    component: kubelet\n    operation: set-flag\n    flag: --anonymous-auth\n    value: "true"\n';

/** A `sysctl` rule without its `sysctls` (its `path:` on line 12). */
const SYSCTL_RULE = '  - id: kubelet.kernel-parameters\n    title: Set the kernel parameters\n    rationale: R\n    severity: low\n    component: kubelet\n    operation: sysctl\n    path: /etc/sysctl.d/zz-harden-kubelet.conf\n';
const SYSCTL_VALUE_RULE = "a kernel parameter's value is 1 to 64 ASCII letters, digits, _ . : or - (no space, ; or other shell metacharacter)";

/** A plan of the shipped cis profile's kernel parameters, saved with `harden plan --out <tmp>/plan.json`. */
async function savedSysctlPlan(box: Box): Promise<string> {
  const file = path.join(box.tmp, 'plan.json');
  const run = await runInProcessWith(['--root', box.root, 'plan', '--profile', 'cis', '--only', 'kubelet.kernel-parameters', '--out', file]);
  if (run.status !== 0) throw new Error(`setup plan --out failed: ${run.stderr}`);
  return file;
}

const ELSEWHERE_HINT = 'hint: make a new plan on this node with harden plan --out FILE, or pass --force to apply it here anyway\n';
const MACHINE_ID = '0123456789abcdef0123456789abcdef';

const FORGED_HINT = 'hint: this is not a plan harden wrote, though its sha256 was made again to match: make a new one with harden plan --out FILE\n';

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
const SCHEDULER_PLAN = `Plan for profile baseline (shipped, sha256 ${BASELINE_DIGEST}…) on <root> (MicroK8s 1.28.0)

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
const SCHEDULER_ROLLBACK = `Rollback of <id> on <root> (apply, profile baseline, MicroK8s 1.28.0)

Symbols: + add, ~ change, - remove

~ /var/snap/microk8s/current/args/kube-scheduler (snap.microk8s.daemon-kubelite)
    @@ -2,4 +2,3 @@
      --leader-elect-lease-duration=60s
      --leader-elect-renew-deadline=30s
      --profiling=false
    - --bind-address=127.0.0.1
    # kube-scheduler.bind-address (undone)

Rollback: 1 file to restore, 0 to remove, 0 modes to put back; restarts: snap.microk8s.daemon-kubelite.
`;

// ---- special files ---------------------------------------------------------------------------------------

const KUBERNETES_ARGS = ['kube-apiserver', 'kubelet', 'kube-proxy', 'kube-scheduler', 'kube-controller-manager'];

/** Replaces a file with a FIFO (`mkfifo`) or a device node (`mknod … c 1 5`), made by the real tools. */
async function replaceWith(file: string, tool: 'mkfifo' | 'mknod', args: readonly string[]): Promise<void> {
  await fs.rm(file);
  const made = spawnSync(tool, [file, ...args], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`${tool} ${file}: ${made.stderr}`);
}

// ---- the catalogue -------------------------------------------------------------------------------------------

// ---- microk8s inspect reports ------------------------------------------------------------------------

const REPORT_HINT = 'hint: make the report again with `sudo microk8s inspect` on the node, or audit the node itself with --root\n';

/** `check --report` on a report written to `<tmp>/bad.tar.gz` by `bytes`: refused in one line for that report. */
function reportCase(id: string, what: string, bytes: () => Buffer, message: string, hint = REPORT_HINT): CatalogueCase {
  return {
    id,
    group: 'Inspect reports',
    what,
    argv: ['check', '--report', '<tmp>/bad.tar.gz'],
    setup: async (box) => {
      await fs.writeFile(path.join(box.tmp, 'bad.tar.gz'), bytes());
    },
    expect: { status: 1, stderr: `error: bad.tar.gz: ${message}\n${hint}` },
  };
}

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
    'error: <tmp>/mine.yaml:11: rule kubelet.hostname: operation: must be one of "set-flag", "remove-flag", "include-items", "exclude-items", "companion-file", "file-mode", "directory", "sysctl", "manual", "probe"\nhint: fix the profile; profiles/schema.json describes the format\n',
  ),
  profileCase(
    'profile-unknown-component',
    'a component MicroK8s does not run',
    `${HEAD}${RULE_START}    severity: low\n    component: kubelett\n    operation: set-flag\n    flag: --hostname-override\n    value: node-1\n`,
    'component: kubelett',
    'error: <tmp>/mine.yaml:10: rule kubelet.hostname: component: must be one of "kube-apiserver", "kubelet", "kube-proxy", "kube-scheduler", "kube-controller-manager", "kubelite", "etcd", "k8s-dqlite", "containerd"\nhint: fix the profile; profiles/schema.json describes the format\n',
  ),
  valueCase('value-newline', 'a value carrying a newline (a second flag smuggled onto the next line)', '"node-1\\n--anonymous-auth=true"', 'U+000A (a line feed) at character 7'),
  valueCase('value-command-substitution', 'a value carrying `$(`: bash would run it as root', '"$(reboot)"', '"$" outside ${SNAP}, ${SNAP_DATA}, ${SNAP_COMMON} at character 1'),
  valueCase('value-backtick', 'a value carrying a backtick command substitution', '"`reboot`"', '"`" at character 1'),
  valueCase('value-semicolon', 'a value carrying an unquoted `;`', '"node-1;reboot"', '";" at character 7'),
  valueCase('value-pipe', 'a value carrying an unquoted `|`', '"node-1|reboot"', '"|" at character 7'),
  valueCase('value-ampersand', 'a value carrying an unquoted `&`', '"node-1&reboot"', '"&" at character 7'),
  valueCase('value-redirect', 'a value carrying an unquoted `>`', '"node-1>/etc/passwd"', '">" at character 7'),
  {
    id: 'profile-unknown-name',
    bin: true,
    group: 'Profiles',
    what: 'a profile name that is not shipped',
    argv: ['--root', '<root>', 'plan', '--profile', 'hardest'],
    setup: (box) => box.node(),
    expect: { status: 1, stderr: 'error: unknown profile "hardest"\nhint: shipped profiles: baseline, cis, cis-1-12; or pass a file path\n' },
  },
  profileCase(
    'profile-extends-unknown',
    '`extends` names a profile that is not shipped',
    `apiVersion: harden/v1\nkind: Profile\nname: mine\ntitle: My rules\nextends: hardest\nrules: []\n`,
    'extends: hardest',
    'error: <tmp>/mine.yaml: extends: unknown profile "hardest"\nhint: shipped profiles: baseline, cis, cis-1-12; or pass a file path\n',
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
    argv: ['--root', '<root>', 'check', '--profile', '<tmp>/mine.yaml', '--verbose'],
    setup: async (box) => {
      await box.node();
      await box.file('mine.yaml', `${HEAD}  - id: kubelet.network-plugin\n    title: Use CNI\n    rationale: R\n    severity: low\n    component: kubelet\n    operation: set-flag\n    flag: --network-plugin\n    value: cni\n`);
    },
    expect: {
      status: 0,
      stdout: `Profile mine.yaml "mine" on <root> (MicroK8s 1.28.0)
[NOT APPLICABLE] low       kubelet.network-plugin
                           Use CNI
                           found: absent; --network-plugin=cni was removed from kubelet in 1.24; the node runs 1.28. (--network-plugin=cni cannot be set on this node)

1 rule: 0 passed, 0 failed, 0 blocked, 0 manual, 1 not applicable — complies with profile mine.yaml "mine"
Score: nothing to score (every rule is manual or not applicable)
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
      await box.file('mine.yaml', PSP_PROFILE);
    },
    expect: {
      status: 0,
      stdout: `Plan for profile mine.yaml "mine" (file <tmp>/mine.yaml, sha256 ${await shortDigest({ text: PSP_PROFILE })}…) on <root> (MicroK8s 1.28.0)

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
    return { fs: failingFs('readRegularFile', '/args/kubelet', 'EACCES') };
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
    expect: {
      status: 1,
      stderr:
        'error: another harden run (pid <pid>, since 2026-01-01 00:00:00 UTC) holds <root>/var/lib/harden/lock\n' +
        'hint: wait for it to finish, or pass --wait SECONDS to wait for it; if pid <pid> is not harden, remove <root>/var/lib/harden/lock and try again\n',
    },
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
        `error: <tmp>/plan.json is not what profile baseline (shipped, sha256 ${BASELINE_DIGEST}…) gives on this node: its args file /var/snap/microk8s/current/args/kube-apiserver differs from what the profile writes\n` +
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
    expect: { status: 1, stdout: `${SCHEDULER_PLAN}Nothing was changed.\n`, stderr: '' },
  },
  {
    id: 'rollback-no-terminal',
    group: 'Prompts',
    what: '`rollback` without a terminal and without `--yes`: refused before anything is shown or restored',
    argv: ['--root', '<root>', 'rollback', '--no-restart'],
    setup: async (box) => void (await appliedNode(box)),
    expect: { status: 1, stderr: 'error: no terminal to confirm the rollback: nothing was written\nhint: run it in a terminal, or pass --yes\n' },
  },
  {
    id: 'rollback-ctrl-c',
    group: 'Prompts',
    what: 'Ctrl-C at `Restore snapshot …?`',
    injected: 'the prompt is interrupted as inquirer is by Ctrl-C',
    argv: ['--root', '<root>', 'rollback', '--no-restart'],
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
    argv: ['--root', '<root>', 'rollback', '--no-restart'],
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
      // As snapd copies a revision: owners and modes kept (a changed owner would be drift of its own).
      spawnSync('cp', ['-a', path.join(base, '6089'), path.join(base, '9999')]);
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
    expect: { status: 1, stderr: 'error: unknown option --profil\nhint: did you mean --profile? see harden plan --help\n' },
  },
  {
    id: 'health-timeout-not-a-number',
    group: 'Command line',
    what: '`--health-timeout` that is not a number (taken as NaN, the gate would wait for ever)',
    argv: ['--root', '<root>', 'apply', '--yes', '--health-timeout', 'abc'],
    setup: (box) => box.node(),
    expect: { status: 1, stderr: 'error: --health-timeout takes a number of seconds from 0 to 86400 (got "abc")\nhint: for example --health-timeout 180\n' },
  },
  {
    id: 'health-timeout-negative',
    group: 'Command line',
    what: 'a negative `--health-timeout`',
    argv: ['--root', '<root>', 'apply', '--yes', '--health-timeout', '-5'],
    setup: (box) => box.node(),
    expect: { status: 1, stderr: 'error: --health-timeout takes a number of seconds from 0 to 86400 (got "-5")\nhint: for example --health-timeout 180\n' },
  },
  {
    id: 'health-window-not-a-number',
    group: 'Command line',
    what: '`rollback --health-window` that is not a number: refused before the snapshots are even looked at',
    argv: ['--root', '<root>', 'rollback', '--yes', '--health-window', 'abc'],
    setup: async (box) => void (await appliedNode(box)),
    expect: { status: 1, stderr: 'error: --health-window takes a number of seconds from 0 to 86400 (got "abc")\nhint: for example --health-window 5\n' },
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
    id: 'lock-symlink-dev-zero',
    bin: true,
    group: 'Locks',
    what: 'the lock is a symbolic link to `/dev/zero` (read, it would never end)',
    input: 'lock -> /dev/zero',
    argv: ['--root', '<root>', 'apply', '--yes'],
    setup: async (box) => {
      await box.node();
      await fs.mkdir(box.stateDir, { mode: 0o700 });
      await fs.symlink('/dev/zero', path.join(box.stateDir, 'lock'));
    },
    expect: {
      status: 1,
      stderr: 'error: <root>/var/lib/harden/lock is a symbolic link, not a lock file: harden follows no links and opens no special files in its state dir\nhint: if no harden run is going on, remove <root>/var/lib/harden/lock and try again\n',
    },
  },
  {
    id: 'lock-fifo',
    bin: true,
    group: 'Locks',
    what: 'the lock is a FIFO (read, it would block until something writes to it)',
    input: 'mkfifo lock',
    argv: ['--root', '<root>', 'apply', '--yes'],
    setup: async (box) => {
      await box.node();
      await fs.mkdir(box.stateDir, { mode: 0o700 });
      const made = spawnSync('mkfifo', ['-m', '600', path.join(box.stateDir, 'lock')]);
      if (made.status !== 0) throw new Error(`mkfifo failed: ${made.stderr}`);
    },
    expect: {
      status: 1,
      stderr: 'error: <root>/var/lib/harden/lock is a FIFO, not a lock file: harden follows no links and opens no special files in its state dir\nhint: if no harden run is going on, remove <root>/var/lib/harden/lock and try again\n',
    },
  },
  // File modes and companion files: only inside the snap's data tree, only root or the snap's group, bits only
  // taken away, never executable, never through a link.
  profileCase(
    'profile-path-outside-tree',
    'a `file-mode` rule on a path outside the MicroK8s tree (`/etc/shadow`)',
    `${HEAD}  - id: files.shadow\n    title: T\n    rationale: R\n    severity: low\n    component: kubelet\n    operation: file-mode\n    path: /etc/shadow\n    mode: "0600"\n`,
    'path: /etc/shadow',
    "error: <tmp>/mine.yaml:12: rule files.shadow: path: harden touches only paths under ${SNAP_DATA}/ or ${SNAP_COMMON}/ (no . or .. component), the snap's systemd units (/etc/systemd/system/snap.microk8s.daemon-NAME.service), /var/log/apiserver and /etc/sysctl.d/NN-harden-NAME.conf (or zz-harden-NAME.conf)\nhint: fix the profile; profiles/schema.json describes the format\n",
  ),
  profileCase(
    'profile-path-climbs-out',
    'a `companion-file` path that climbs out of `${SNAP_DATA}` with `..`',
    `${HEAD}  - id: files.profile-d\n    title: T\n    rationale: R\n    severity: low\n    component: kubelet\n    operation: companion-file\n    path: \${SNAP_DATA}/x/../../../../etc/profile.d/zz-harden.sh\n    template: templates/cis-hardening.lock\n    mode: "0600"\n`,
    'path: ${SNAP_DATA}/x/../../../../etc/profile.d/zz-harden.sh',
    "error: <tmp>/mine.yaml:12: rule files.profile-d: path: harden touches only paths under ${SNAP_DATA}/ or ${SNAP_COMMON}/ (no . or .. component), the snap's systemd units (/etc/systemd/system/snap.microk8s.daemon-NAME.service), /var/log/apiserver and /etc/sysctl.d/NN-harden-NAME.conf (or zz-harden-NAME.conf)\nhint: fix the profile; profiles/schema.json describes the format\n",
  ),
  profileCase(
    'profile-owner-nobody',
    'a `file-mode` rule that gives a file to `nobody:nogroup`',
    `${HEAD}  - id: files.kubelet-args\n    title: T\n    rationale: R\n    severity: low\n    component: kubelet\n    operation: file-mode\n    path: \${SNAP_DATA}/args/kubelet\n    owner: nobody:nogroup\n`,
    'owner: nobody:nogroup',
    "error: <tmp>/mine.yaml:13: rule files.kubelet-args: owner: harden gives files only to root, with the group root or the snap's (root:root, root:microk8s, root:snap_microk8s)\nhint: fix the profile; profiles/schema.json describes the format\n",
  ),
  profileCase(
    'profile-mode-adds-bits',
    'a `file-mode` mode with the setuid bit (`4755`): harden only takes bits away',
    `${HEAD}  - id: files.kubelet-args\n    title: T\n    rationale: R\n    severity: low\n    component: kubelet\n    operation: file-mode\n    path: \${SNAP_DATA}/args/kubelet\n    mode: "4755"\n`,
    'mode: "4755"',
    'error: <tmp>/mine.yaml:13: rule files.kubelet-args: mode: a mode is 0 and three octal digits (0600), without setuid, setgid or sticky bits: harden only ever takes bits away\nhint: fix the profile; profiles/schema.json describes the format\n',
  ),
  profileCase(
    'profile-companion-executable',
    'a `companion-file` with an executable mode (`0755`)',
    `${HEAD}  - id: files.lock\n    title: T\n    rationale: R\n    severity: low\n    component: kubelite\n    operation: companion-file\n    path: \${SNAP_DATA}/var/lock/harden\n    template: templates/cis-hardening.lock\n    mode: "0755"\n`,
    'mode: "0755"',
    'error: <tmp>/mine.yaml:14: rule files.lock: mode: a companion file is never executable, nor writable by group or others (0600, 0640, 0644)\nhint: fix the profile; profiles/schema.json describes the format\n',
  ),
  {
    id: 'certs-symlink',
    group: 'The node',
    what: 'a symlink in `certs/` to `/etc/shadow`, as a member of the microk8s group can plant: named, never followed',
    input: 'certs/evil.crt -> /etc/shadow',
    argv: ['--root', '<root>', 'apply', '--profile', 'cis', '--only', 'files.pki-ownership,files.pki-certificates,files.pki-keys,files.cis-hardening-lock', '--yes'],
    setup: async (box) => {
      await box.node();
      await fs.writeFile(path.join(box.root, 'etc/shadow'), 'root:*:19000:0:99999:7:::\n', { mode: 0o640 });
      await fs.symlink('/etc/shadow', path.join(box.root, 'var/snap/microk8s', box.revision, 'certs/evil.crt'));
    },
    expect: {
      status: 1,
      stderr:
        'error: plan refused: rule files.pki-ownership: /var/snap/microk8s/6089/certs/evil.crt: a symlink to /etc/shadow, never followed: remove it\n' +
        'error: plan refused: rule files.pki-certificates: /var/snap/microk8s/6089/certs/evil.crt: a symlink to /etc/shadow, never followed: remove it\n' +
        'hint: nothing was written; fix what is named, or leave a rule out with --skip RULE\n',
    },
  },
  {
    id: 'saved-plan-mode-changed',
    group: 'Saved plans',
    what: 'a certificate’s mode changed after `plan --out`',
    argv: ['--root', '<root>', 'apply', '<tmp>/plan.json', '--yes'],
    setup: async (box) => {
      await box.node();
      const file = path.join(box.tmp, 'plan.json');
      const run = await runInProcessWith(['--root', box.root, 'plan', '--profile', 'cis', '--only', 'files.pki-certificates,files.cis-hardening-lock', '--out', file]);
      if (run.status !== 0) throw new Error(`setup plan --out failed: ${run.stderr}`);
      await fs.chmod(path.join(box.root, 'var/snap/microk8s', box.revision, 'certs/ca.crt'), 0o640);
    },
    expect: {
      status: 1,
      stderr:
        'error: the node changed since the plan was made: /var/snap/microk8s/6089/certs/ca.crt (file 0660 root:microk8s when planned, file 0640 root:microk8s now)\n' +
        'hint: make a new plan with harden plan --out, review it, and apply that\n',
    },
  },
  {
    id: 'args-dir-outside-root',
    group: 'The node',
    what: '`--args-dir` names a directory outside `--root` (a copy of the args dir)',
    argv: ['--root', '<root>', '--args-dir', '<tmp>/args', 'apply', '--yes'],
    setup: async (box) => {
      await box.node();
      await fs.cp(box.args(), path.join(box.tmp, 'args'), { recursive: true });
    },
    expect: {
      status: 1,
      stderr: "error: --args-dir <tmp>/args is outside --root <root>\nhint: the args dir is the node's own: name it inside the root (<root>/var/snap/microk8s/current/args by default), or copy it into the root\n",
    },
  },
  {
    id: 'root-without-etc',
    group: 'The node',
    what: 'a node root without `/etc`, and a profile whose owners are all root: no lookup is needed',
    input: 'owner: root:root',
    argv: ['--root', '<root>', 'plan', '--profile', '<tmp>/mine.yaml'],
    setup: async (box) => {
      await box.node();
      await fs.rm(path.join(box.root, 'etc'), { recursive: true });
      await box.file('mine.yaml', `${HEAD}  - id: files.apiserver-args\n    title: Keep the API server's args file 0640 root:root\n    rationale: R\n    severity: low\n    component: kube-apiserver\n    operation: file-mode\n    path: \${SNAP_DATA}/args/kube-apiserver\n    mode: "0640"\n    owner: root:root\n`);
    },
    expect: {
      status: 0,
      stdout: `Plan for profile mine.yaml "mine" (file <tmp>/mine.yaml, sha256 dd57157d30ae51f7…) on <root> (MicroK8s 1.28.0)

Symbols: + add, ~ change, - remove

Modes and owners:
~ /var/snap/microk8s/6089/args/kube-apiserver: mode 0660 -> 0640, owner root:998 -> root:root
    # files.apiserver-args

Warnings:
  ! the configure hook and the apiservice-kicker reset file modes under args/, credentials/, certs/ and var/kubernetes/backend/ unless var/lock/cis-hardening exists

Plan: 0 to add, 1 to change, 0 to remove in 1 file; no restarts.
`,
      stderr: '',
    },
  },
  {
    id: 'etc-group-missing',
    group: 'The node',
    what: 'a node root without `/etc`, and a profile that names the group `microk8s`',
    input: 'owner: root:microk8s',
    argv: ['--root', '<root>', 'apply', '--profile', '<tmp>/mine.yaml', '--yes'],
    setup: async (box) => {
      await box.node();
      await fs.rm(path.join(box.root, 'etc'), { recursive: true });
      await box.file('mine.yaml', `${HEAD}  - id: files.apiserver-args\n    title: Keep the API server's args file 0640 root:microk8s\n    rationale: R\n    severity: low\n    component: kube-apiserver\n    operation: file-mode\n    path: \${SNAP_DATA}/args/kube-apiserver\n    mode: "0640"\n    owner: root:microk8s\n`);
    },
    expect: {
      status: 1,
      stderr: "error: /etc/group: missing in the node root <root>; the group microk8s of the owner root:microk8s is looked up there\nhint: check --root (the node's own /etc/group must be inside it), or give the owner as numbers (uid:gid) in the profile\n",
    },
  },

  // Values with characters outside the allow-list that the schema and the editor share (src/core/safe-value.ts):
  // Unicode spaces and separators, and the ASCII controls bash and kubelite do not split on.
  {
    ...valueCase('value-no-break-space', 'a value carrying U+00A0, a no-break space that looks like a space', '"node-1\\u00a0--anonymous-auth=true"', 'U+00A0 (a no-break space) at character 7'),
    bin: true,
    argv: ['profiles', 'validate', '<tmp>/mine.yaml'],
  },
  valueCase('value-line-separator', 'a value carrying U+2028, a line separator', '"node-1\\u2028x"', 'U+2028 (a line separator) at character 7'),
  valueCase('value-paragraph-separator', 'a value carrying U+2029, a paragraph separator', '"node-1\\u2029x"', 'U+2029 (a paragraph separator) at character 7'),
  valueCase('value-ideographic-space', 'a value carrying U+3000, an ideographic space', '"node-1\\u3000x"', 'U+3000 (an ideographic space) at character 7'),
  valueCase('value-vertical-tab', 'a value carrying a vertical tab, which bash does not split on', '"node-1\\vx"', 'U+000B (a vertical tab) at character 7'),
  valueCase('value-form-feed', 'a value carrying a form feed', '"node-1\\fx"', 'U+000C (a form feed) at character 7'),
  valueCase('value-not-ascii', 'a value with a letter outside ASCII', '"n\\u00f6de-1"', 'U+00F6 at character 2'),
  planCase(
    'node-list-item-unsafe',
    'a list flag on the node holding an item harden would have to write back (`Web` U+3000 `hook`)',
    async (box) => {
      await box.node();
      const file = box.args('kube-apiserver');
      await fs.writeFile(file, (await fs.readFile(file, 'utf8')).replace('--authorization-mode=AlwaysAllow', '--authorization-mode=AlwaysAllow,Web\u3000hook'));
    },
    'error: plan refused: rules apiserver.authorization-mode.no-always-allow, apiserver.authorization-mode.node-rbac: harden will not write --authorization-mode="Web\u3000hook,Node,RBAC": it holds U+3000 (an ideographic space) at character 4; a value may hold only ASCII letters, digits and ! # % * + , - . / : = ? @ [ ] ^ _ ~, and $ only in ${SNAP}, ${SNAP_DATA} or ${SNAP_COMMON}\n' +
      'hint: nothing was written; fix what is named, or leave a rule out with --skip RULE (apiserver.authorization-mode.no-always-allow, apiserver.authorization-mode.node-rbac)\n',
    { input: '--authorization-mode=AlwaysAllow,Web(U+3000)hook' },
  ),
  // Profile identity: a plan names a user's file by its path and digest, whatever the file calls itself.
  {
    id: 'profile-file-named-baseline',
    group: 'Saved plans',
    what: 'a plan made from a user’s profile file that calls itself `baseline` (and turns kubelet anonymous auth on), shown for review',
    input: 'name: baseline',
    argv: ['plan', '--in', '<tmp>/plan.json'],
    setup: async (box) => {
      await box.node();
      await box.file('mine.yaml', FAKE_BASELINE);
      const run = await runInProcessWith(['--root', box.root, 'plan', '--profile', path.join(box.tmp, 'mine.yaml'), '--out', path.join(box.tmp, 'plan.json')]);
      if (run.status !== 0) throw new Error(`setup plan --out failed: ${run.stderr}`);
    },
    expect: {
      status: 0,
      stdout: `Plan for profile mine.yaml "baseline" (file <tmp>/mine.yaml, sha256 ${await shortDigest({ text: FAKE_BASELINE })}…) on <root> (MicroK8s 1.28.0)

Symbols: + add, ~ change, - remove

~ /var/snap/microk8s/current/args/kubelet (snap.microk8s.daemon-kubelite)
    @@ -1,7 +1,7 @@
      --kubeconfig=\${SNAP_DATA}/credentials/kubelet.config
      --cert-dir=\${SNAP_DATA}/certs
      --client-ca-file=\${SNAP_DATA}/certs/ca.crt
    - --anonymous-auth=false
    + --anonymous-auth=true
    # kubelet.anonymous-auth: --anonymous-auth must be true, found false
      --root-dir=\${SNAP_COMMON}/var/lib/kubelet
      --fail-swap-on=false
      --eviction-hard="memory.available<100Mi,nodefs.available<1Gi,imagefs.available<1Gi"

Warnings:
  ! kubelite rewrites its args files at every start: it deletes flags Kubernetes removed (unless var/lock/no-arg-sanitisation exists) and adds --resolv-conf and a few host-specific kubelet flags
  ! the configure hook (every snap refresh and \`snap set microk8s\`) patches some flags in place; \`microk8s join\` overwrites args/kubelet with the control plane's, so harden the joined node again after a join

Plan: 0 to add, 1 to change, 0 to remove in 1 file; restarts: snap.microk8s.daemon-kubelite.
`,
      stderr: '',
    },
  },
  {
    id: 'saved-plan-profile-changed',
    group: 'Saved plans',
    what: 'the profile file a saved plan was made from, edited after the plan was reviewed',
    argv: ['--root', '<root>', 'apply', '<tmp>/plan.json', '--yes'],
    setup: async (box) => {
      await box.node();
      await box.file('mine.yaml', PSP_PROFILE.replace('items: [PodSecurityPolicy]', 'items: [NodeRestriction]'));
      const run = await runInProcessWith(['--root', box.root, 'plan', '--profile', path.join(box.tmp, 'mine.yaml'), '--out', path.join(box.tmp, 'plan.json')]);
      if (run.status !== 0) throw new Error(`setup plan --out failed: ${run.stderr}`);
      await box.file('mine.yaml', PSP_PROFILE.replace('items: [PodSecurityPolicy]', 'items: [NodeRestriction, AlwaysAdmit]'));
    },
    expect: {
      status: 1,
      stderr:
        `error: <tmp>/plan.json was made with profile mine.yaml "mine" (file <tmp>/mine.yaml, sha256 ${await shortDigest({ text: PSP_PROFILE.replace('items: [PodSecurityPolicy]', 'items: [NodeRestriction]') })}…), which is now sha256 ${await shortDigest({ text: PSP_PROFILE.replace('items: [PodSecurityPolicy]', 'items: [NodeRestriction, AlwaysAdmit]') })}…: the profile changed since the plan was made\n` +
        'hint: review the profile, then make a new plan with harden plan --out, review it, and apply that\n',
    },
  },
  // A saved plan is held to the plan schema before any field is used, even when its sha256 was made again.
  {
    id: 'saved-plan-edits-not-objects',
    bin: true,
    group: 'Saved plans',
    what: 'a saved plan whose `files[0].edits` is `[1, null]`, sealed again with a new sha256',
    input: '"edits": [1, null]',
    argv: ['--root', '<root>', 'apply', '<tmp>/plan.json', '--yes'],
    setup: async (box) => {
      await box.node();
      await resealPlan(await savedPlan(box), (doc) => { doc.files[0].edits = [1, null]; });
    },
    expect: { status: 1, stderr: `error: <tmp>/plan.json: files[0].edits[0]: must be an object\n${FORGED_HINT}` },
  },
  {
    id: 'saved-plan-profile-source-number',
    group: 'Saved plans',
    what: 'a saved plan whose `profile.source` is `123`, sealed again with a new sha256',
    input: '"source": 123',
    argv: ['plan', '--in', '<tmp>/plan.json'],
    setup: async (box) => {
      await box.node();
      await resealPlan(await savedPlan(box), (doc) => { doc.profile.source = 123; });
    },
    expect: { status: 1, stderr: `error: <tmp>/plan.json: profile.source: must be one of "shipped", "file"\n${FORGED_HINT}` },
  },
  {
    id: 'saved-plan-shipped-with-file',
    group: 'Saved plans',
    what: 'a saved plan that claims a shipped profile and names a file too, sealed again with a new sha256',
    input: '"source": "shipped", "file": "<tmp>/mine.yaml"',
    argv: ['--root', '<root>', 'apply', '<tmp>/plan.json', '--yes'],
    setup: async (box) => {
      await box.node();
      await box.file('mine.yaml', FAKE_BASELINE);
      await resealPlan(await savedPlan(box), (doc) => { doc.profile.file = path.join(box.tmp, 'mine.yaml'); });
    },
    expect: { status: 1, stderr: `error: <tmp>/plan.json: profile.file: must be null\n${FORGED_HINT}` },
  },
  {
    id: 'saved-plan-path-escapes',
    group: 'Saved plans',
    what: 'a saved plan whose `files[0].path` climbs out with `..`, sealed again with a new sha256',
    input: '"path": "/var/snap/microk8s/current/args/../../../../../etc/shadow"',
    argv: ['--root', '<root>', 'apply', '<tmp>/plan.json', '--yes'],
    setup: async (box) => {
      await box.node();
      await resealPlan(await savedPlan(box), (doc) => { doc.files[0].path = '/var/snap/microk8s/current/args/../../../../../etc/shadow'; });
    },
    expect: { status: 1, stderr: `error: <tmp>/plan.json: files[0].path: must be an absolute path without . or .. segments\n${FORGED_HINT}` },
  },
  {
    id: 'saved-plan-older-format',
    group: 'Saved plans',
    what: 'a `harden.plan/v1` plan, from before plans named their profile’s source and digest',
    input: '"schema": "harden.plan/v1"',
    argv: ['--root', '<root>', 'apply', '<tmp>/plan.json', '--yes'],
    setup: async (box) => {
      await box.node();
      await resealPlan(await savedPlan(box), (doc) => { doc.schema = 'harden.plan/v1'; doc.profile = { name: 'baseline', source: 'profiles/baseline.yaml' }; });
    },
    expect: { status: 1, stderr: 'error: <tmp>/plan.json is not a harden plan: it is a harden.plan/v1 plan, from an earlier harden; this one reads harden.plan/v3\nhint: make one with harden plan --out FILE\n' },
  },
  {
    id: 'saved-plan-fifo',
    group: 'Saved plans',
    what: 'a FIFO given as the saved plan (reading it would never end)',
    argv: ['plan', '--in', '<tmp>/plan.json'],
    setup: async (box) => {
      const made = spawnSync('mkfifo', [path.join(box.tmp, 'plan.json')]);
      if (made.status !== 0) throw new Error('mkfifo failed');
    },
    expect: { status: 1, stderr: 'error: cannot read the plan <tmp>/plan.json: not a regular file\nhint: give the file that harden plan --out FILE wrote\n' },
  },
  // The state dir as an input: owners, modes, links, FIFOs; forged snapshots; drift of modes.
  {
    id: 'state-dir-other-owner',
    group: 'State dir, snapshots and rollback',
    what: 'the state dir belongs to another user (nobody, 0777), who forged a snapshot with `$(touch …)` in a copy of args/k8s-dqlite and recomputed its sha256',
    input: '--x=$(touch <tmp>/MARKER)',
    argv: ['--root', '<root>', 'rollback', '--yes', '--no-restart'],
    setup: async (box) => {
      const id = await appliedNode(box);
      await forgeCopy(box, id, 'k8s-dqlite', `--x=$(touch ${path.join(box.tmp, 'MARKER')})\n`);
      spawnSync('chown', ['-R', '65534:65534', box.stateDir]);
      await fs.chmod(box.stateDir, 0o777);
    },
    expect: {
      status: 1,
      stderr:
        'error: will not use the state directory <root>/var/lib/harden: it is owned by nobody (uid 65534) rather than root, and has mode 0777, which lets group and others write to it\n' +
        'hint: harden trusts only state no other user can write: check what <root>/var/lib/harden holds, then chown root:root <root>/var/lib/harden; chmod go-w <root>/var/lib/harden; or choose another place with --state-dir\n',
    },
  },
  {
    id: 'state-dir-parent-writable',
    group: 'State dir, snapshots and rollback',
    what: '`--state-dir` inside a directory everyone can write (0777, not sticky): another user could swap the state dir',
    argv: ['--root', '<root>', '--state-dir', '<tmp>/shared/state', 'apply', '--yes', '--no-restart'],
    setup: async (box) => {
      await box.node();
      await fs.mkdir(path.join(box.tmp, 'shared'));
      await fs.chmod(path.join(box.tmp, 'shared'), 0o777);
    },
    expect: {
      status: 1,
      stderr:
        'error: will not use the state directory <tmp>/shared/state: its parent <tmp>/shared has mode 0777, which lets group and others write to it (and replace what it holds)\n' +
        'hint: harden trusts only state no other user can write: check what <tmp>/shared holds, then chown root:root <tmp>/shared; chmod go-w <tmp>/shared; or choose another place with --state-dir\n',
    },
  },
  {
    id: 'snapshot-other-owner',
    group: 'State dir, snapshots and rollback',
    what: 'a snapshot whose manifest.json belongs to another user, in a state dir root owns',
    argv: ['--root', '<root>', 'rollback', '--yes', '--no-restart'],
    setup: async (box) => {
      const id = await appliedNode(box);
      await fs.chown(path.join(box.stateDir, 'snapshots', id, 'manifest.json'), 65534, 65534);
    },
    expect: {
      status: 1,
      stderr:
        'error: will not trust the snapshot <id>: <root>/var/lib/harden/snapshots/<id>/manifest.json is owned by nobody (uid 65534) rather than root\n' +
        'hint: harden restores only from regular files no other user can write: find out who made it, and remove the snapshot if it is not yours\n',
    },
  },
  {
    id: 'snapshot-copy-runs-code',
    group: 'State dir, snapshots and rollback',
    what: 'a root-owned snapshot whose copy of args/k8s-dqlite carries `$(touch …)` with a matching sha256 (forged, or written by a broken tool)',
    input: '--x=$(touch <tmp>/MARKER)',
    argv: ['--root', '<root>', 'rollback', '--yes', '--no-restart'],
    setup: async (box) => {
      const id = await appliedNode(box);
      await forgeCopy(box, id, 'k8s-dqlite', `--storage-dir=\${SNAP_DATA}/var/kubernetes/backend/\n--x=$(touch ${path.join(box.tmp, 'MARKER')})\n`);
    },
    expect: {
      status: 1,
      stderr:
        "error: will not roll back <id>: the snapshot's copy of /var/snap/microk8s/current/args/k8s-dqlite has an error on line 2: command substitution $(...): bash would run it as root when reading the file; write the value literally\n" +
        'hint: look at harden snapshots diff ID; pass --force to restore the snapshot anyway\n',
    },
  },
  {
    id: 'state-dir-link-out-of-root',
    group: 'State dir, snapshots and rollback',
    what: '`<root>/var/lib` is a symlink to a directory outside the root: the default state dir would leave `--root`',
    argv: ['--root', '<root>', 'apply', '--yes', '--no-restart'],
    setup: async (box) => {
      await box.node();
      await fs.mkdir(path.join(box.tmp, 'elsewhere'));
      await fs.rmdir(path.join(box.root, 'var/lib'));
      await fs.symlink(path.join(box.tmp, 'elsewhere'), path.join(box.root, 'var/lib'));
    },
    expect: {
      status: 1,
      stderr:
        'error: will not use the state directory <root>/var/lib/harden: it leads out of --root through the symlink <root>/var/lib -> <tmp>/elsewhere\n' +
        'hint: harden keeps its state inside the node it changes: make that path a real directory inside the root, or choose a place with --state-dir\n',
    },
  },
  {
    id: 'snapshot-manifest-fifo',
    group: 'State dir, snapshots and rollback',
    what: "a snapshot's manifest.json is a FIFO (reading it would wait for a writer forever)",
    argv: ['--root', '<root>', 'rollback', '--yes', '--no-restart'],
    setup: async (box) => {
      const id = await appliedNode(box);
      const manifest = path.join(box.stateDir, 'snapshots', id, 'manifest.json');
      await fs.rm(manifest);
      spawnSync('mkfifo', ['-m', '0600', manifest]);
    },
    expect: {
      status: 1,
      stderr:
        'error: will not trust the snapshot <id>: <root>/var/lib/harden/snapshots/<id>/manifest.json is a FIFO, not a regular file\n' +
        'hint: harden restores only from regular files no other user can write: find out who made it, and remove the snapshot if it is not yours\n',
    },
  },
  {
    id: 'snapshot-manifest-dev-zero',
    bin: true,
    group: 'State dir, snapshots and rollback',
    what: "a snapshot's manifest.json is a symlink to /dev/zero (reading it would never end)",
    argv: ['--root', '<root>', 'snapshots', 'list'],
    setup: async (box) => {
      const id = await appliedNode(box);
      const manifest = path.join(box.stateDir, 'snapshots', id, 'manifest.json');
      await fs.rm(manifest);
      await fs.symlink('/dev/zero', manifest);
    },
    expect: {
      status: 1,
      stderr:
        'error: will not trust the snapshot <id>: <root>/var/lib/harden/snapshots/<id>/manifest.json is a symlink: harden never follows links in its state dir\n' +
        'hint: harden restores only from regular files no other user can write: find out who made it, and remove the snapshot if it is not yours\n',
    },
  },
  {
    id: 'rollback-mode-drift',
    group: 'State dir, snapshots and rollback',
    what: 'an args file whose mode was changed after the apply (0660 to 0640): a rollback would undo that unseen',
    argv: ['--root', '<root>', 'rollback', '--yes', '--no-restart'],
    setup: async (box) => {
      await appliedNode(box);
      await fs.chmod(box.args('kube-scheduler'), 0o640);
    },
    expect: {
      status: 1,
      stderr:
        'error: will not roll back <id>: /var/snap/microk8s/current/args/kube-scheduler changed mode since the apply (0660 then, 0640 now)\n' +
        'hint: look at harden snapshots diff ID; pass --force to restore the snapshot anyway\n',
    },
  },
  // Large args files: read exactly, findings capped per file and code, in bounded time and memory.
  {
    id: 'args-file-2mb-stray-words',
    group: 'The node',
    what: 'a 2 MiB `kube-proxy` of stray words (1,000 `x` a line): a million findings, 20 shown and the rest counted',
    input: `('x ' * 1000 + '\\n') * 1048`,
    argv: ['--root', '<root>', 'inspect'],
    setup: async (box) => {
      await box.node();
      await fs.writeFile(box.args('kube-proxy'), `${'x '.repeat(1000)}\n`.repeat(1048));
    },
    expect: { status: 0, stderr: '', stdout: `MicroK8s node at <root>
  version    1.28.0 (snap revision 6089, classic)
  era        kubelite (MicroK8s 1.28.0: kubelite runs the Kubernetes components from 1.21 on)
  role       control plane (no var/lock/clustered.lock and the control plane is not switched off)
  datastore  k8s-dqlite (--etcd-servers points to k8s-dqlite's kine socket)
  revision   /var/snap/microk8s/current -> 6089
  peers      none

Args files in /var/snap/microk8s/current/args
  FILE                                KIND       READER    SERVICE                                          MODE  OWNER          FINDINGS
  admission-control-config-file.yaml  yaml       parse     snap.microk8s.daemon-kubelite                    0660  root:microk8s  -
  apiserver-proxy                     flags      bash      snap.microk8s.daemon-apiserver-proxy (disabled)  0660  root:microk8s  -
  certs.d                             directory  none      snap.microk8s.daemon-containerd                  0750  root:root      -
  cluster-agent                       flags      bash      snap.microk8s.daemon-cluster-agent               0660  root:microk8s  -
  cni-env                             env        source    - (read by MicroK8s’ CNI set-up script)          0660  root:microk8s  -
  cni-network                         directory  none      snap.microk8s.daemon-kubelite                    0750  root:root      -
  containerd                          flags      bash      snap.microk8s.daemon-containerd                  0660  root:microk8s  -
  containerd-env                      env        source    snap.microk8s.daemon-containerd                  0660  root:microk8s  -
  containerd-template.toml            toml       parse     snap.microk8s.daemon-containerd                  0660  root:microk8s  -
  ctr                                 flags      bash      - (read by the \`microk8s ctr\` wrapper)           0660  root:microk8s  -
  etcd                                flags      bash      snap.microk8s.daemon-etcd (disabled)             0660  root:microk8s  1 info
  eventconfig.yaml                    yaml       parse     snap.microk8s.daemon-kubelite                    0660  root:microk8s  -
  flannel-network-mgr-config          json       parse     snap.microk8s.daemon-flanneld (disabled)         0660  root:microk8s  -
  flannel-template.conflist           json       parse     snap.microk8s.daemon-flanneld (disabled)         0660  root:microk8s  -
  flanneld                            flags      bash      snap.microk8s.daemon-flanneld (disabled)         0660  root:microk8s  -
  ha-conf                             config     parse     snap.microk8s.daemon-kubelite                    0660  root:microk8s  -
  k8s-dqlite                          flags      bash      snap.microk8s.daemon-k8s-dqlite                  0660  root:microk8s  -
  k8s-dqlite-env                      env        source    snap.microk8s.daemon-k8s-dqlite                  0660  root:microk8s  -
  kube-apiserver                      flags      kubelite  snap.microk8s.daemon-kubelite                    0660  root:microk8s  -
  kube-controller-manager             flags      kubelite  snap.microk8s.daemon-kubelite                    0660  root:microk8s  -
  kube-proxy                          flags      kubelite  snap.microk8s.daemon-kubelite                    0660  root:microk8s  21 error
  kube-scheduler                      flags      kubelite  snap.microk8s.daemon-kubelite                    0660  root:microk8s  -
  kubectl                             flags      bash      - (read by the \`microk8s kubectl\` wrapper)       0660  root:microk8s  -
  kubectl-env                         env        source    - (sourced by the \`microk8s kubectl\` wrapper)    0660  root:microk8s  -
  kubelet                             flags      kubelite  snap.microk8s.daemon-kubelite                    0660  root:microk8s  -
  kubelite                            flags      bash      snap.microk8s.daemon-kubelite                    0660  root:microk8s  -
  traefik                             directory  none      snap.microk8s.daemon-apiserver-proxy (disabled)  0750  root:root      -

Findings
  etcd:2  info  unknown-variable: unknown variable \${DEFAULT_INTERFACE_IP_ADDR}: its value is not known here
  kube-proxy:1  error  stray-argument: "x" is not a flag: kube-proxy takes no arguments and does not start
  kube-proxy:1  error  stray-argument: "x" is not a flag: kube-proxy takes no arguments and does not start
  kube-proxy:1  error  stray-argument: "x" is not a flag: kube-proxy takes no arguments and does not start
  kube-proxy:1  error  stray-argument: "x" is not a flag: kube-proxy takes no arguments and does not start
  kube-proxy:1  error  stray-argument: "x" is not a flag: kube-proxy takes no arguments and does not start
  kube-proxy:1  error  stray-argument: "x" is not a flag: kube-proxy takes no arguments and does not start
  kube-proxy:1  error  stray-argument: "x" is not a flag: kube-proxy takes no arguments and does not start
  kube-proxy:1  error  stray-argument: "x" is not a flag: kube-proxy takes no arguments and does not start
  kube-proxy:1  error  stray-argument: "x" is not a flag: kube-proxy takes no arguments and does not start
  kube-proxy:1  error  stray-argument: "x" is not a flag: kube-proxy takes no arguments and does not start
  kube-proxy:1  error  stray-argument: "x" is not a flag: kube-proxy takes no arguments and does not start
  kube-proxy:1  error  stray-argument: "x" is not a flag: kube-proxy takes no arguments and does not start
  kube-proxy:1  error  stray-argument: "x" is not a flag: kube-proxy takes no arguments and does not start
  kube-proxy:1  error  stray-argument: "x" is not a flag: kube-proxy takes no arguments and does not start
  kube-proxy:1  error  stray-argument: "x" is not a flag: kube-proxy takes no arguments and does not start
  kube-proxy:1  error  stray-argument: "x" is not a flag: kube-proxy takes no arguments and does not start
  kube-proxy:1  error  stray-argument: "x" is not a flag: kube-proxy takes no arguments and does not start
  kube-proxy:1  error  stray-argument: "x" is not a flag: kube-proxy takes no arguments and does not start
  kube-proxy:1  error  stray-argument: "x" is not a flag: kube-proxy takes no arguments and does not start
  kube-proxy:1  error  stray-argument: "x" is not a flag: kube-proxy takes no arguments and does not start
  kube-proxy:1  error  stray-argument: and 1047980 more in this file, from line 1 on (the first 20 of each code are shown)
` },
  },
  {
    id: 'args-file-16mb-repeated-flag',
    group: 'The node',
    what: 'a 16 MiB `kube-proxy` (just under the limit) of 762,600 `--proxy-mode` lines, the last one `userspace`',
    input: `'--proxy-mode=iptables\\n' * 762599 + '--proxy-mode=userspace\\n'`,
    argv: ['--root', '<root>', 'check', '--only', 'kube-proxy.no-userspace-mode'],
    setup: async (box) => {
      await box.node();
      await fs.writeFile(box.args('kube-proxy'), `${'--proxy-mode=iptables\n'.repeat(762_599)}--proxy-mode=userspace\n`);
    },
    expect: { status: 2, stderr: '', stdout: `Profile baseline on <root> (MicroK8s 1.28.0)
[FAIL]           high      kube-proxy.no-userspace-mode
                           Do not run kube-proxy in userspace mode
                           found: --proxy-mode=userspace (line 762600); --proxy-mode must not include userspace
                           fix: harden --root <root> plan --only kube-proxy.no-userspace-mode

1 rule: 0 passed, 1 failed, 0 blocked, 0 manual, 0 not applicable
Score: high 0/1 (0%)
` },
  },

  // Special files where a component's flags should be: never opened, never "complies".
  {
    id: 'args-files-fifo',
    bin: true,
    group: 'The node',
    what: 'FIFOs where the five Kubernetes components’ args files should be (`mkfifo`)',
    input: 'mkfifo args/kube-apiserver args/kubelet args/kube-proxy args/kube-scheduler args/kube-controller-manager',
    argv: ['--root', '<root>', 'check'],
    setup: async (box) => {
      await box.node();
      for (const name of KUBERNETES_ARGS) await replaceWith(box.args(name), 'mkfifo', []);
    },
    expect: { status: 2, stderr: '', stdout: `Profile baseline on <root> (MicroK8s 1.28.0)
[BLOCKED]        high      kubelet.read-only-port [CIS 4.2.4]
                           Close the kubelet read-only port 10255
                           found: -; /var/snap/microk8s/current/args/kubelet is a FIFO, not an args file: harden does not open it, and kubelet cannot read flags from it
[BLOCKED]        critical  kubelet.anonymous-auth [CIS 4.2.1]
                           Refuse anonymous requests to the kubelet
                           found: -; /var/snap/microk8s/current/args/kubelet is a FIFO, not an args file: harden does not open it, and kubelet cannot read flags from it
[BLOCKED]        high      kubelet.client-ca-file [CIS 4.2.3]
                           Authenticate kubelet clients by certificate against MicroK8s' CA
                           found: -; /var/snap/microk8s/current/args/kubelet is a FIFO, not an args file: harden does not open it, and kubelet cannot read flags from it
[BLOCKED]        high      apiserver.kubelet-client-certificate [CIS 1.2.4]
                           Authenticate the API server to kubelets with a client certificate
                           found: -; /var/snap/microk8s/current/args/kube-apiserver is a FIFO, not an args file: harden does not open it, and kube-apiserver cannot read flags from it
[BLOCKED]        high      apiserver.kubelet-client-key [CIS 1.2.4]
                           Give the API server the key of its kubelet client certificate
                           found: -; /var/snap/microk8s/current/args/kube-apiserver is a FIFO, not an args file: harden does not open it, and kube-apiserver cannot read flags from it
[BLOCKED]        critical  apiserver.authorization-mode.no-always-allow [CIS 1.2.6]
                           Do not authorize every request (AlwaysAllow)
                           found: -; /var/snap/microk8s/current/args/kube-apiserver is a FIFO, not an args file: harden does not open it, and kube-apiserver cannot read flags from it
[BLOCKED]        critical  apiserver.authorization-mode.node-rbac [CIS 1.2.7, 1.2.8]
                           Authorize with Node and RBAC
                           found: -; /var/snap/microk8s/current/args/kube-apiserver is a FIFO, not an args file: harden does not open it, and kube-apiserver cannot read flags from it
[BLOCKED]        high      kube-proxy.no-userspace-mode
                           Do not run kube-proxy in userspace mode
                           found: -; /var/snap/microk8s/current/args/kube-proxy is a FIFO, not an args file: harden does not open it, and kube-proxy cannot read flags from it
[BLOCKED]        medium    kube-scheduler.bind-address [CIS 1.4.2]
                           Serve the scheduler only on localhost
                           found: -; /var/snap/microk8s/current/args/kube-scheduler is a FIFO, not an args file: harden does not open it, and kube-scheduler cannot read flags from it
[BLOCKED]        low       kube-scheduler.profiling [CIS 1.4.1]
                           Turn off scheduler profiling
                           found: -; /var/snap/microk8s/current/args/kube-scheduler is a FIFO, not an args file: harden does not open it, and kube-scheduler cannot read flags from it
[BLOCKED]        medium    kube-controller-manager.bind-address [CIS 1.3.7]
                           Serve the controller manager only on localhost
                           found: -; /var/snap/microk8s/current/args/kube-controller-manager is a FIFO, not an args file: harden does not open it, and kube-controller-manager cannot read flags from it
[BLOCKED]        low       kube-controller-manager.profiling [CIS 1.3.2]
                           Turn off controller-manager profiling
                           found: -; /var/snap/microk8s/current/args/kube-controller-manager is a FIFO, not an args file: harden does not open it, and kube-controller-manager cannot read flags from it
[BLOCKED]        medium    etcd.trusted-ca-file [CIS 2.7]
                           Verify etcd clients against a CA (--trusted-ca-file)
                           found: -; which datastore this node uses cannot be told: /var/snap/microk8s/current/args/kube-apiserver is a FIFO, not an args file: harden does not open it, and kube-apiserver cannot read flags from it
[BLOCKED]        high      etcd.exposure
                           Nothing of etcd listens beyond localhost without authentication
                           found: -; which datastore this node uses cannot be told: /var/snap/microk8s/current/args/kube-apiserver is a FIFO, not an args file: harden does not open it, and kube-apiserver cannot read flags from it
[BLOCKED]        high      k8s-dqlite.exposure
                           Nothing of dqlite listens beyond localhost without authentication
                           found: -; which datastore this node uses cannot be told: /var/snap/microk8s/current/args/kube-apiserver is a FIFO, not an args file: harden does not open it, and kube-apiserver cannot read flags from it
[FAIL]           high      file.kube-apiserver.reader
                           kube-apiserver reads args/kube-apiserver and starts with it
                           found: not-a-file; not-a-file: /var/snap/microk8s/current/args/kube-apiserver is a FIFO, not an args file: harden does not open it, and kube-apiserver cannot read flags from it; replace /var/snap/microk8s/current/args/kube-apiserver with a regular file, harden does not edit it
                           fix: by hand, as the reason says (harden inspect lists every finding of the file)
[FAIL]           high      file.kube-controller-manager.reader
                           kube-controller-manager reads args/kube-controller-manager and starts with it
                           found: not-a-file; not-a-file: /var/snap/microk8s/current/args/kube-controller-manager is a FIFO, not an args file: harden does not open it, and kube-controller-manager cannot read flags from it; replace /var/snap/microk8s/current/args/kube-controller-manager with a regular file, harden does not edit it
                           fix: by hand, as the reason says (harden inspect lists every finding of the file)
[FAIL]           high      file.kube-proxy.reader
                           kube-proxy reads args/kube-proxy and starts with it
                           found: not-a-file; not-a-file: /var/snap/microk8s/current/args/kube-proxy is a FIFO, not an args file: harden does not open it, and kube-proxy cannot read flags from it; replace /var/snap/microk8s/current/args/kube-proxy with a regular file, harden does not edit it
                           fix: by hand, as the reason says (harden inspect lists every finding of the file)
[FAIL]           high      file.kube-scheduler.reader
                           kube-scheduler reads args/kube-scheduler and starts with it
                           found: not-a-file; not-a-file: /var/snap/microk8s/current/args/kube-scheduler is a FIFO, not an args file: harden does not open it, and kube-scheduler cannot read flags from it; replace /var/snap/microk8s/current/args/kube-scheduler with a regular file, harden does not edit it
                           fix: by hand, as the reason says (harden inspect lists every finding of the file)
[FAIL]           high      file.kubelet.reader
                           kubelet reads args/kubelet and starts with it
                           found: not-a-file; not-a-file: /var/snap/microk8s/current/args/kubelet is a FIFO, not an args file: harden does not open it, and kubelet cannot read flags from it; replace /var/snap/microk8s/current/args/kubelet with a regular file, harden does not edit it
                           fix: by hand, as the reason says (harden inspect lists every finding of the file)
10 not applicable to this node (--verbose lists them)

30 rules: 0 passed, 5 failed, 15 blocked, 0 manual, 10 not applicable
Score: critical 0/3 (0%), high 0/12 (0%), medium 0/3 (0%), low 0/2 (0%)
` },
  },
  {
    id: 'args-file-char-device',
    group: 'The node',
    what: 'a character device (`mknod c 1 5`, /dev/zero) where kube-proxy’s args file should be',
    input: 'mknod args/kube-proxy c 1 5',
    argv: ['--root', '<root>', 'check', '--only', 'kube-proxy.no-userspace-mode'],
    setup: async (box) => {
      await box.node();
      await replaceWith(box.args('kube-proxy'), 'mknod', ['c', '1', '5']);
    },
    expect: { status: 2, stderr: '', stdout: `Profile baseline on <root> (MicroK8s 1.28.0)
[BLOCKED]        high      kube-proxy.no-userspace-mode
                           Do not run kube-proxy in userspace mode
                           found: -; /var/snap/microk8s/current/args/kube-proxy is a character device, not an args file: harden does not open it, and kube-proxy cannot read flags from it
[FAIL]           high      file.kube-proxy.reader
                           kube-proxy reads args/kube-proxy and starts with it
                           found: not-a-file; not-a-file: /var/snap/microk8s/current/args/kube-proxy is a character device, not an args file: harden does not open it, and kube-proxy cannot read flags from it; replace /var/snap/microk8s/current/args/kube-proxy with a regular file, harden does not edit it
                           fix: by hand, as the reason says (harden inspect lists every finding of the file)

2 rules: 0 passed, 1 failed, 1 blocked, 0 manual, 0 not applicable
Score: high 0/2 (0%)
` },
  },
  {
    id: 'args-file-socket',
    group: 'The node',
    what: 'a listening Unix socket where the kubelet’s args file should be',
    input: 'args/kubelet is a socket',
    argv: ['--root', '<root>', 'check', '--only', 'kubelet.read-only-port'],
    setup: async (box) => {
      await box.node();
      await fs.rm(box.args('kubelet'));
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(box.args('kubelet'), resolve));
      box.onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
    },
    expect: { status: 2, stderr: '', stdout: `Profile baseline on <root> (MicroK8s 1.28.0)
[BLOCKED]        high      kubelet.read-only-port [CIS 4.2.4]
                           Close the kubelet read-only port 10255
                           found: -; /var/snap/microk8s/current/args/kubelet is a socket, not an args file: harden does not open it, and kubelet cannot read flags from it
[FAIL]           high      file.kubelet.reader
                           kubelet reads args/kubelet and starts with it
                           found: not-a-file; not-a-file: /var/snap/microk8s/current/args/kubelet is a socket, not an args file: harden does not open it, and kubelet cannot read flags from it; replace /var/snap/microk8s/current/args/kubelet with a regular file, harden does not edit it
                           fix: by hand, as the reason says (harden inspect lists every finding of the file)

2 rules: 0 passed, 1 failed, 1 blocked, 0 manual, 0 not applicable
Score: high 0/2 (0%)
` },
  },
  {
    id: 'args-file-unreadable-check',
    group: 'The node',
    what: '`check` with an args file harden may not read (EACCES): the whole check fails, never a rule judged without it',
    argv: ['--root', '<root>', 'check'],
    injected: 'EACCES on reading args/kube-proxy',
    setup: async (box) => {
      await box.node();
      return { fs: failingFs('readRegularFile', '/args/kube-proxy', 'EACCES') };
    },
    expect: { status: 1, stderr: `error: cannot read /var/snap/microk8s/current/args/kube-proxy (EACCES)
hint: run harden as root (sudo), as MicroK8s keeps these files private
` },
  },
  {
    id: 'args-file-io-error-check',
    group: 'The node',
    what: '`check` with an I/O error reading an args file (EIO)',
    argv: ['--root', '<root>', 'check'],
    injected: 'EIO on reading args/kube-apiserver',
    setup: async (box) => {
      await box.node();
      return { fs: failingFs('readRegularFile', '/args/kube-apiserver', 'EIO') };
    },
    expect: { status: 1, stderr: `error: cannot read /var/snap/microk8s/current/args/kube-apiserver (EIO)
hint: check the disk and the file’s permissions
` },
  },
  {
    id: 'fleet-root-with-fifo-and-broken-root',
    group: 'The node',
    what: '`check --roots` over three nodes: one with a FIFO for kube-proxy, one without MicroK8s; each reported in its place',
    argv: ['check', '--roots', '<tmp>/fleet', '--only', 'kube-proxy.no-userspace-mode'],
    setup: async (box) => {
      const fleet = path.join(box.tmp, 'fleet');
      await fs.mkdir(path.join(fleet, 'a'), { recursive: true });
      await layOutNode(path.join(fleet, 'a'), { version: '1.28' });
      await fs.mkdir(path.join(fleet, 'b/var/snap/microk8s'), { recursive: true });
      await fs.mkdir(path.join(fleet, 'c'));
      await layOutNode(path.join(fleet, 'c'), { version: '1.28' });
      await replaceWith(path.join(fleet, 'c/var/snap/microk8s', DEFAULT_REVISIONS['1.28'], 'args/kube-proxy'), 'mkfifo', []);
    },
    expect: { status: 1, stderr: `error: <tmp>/fleet/b: /var/snap/microk8s/current not found: MicroK8s is not installed in this root
hint: check --root; on a node, \`snap list microk8s\` shows whether MicroK8s is installed
`, stdout: `Profile baseline on <tmp>/fleet/a (MicroK8s 1.28.0)
[PASS]           high      kube-proxy.no-userspace-mode
                           Do not run kube-proxy in userspace mode
                           found: absent; --proxy-mode excludes userspace

1 rule: 1 passed, 0 failed, 0 blocked, 0 manual, 0 not applicable — the selected rules pass
Score: high 1/1 (100%)

Profile baseline on <tmp>/fleet/b
error: /var/snap/microk8s/current not found: MicroK8s is not installed in this root
hint: check --root; on a node, \`snap list microk8s\` shows whether MicroK8s is installed

not checked

Profile baseline on <tmp>/fleet/c (MicroK8s 1.28.0)
[BLOCKED]        high      kube-proxy.no-userspace-mode
                           Do not run kube-proxy in userspace mode
                           found: -; /var/snap/microk8s/current/args/kube-proxy is a FIFO, not an args file: harden does not open it, and kube-proxy cannot read flags from it
[FAIL]           high      file.kube-proxy.reader
                           kube-proxy reads args/kube-proxy and starts with it
                           found: not-a-file; not-a-file: /var/snap/microk8s/current/args/kube-proxy is a FIFO, not an args file: harden does not open it, and kube-proxy cannot read flags from it; replace /var/snap/microk8s/current/args/kube-proxy with a regular file, harden does not edit it
                           fix: by hand, as the reason says (harden inspect lists every finding of the file)

2 rules: 0 passed, 1 failed, 1 blocked, 0 manual, 0 not applicable
Score: high 0/2 (0%)
` },
  },
  {
    id: 'args-file-bash-would-run',
    group: 'Args files bash reads',
    what: 'a bash-read args file that already has an error (here a `$(...)` bash would run): harden does not edit it',
    input: "--kubeconfig=${SNAP_DATA}/credentials/scheduler.config\\n--address=127.0.0.1\\n--profiling=true '$(touch /tmp/PWNED)' $(:)\\n--profiling='true\\n$(touch /tmp/PWNED) #'\\n",
    argv: ['--root', '<root>', 'apply', '--yes', '--no-restart', '--only', 'kube-scheduler.profiling'],
    setup: async (box) => {
      await box.node('1.18');
      await fs.writeFile(box.args('kube-scheduler'), "--kubeconfig=${SNAP_DATA}/credentials/scheduler.config\n--address=127.0.0.1\n--profiling=true '$(touch /tmp/PWNED)' $(:)\n--profiling='true\n$(touch /tmp/PWNED) #'\n");
    },
    expect: {
      status: 1,
      stderr: 'error: plan refused: rule kube-scheduler.profiling: /var/snap/microk8s/current/args/kube-scheduler: unsafe-file: line 3: command substitution $(...): bash would run it as root when reading the file; write the value literally (and 2 more errors); harden does not edit a file that bash cannot read safely\nhint: nothing was written; fix line 3 of /var/snap/microk8s/current/args/kube-scheduler by hand (harden check lists what is wrong with it), then run harden again, or leave a rule out with --skip RULE\n',
    },
  },
  {
    id: 'args-file-flag-opens-quote',
    group: 'Args files bash reads',
    what: 'the flag line an edit would rewrite opens a quoted string that the next lines continue: rewriting it would set them free',
    input: "--kubeconfig=${SNAP_DATA}/credentials/scheduler.config\\n--profiling='true\\n$(touch /tmp/PWNED) #'\\n",
    argv: ['--root', '<root>', 'plan', '--only', 'kube-scheduler.profiling'],
    setup: async (box) => {
      await box.node('1.18');
      await fs.writeFile(box.args('kube-scheduler'), "--kubeconfig=${SNAP_DATA}/credentials/scheduler.config\n--profiling='true\n$(touch /tmp/PWNED) #'\n");
    },
    expect: {
      status: 1,
      stderr: 'error: plan refused: rule kube-scheduler.profiling: /var/snap/microk8s/current/args/kube-scheduler: quote-state: line 2 of the original, which the edit removes or rewrites, ends inside a quoted string, construct or line continuation that the next line continues\nerror: plan refused: rule kube-scheduler.profiling: /var/snap/microk8s/current/args/kube-scheduler: quote-state: line 3 was inside a quoted string, construct or line continuation that begins on line 2; after the edit bash would read it as words of its own, and run any $(...) in it\nhint: nothing was written; fix line 2 of /var/snap/microk8s/current/args/kube-scheduler by hand (harden check lists what is wrong with it), then run harden again, or leave a rule out with --skip RULE (kube-scheduler.profiling)\n',
    },
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
  {
    id: 'saved-plan-v2',
    group: 'Saved plans',
    what: 'a `harden.plan/v2` plan, from before plans said which node they were made for',
    input: '"schema": "harden.plan/v2"',
    argv: ['--root', '<root>', 'apply', '<tmp>/plan.json', '--yes'],
    setup: async (box) => {
      await box.node();
      await resealPlan(await savedPlan(box), (doc) => { doc.schema = 'harden.plan/v2'; delete doc.identity; });
    },
    expect: { status: 1, stderr: 'error: <tmp>/plan.json is not a harden plan: it is a harden.plan/v2 plan, from an earlier harden; this one reads harden.plan/v3\nhint: make one with harden plan --out FILE\n' },
  },
  {
    id: 'saved-plan-on-a-copy',
    group: 'Saved plans',
    what: 'a plan applied to a byte-exact copy of the root it was made for (`cp -a`, a cloned image): same files, same machine-id',
    input: 'cp -a <root> <tmp>/copy',
    argv: ['--root', '<tmp>/copy', 'apply', '<tmp>/plan.json', '--yes'],
    setup: async (box) => {
      await box.node();
      await fs.writeFile(path.join(box.root, 'etc/machine-id'), `${MACHINE_ID}\n`);
      await savedPlan(box);
      spawnSync('cp', ['-a', box.root, path.join(box.tmp, 'copy')]);
    },
    expect: {
      status: 1,
      stderr: `error: <tmp>/plan.json was made for <root> (machine-id ${MACHINE_ID}, revision 6089), not this one: here the root is <tmp>/copy\n${ELSEWHERE_HINT}`,
    },
  },
  {
    id: 'saved-plan-other-machine-id',
    group: 'Saved plans',
    what: 'a plan applied to the root it was made for, whose `etc/machine-id` is now another (the disk moved to another machine)',
    input: 'etc/machine-id: fedcba9876543210fedcba9876543210',
    argv: ['--root', '<root>', 'apply', '<tmp>/plan.json', '--yes'],
    setup: async (box) => {
      await box.node();
      await fs.writeFile(path.join(box.root, 'etc/machine-id'), `${MACHINE_ID}\n`);
      await savedPlan(box);
      await fs.writeFile(path.join(box.root, 'etc/machine-id'), 'fedcba9876543210fedcba9876543210\n');
    },
    expect: {
      status: 1,
      stderr: `error: <tmp>/plan.json was made for <root> (machine-id ${MACHINE_ID}, revision 6089), not this one: here the machine-id is fedcba9876543210fedcba9876543210\n${ELSEWHERE_HINT}`,
    },
  },
  {
    id: 'saved-plan-other-revision',
    group: 'Saved plans',
    what: 'a plan applied to the root it was made for after the snap moved to another revision (the args files the same)',
    input: 'var/snap/microk8s/current -> 9999',
    argv: ['--root', '<root>', 'apply', '<tmp>/plan.json', '--yes'],
    setup: async (box) => {
      await box.node();
      await savedPlan(box);
      const snap = path.join(box.root, 'var/snap/microk8s');
      spawnSync('cp', ['-a', path.join(snap, box.revision), path.join(snap, '9999')]);
      await relink(path.join(snap, 'current'), '9999');
    },
    expect: {
      status: 1,
      stderr: `error: <tmp>/plan.json was made for <root> (no machine-id, revision 6089), not this one: here the revision is 9999\n${ELSEWHERE_HINT}`,
    },
  },
  {
    id: 'args-file-trailing-comment-check',
    group: 'The node',
    what: '`check` with `--authorization-mode=AlwaysAllow # set by ops` in a file kubelite reads: kubelite passes `#` on as arguments and kube-apiserver does not start',
    input: 'a trailing comment on line 3 of args/kube-apiserver (1.28)',
    argv: ['--root', '<root>', 'check', '--only', 'apiserver.authorization-mode.node-rbac'],
    setup: async (box) => {
      await box.node();
      const file = box.args('kube-apiserver');
      await fs.writeFile(file, (await fs.readFile(file, 'utf8')).replace('--authorization-mode=AlwaysAllow\n', '--authorization-mode=AlwaysAllow # set by ops\n'));
    },
    expect: { status: 2, stderr: '', stdout: `Profile baseline on <root> (MicroK8s 1.28.0)
[FAIL]           critical  apiserver.authorization-mode.node-rbac [CIS 1.2.7, 1.2.8]
                           Authorize with Node and RBAC
                           found: --authorization-mode=AlwaysAllow (line 3); --authorization-mode must include Node, RBAC
                           fix: harden --root <root> plan --only apiserver.authorization-mode.node-rbac
[FAIL]           high      file.kube-apiserver.reader
                           kube-apiserver reads args/kube-apiserver and starts with it
                           found: stray-argument (line 3); line 3: stray-argument: "#" is not a flag: kube-apiserver takes no arguments and does not start (and 3 more errors); fix line 3 of /var/snap/microk8s/current/args/kube-apiserver by hand, harden does not edit it
                           fix: by hand, as the reason says (harden inspect lists every finding of the file)

2 rules: 0 passed, 2 failed, 0 blocked, 0 manual, 0 not applicable
Score: critical 0/1 (0%), high 0/1 (0%)
` },
  },
  {
    id: 'args-file-trailing-comment-plan',
    group: 'The node',
    what: '`plan` for a rule of that file: refused, naming the line to fix by hand (never `--authorization-mode=Node,RBAC # set by ops`)',
    input: 'a trailing comment on line 3 of args/kube-apiserver (1.28)',
    argv: ['--root', '<root>', 'plan', '--only', 'apiserver.authorization-mode.node-rbac'],
    setup: async (box) => {
      await box.node();
      const file = box.args('kube-apiserver');
      await fs.writeFile(file, (await fs.readFile(file, 'utf8')).replace('--authorization-mode=AlwaysAllow\n', '--authorization-mode=AlwaysAllow # set by ops\n'));
    },
    expect: {
      status: 1,
      stderr: 'error: plan refused: rule apiserver.authorization-mode.node-rbac: /var/snap/microk8s/current/args/kube-apiserver: unsafe-file: line 3: "#" is not a flag: kube-apiserver takes no arguments and does not start (and 3 more errors); harden does not edit a file that kubelite cannot read safely\nhint: nothing was written; fix line 3 of /var/snap/microk8s/current/args/kube-apiserver by hand (harden check lists what is wrong with it), then run harden again, or leave a rule out with --skip RULE (apiserver.authorization-mode.node-rbac)\n',
    },
  },
  {
    id: 'containerd-reader-fails-check',
    group: 'The node',
    what: '`check` with an unbalanced quote in args/containerd: bash refuses the file and containerd does not start, whatever rules are selected',
    input: '`--log-level "info` added to args/containerd',
    argv: ['--root', '<root>', 'check', '--only', 'kubelet.read-only-port'],
    setup: async (box) => {
      await box.node();
      await fs.appendFile(box.args('containerd'), '--log-level "info\n');
    },
    expect: { status: 2, stderr: '', stdout: `Profile baseline on <root> (MicroK8s 1.28.0)
[PASS]           high      kubelet.read-only-port [CIS 4.2.4]
                           Close the kubelet read-only port 10255
                           found: --read-only-port=0 (line 12); --read-only-port is 0
[FAIL]           high      file.containerd.reader
                           containerd reads args/containerd and starts with it
                           found: reader-fails (line 5); line 5: reader-fails: unbalanced double quote: bash refuses the whole file and the daemon does not start; close the quote; fix line 5 of /var/snap/microk8s/current/args/containerd by hand, harden does not edit it
                           fix: by hand, as the reason says (harden inspect lists every finding of the file)

2 rules: 1 passed, 1 failed, 0 blocked, 0 manual, 0 not applicable
Score: high 1/2 (50%)
` },
  },
  planCase('args-dir-replaced-by-file', 'the args dir was replaced by a regular file', async (box) => {
    await box.node();
    await fs.rm(box.args(), { recursive: true });
    await fs.writeFile(box.args(), '--read-only-port=0\n');
  }, 'error: args dir /var/snap/microk8s/current/args is not a directory (it is a regular file)\nhint: MicroK8s reads its args files from this directory: move what is there aside and restore the directory from a backup or snapshot\n'),
  {
    id: 'profile-name-in-capitals',
    group: 'Profiles',
    what: 'a shipped profile named in capitals (`--profile CIS`), which is no file either',
    argv: ['--root', '<root>', 'plan', '--profile', 'CIS'],
    setup: (box) => box.node(),
    expect: { status: 1, stderr: 'error: unknown profile "CIS"\nhint: did you mean cis? shipped profiles: baseline, cis, cis-1-12; or pass a file path\n' },
  },
  profileCase(
    'profile-misspelled-field',
    'a rule field misspelled (`operaton:`): the unknown field and the one meant, not a "missing field" for each operation',
    `${HEAD}${RULE_START}    severity: low\n    component: kubelet\n    operaton: set-flag\n    flag: --hostname-override\n    value: node-1\n`,
    'operaton: set-flag',
    'error: <tmp>/mine.yaml:11: rule kubelet.hostname: unknown field "operaton"; did you mean "operation"?\nhint: fix the profile; profiles/schema.json describes the format\n',
  ),
  {
    id: 'profile-unknown-flag',
    group: 'Profiles',
    what: '`profiles validate` on a rule whose flag the flag catalogue does not list (a misspelling): a warning with the nearest flag, exit 0',
    input: 'flag: --hostname-overide',
    argv: ['profiles', 'validate', '<tmp>/mine.yaml'],
    setup: async (box) => {
      await box.file('mine.yaml', `${HEAD}${RULE_START}    severity: low\n    component: kubelet\n    operation: set-flag\n    flag: --hostname-overide\n    value: node-1\n`);
    },
    expect: {
      status: 0,
      stdout: '<tmp>/mine.yaml: valid (profile mine, 1 rules)\n',
      stderr: "warning: <tmp>/mine.yaml:12: rule kubelet.hostname: flag --hostname-overide is not in harden's flag catalogue for kubelet; did you mean --hostname-override?\n",
    },
  },
  {
    id: 'wait-not-a-number',
    group: 'Locks',
    what: '`--wait` (how long to wait for another harden run) given a word, not seconds',
    argv: ['--root', '<root>', 'apply', '--yes', '--wait', 'abc'],
    setup: async (box) => void (await box.node()),
    expect: { status: 1, stderr: 'error: --wait takes a number of seconds from 0 to 86400 (got "abc")\nhint: for example --wait 60\n' },
  },
  {
    id: 'preflight-ca-not-pem',
    group: 'Health',
    what: 'the CA file credentials/client.config names is not a certificate: the API server probe could never pass, so apply stops before any gate or prompt',
    input: 'certificate-authority: /var/snap/microk8s/current/certs/ca.crt (holding `not a certificate`)',
    argv: ['--root', '<root>', 'apply', '--yes', '--force'],
    setup: async (box) => {
      const node = await box.liveNode();
      const config = path.join(node.dataDir, 'credentials/client.config');
      await fs.writeFile(config, (await fs.readFile(config, 'utf8')).replace(/certificate-authority-data: .*/, 'certificate-authority: /var/snap/microk8s/current/certs/ca.crt'));
      await fs.writeFile(path.join(node.dataDir, 'certs/ca.crt'), 'not a certificate\n');
    },
    expect: {
      status: 1,
      stderr:
        'error: the CA /var/snap/microk8s/current/certs/ca.crt is not a PEM X.509 certificate: the API server probe cannot pass; nothing was written\n' +
        'hint: fix the credentials the health probes read (credentials/client.config and the files it names), or pass --no-restart to write the files only\n',
    },
  },
  {
    id: 'cluster-facts-too-old',
    group: 'Cluster facts',
    what: '`--cluster` names cluster facts made more than an hour ago (the limit --cluster-max-age sets): a decision from stale facts is refused',
    input: '"createdAt": "2020-01-01T00:00:00.000Z"',
    argv: ['--root', '<root>', 'check', '--cluster', '<tmp>/cluster.json'],
    setup: async (box) => {
      await box.node();
      await box.file('cluster.json', clusterFacts('2020-01-01T00:00:00.000Z'));
    },
    expect: {
      status: 1,
      stderr:
        'error: <tmp>/cluster.json was made 2020-01-01T00:00:00.000Z, more than 1h ago\n' +
        'hint: gather the facts again (harden facts on each node, then harden cluster facts), or allow older ones with --cluster-max-age SECONDS\n',
    },
  },
  {
    id: 'cluster-facts-invalid',
    group: 'Cluster facts',
    what: 'cluster facts that do not pass the schema (a node whose role is neither control-plane nor worker): refused by field before any is used',
    input: '"role": "leader"',
    argv: ['--root', '<root>', 'plan', '--cluster', '<tmp>/cluster.json'],
    setup: async (box) => {
      await box.node();
      await box.file('cluster.json', clusterFacts(new Date().toISOString()).replace('"role": "worker"', '"role": "leader"'));
    },
    expect: { status: 1, stderr: 'error: <tmp>/cluster.json: nodes[1].role: must be one of "control-plane", "worker"\nhint: make them again with harden cluster facts NODE.json… --out FILE\n' },
  },
  {
    id: 'cluster-facts-other-profile',
    group: 'Cluster facts',
    what: 'cluster facts gathered with another profile than the one this check uses',
    input: '"profile": { "name": "baseline", "sha256": "sha256:1111…" }',
    argv: ['--root', '<root>', 'check', '--profile', 'cis', '--cluster', '<tmp>/cluster.json'],
    setup: async (box) => {
      await box.node();
      await box.file('cluster.json', clusterFacts(new Date().toISOString()));
    },
    expect: {
      status: 1,
      stderr: `error: <tmp>/cluster.json holds facts for profile baseline (sha256 1111111111111111…), not cis (sha256 ${cisShort()}…)\nhint: use the profile the facts were gathered with (--profile), or gather them again with this one\n`,
    },
  },
  {
    id: 'cluster-facts-node-twice',
    group: 'Cluster facts',
    what: '`cluster facts` given two files of facts for the same node name',
    argv: ['cluster', 'facts', '<tmp>/a.json', '<tmp>/b.json'],
    setup: async (box) => {
      const facts = nodeFacts(new Date().toISOString(), 'cp-1', 'control-plane');
      await box.file('a.json', facts);
      await box.file('b.json', facts);
    },
    expect: { status: 1, stderr: 'error: <tmp>/b.json and <tmp>/a.json are both node cp-1\nhint: give each node once, or name nodes apart with harden facts --node-name NAME\n' },
  },
  {
    id: 'cluster-max-age-without-cluster',
    group: 'Cluster facts',
    what: '`--cluster-max-age` without `--cluster`: an age limit for no facts',
    argv: ['--root', '<root>', 'check', '--cluster-max-age', '60'],
    setup: async (box) => void (await box.node()),
    expect: { status: 1, stderr: 'error: --cluster-max-age goes with --cluster\nhint: name the cluster facts with --cluster FILE\n' },
  },
  {
    id: 'cluster-stdin-nothing-piped',
    group: 'Cluster facts',
    what: '`--cluster -` (the facts on standard input) with nothing piped in',
    argv: ['--root', '<root>', 'plan', '--cluster', '-'],
    setup: async (box) => void (await box.node()),
    expect: { status: 1, stderr: 'error: cannot read the cluster facts from standard input: nothing is piped in\nhint: pipe them in (harden plan --cluster - < cluster.json), or name the file: --cluster FILE\n' },
  },
  {
    id: 'cluster-facts-stdin-nothing-piped',
    group: 'Cluster facts',
    what: "`cluster facts --stdin` (every node's facts as one JSON array on standard input) with nothing piped in",
    argv: ['cluster', 'facts', '--stdin'],
    setup: async () => {},
    expect: { status: 1, stderr: "error: cannot read the node facts from standard input: nothing is piped in\nhint: pipe in a JSON array of the nodes' harden facts documents, or name one file per node\n" },
  },
  {
    id: 'assume-planned-without-cluster',
    group: 'Cluster facts',
    what: "`plan --assume-planned` (count what the control planes' own plans fix) without cluster facts",
    argv: ['--root', '<root>', 'plan', '--assume-planned'],
    setup: async (box) => void (await box.node()),
    expect: { status: 1, stderr: 'error: --assume-planned goes with --cluster\nhint: name the cluster facts with --cluster FILE: what the control planes plan is in them\n' },
  },
  {
    id: 'assume-planned-saved',
    group: 'Cluster facts',
    what: '`plan --assume-planned --out`: a saved plan that counts changes not yet made on the control planes',
    argv: ['--root', '<root>', 'plan', '--cluster', '<tmp>/cluster.json', '--assume-planned', '--out', '<tmp>/plan.json'],
    setup: async (box) => {
      await box.node();
      await box.file('cluster.json', clusterFacts(new Date().toISOString()));
    },
    expect: {
      status: 1,
      stderr: 'error: --assume-planned does not go with --out: that plan counts changes the control planes have not made yet\nhint: save the plan once the control planes are hardened, without --assume-planned\n',
    },
  },
  {
    id: 'rollout-id-not-a-word',
    group: 'Command line',
    what: '`--rollout` (the rollout id recorded in the snapshot) given a value with a space',
    argv: ['--root', '<root>', 'apply', '--yes', '--rollout', 'a b'],
    setup: async (box) => void (await box.node()),
    expect: { status: 1, stderr: `error: --rollout takes 1 to 64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit (got "a b")\nhint: for example --rollout 2026-12-06T23-50\n` },
  },
  {
    id: 'drift-yes-without-reapply',
    group: 'Command line',
    what: '`drift --yes` without `--reapply`: there is nothing to confirm',
    argv: ['--root', '<root>', 'drift', '--yes'],
    setup: async (box) => void (await box.node()),
    expect: { status: 1, stderr: 'error: --yes goes with --reapply\nhint: harden drift --reapply --yes puts back what drifted without asking\n' },
  },
  // harden watch: the units and the automatic re-apply policy.
  {
    id: 'watch-interval-not-a-span',
    group: 'Watch',
    what: '`watch install --interval` given a time below a minute',
    argv: ['--root', '<root>', 'watch', 'install', '--interval', '5s'],
    setup: async (box) => watchRoot(box),
    expect: { status: 1, stderr: 'error: --interval takes a time from 1min to 7d such as 90s, 15min, 1h or 1d (got "5s")\nhint: for example --interval 15min\n' },
  },
  {
    id: 'watch-max-per-hour-out-of-range',
    group: 'Watch',
    what: '`watch enable-auto --max-per-hour 0`',
    argv: ['--root', '<root>', 'watch', 'enable-auto', '--max-per-hour', '0'],
    setup: async (box) => watchRoot(box),
    expect: { status: 1, stderr: 'error: --max-per-hour takes a whole number from 1 to 12 (got "0")\nhint: for example --max-per-hour 1\n' },
  },
  {
    id: 'watch-max-per-hour-without-auto-reapply',
    group: 'Watch',
    what: '`watch install --max-per-hour` without `--auto-reapply`',
    argv: ['--root', '<root>', 'watch', 'install', '--max-per-hour', '2'],
    setup: async (box) => watchRoot(box),
    expect: { status: 1, stderr: 'error: --max-per-hour goes with --auto-reapply\nhint: harden watch install --auto-reapply --max-per-hour N, or harden watch enable-auto --max-per-hour N\n' },
  },
  {
    id: 'watch-option-of-another-action',
    group: 'Watch',
    what: 'an option of `watch install` given to `watch status`',
    argv: ['--root', '<root>', 'watch', 'status', '--no-enable'],
    setup: async (box) => watchRoot(box),
    expect: { status: 1, stderr: 'error: watch status takes no --no-enable\nhint: --no-enable goes with watch install; see harden watch --help\n' },
  },
  {
    id: 'watch-args-dir',
    group: 'Watch',
    what: '`watch install --args-dir`: the units watch the args dir under the root',
    argv: ['--root', '<root>', 'watch', 'install', '--args-dir', '<root>/var/snap/microk8s/current/args'],
    setup: async (box) => watchRoot(box),
    expect: { status: 1, stderr: 'error: watch takes no --args-dir\nhint: the units watch <root>/var/snap/microk8s/current/args, where MicroK8s reads its args: give --root\n' },
  },
  {
    id: 'watch-no-unit-dir',
    group: 'Watch',
    what: '`watch install` on a root without `/etc/systemd/system`',
    argv: ['--root', '<root>', 'watch', 'install'],
    setup: async (box) => void (await box.node()),
    expect: { status: 1, stderr: 'error: cannot install the watch units: <root>/etc/systemd/system is not a directory\nhint: harden watch installs systemd units: run it on a systemd machine, or give --root the root of one\n' },
  },
  {
    id: 'watch-state-dir-not-plain',
    group: 'Watch',
    what: '`watch install --state-dir` with a space, which a unit file would read as two paths',
    argv: ['--root', '<root>', '--state-dir', '<tmp>/my state', 'watch', 'install'],
    setup: async (box) => watchRoot(box),
    expect: {
      status: 1,
      stderr: 'error: cannot write a systemd unit for --state-dir <tmp>/my state: it holds " ", which systemd unit files would read otherwise (only letters, digits and / . _ + , : @ = ~ - are written)\nhint: give a path of plain characters (a symlink to the real place will do)\n',
    },
  },
  {
    id: 'watch-unit-is-a-symlink',
    group: 'Watch',
    what: 'a symlink where `watch install` would write `harden-drift.path`',
    argv: ['--root', '<root>', 'watch', 'install'],
    setup: async (box) => {
      await watchRoot(box);
      await fs.symlink('/etc/shadow', path.join(box.root, 'etc/systemd/system/harden-drift.path'));
    },
    expect: {
      status: 1,
      stderr: 'error: cannot write <root>/etc/systemd/system/harden-drift.path: it is a symlink (to /etc/shadow), and harden never writes through one\nhint: remove the link (whoever can write that directory may have planted it), then run harden watch again\n',
    },
  },
  {
    id: 'watch-unit-is-a-directory',
    group: 'Watch',
    what: 'a directory where `watch remove` would remove `harden-drift.service`',
    argv: ['--root', '<root>', 'watch', 'remove'],
    setup: async (box) => {
      await watchRoot(box);
      await fs.mkdir(path.join(box.root, 'etc/systemd/system/harden-drift.service'));
    },
    expect: {
      status: 1,
      stderr: 'error: cannot remove <root>/etc/systemd/system/harden-drift.service: it is a directory, not a unit file harden wrote\nhint: move it out of the way, then run harden watch again\n',
    },
  },
  {
    id: 'watch-policy-not-json',
    bin: true,
    group: 'Watch',
    what: 'a `watch.json` that is not JSON',
    input: '{"schema": "harden.watch/v1", ',
    argv: ['--root', '<root>', 'watch', 'status'],
    setup: async (box) => watchPolicyFile(box, '{"schema": "harden.watch/v1", '),
    expect: { status: 1, stderr: 'error: cannot use the watch policy <root>/var/lib/harden/watch.json: it is not JSON\nhint: remove it, then set the policy again with harden watch enable-auto or harden watch disable-auto\n' },
  },
  {
    id: 'watch-policy-field-out-of-range',
    group: 'Watch',
    what: 'a `watch.json` whose `maxPerHour` was edited to 1000',
    input: '"maxPerHour": 1000',
    argv: ['--root', '<root>', 'watch', 'enable-auto'],
    setup: async (box) => watchPolicyFile(box, '{"schema": "harden.watch/v1", "autoReapply": false, "maxPerHour": 1000, "changedAt": null, "trip": null, "reapplies": []}\n'),
    expect: { status: 1, stderr: 'error: cannot use the watch policy <root>/var/lib/harden/watch.json: maxPerHour: must be a whole number from 1 to 12\nhint: remove it, then set the policy again with harden watch enable-auto or harden watch disable-auto\n' },
  },
  {
    id: 'watch-policy-symlink',
    group: 'Watch',
    what: '`watch.json` is a symlink (here to a valid policy elsewhere)',
    argv: ['--root', '<root>', 'watch', 'status'],
    setup: async (box) => {
      await watchPolicyFile(box, null);
      const elsewhere = await box.file('policy.json', '{"schema": "harden.watch/v1", "autoReapply": true, "maxPerHour": 12, "changedAt": null, "trip": null, "reapplies": []}\n');
      await fs.symlink(elsewhere, path.join(box.stateDir, 'watch.json'));
    },
    expect: { status: 1, stderr: 'error: cannot use the watch policy <root>/var/lib/harden/watch.json: it is a symlink: harden never follows links in its state dir\nhint: remove it, then set the policy again with harden watch enable-auto or harden watch disable-auto\n' },
  },
  {
    id: 'watch-policy-not-a-file',
    group: 'Watch',
    what: '`watch.json` is a FIFO (reading it would wait for ever)',
    argv: ['--root', '<root>', 'watch', 'status'],
    setup: async (box) => {
      await watchPolicyFile(box, null);
      spawnSync('mkfifo', [path.join(box.stateDir, 'watch.json')]);
    },
    expect: { status: 1, stderr: 'error: cannot use the watch policy <root>/var/lib/harden/watch.json: it is a FIFO, not a regular file\nhint: remove it, then set the policy again with harden watch enable-auto or harden watch disable-auto\n' },
  },
  {
    id: 'watch-policy-huge',
    group: 'Watch',
    what: 'a `watch.json` of 300 KiB',
    argv: ['--root', '<root>', 'watch', 'status'],
    setup: async (box) => watchPolicyFile(box, ' '.repeat(300 * 1024)),
    expect: { status: 1, stderr: 'error: cannot use the watch policy <root>/var/lib/harden/watch.json: it is larger than 256 KiB\nhint: remove it, then set the policy again with harden watch enable-auto or harden watch disable-auto\n' },
  },
  {
    id: 'watch-policy-writable-by-others',
    group: 'Watch',
    what: 'a `watch.json` others may write (mode 0666): they could turn automatic re-apply on',
    argv: ['--root', '<root>', 'watch', 'status'],
    setup: async (box) => {
      await watchPolicyFile(box, '{"schema": "harden.watch/v1", "autoReapply": true, "maxPerHour": 12, "changedAt": null, "trip": null, "reapplies": []}\n');
      await fs.chmod(path.join(box.stateDir, 'watch.json'), 0o666);
    },
    expect: { status: 1, stderr: 'error: cannot use the watch policy <root>/var/lib/harden/watch.json: it has mode 0666, which lets group and others write to it\nhint: remove it, then set the policy again with harden watch enable-auto or harden watch disable-auto\n' },
  },
  {
    id: 'watch-systemctl-fails',
    bin: true,
    group: 'Watch',
    what: '`systemctl daemon-reload` fails after `watch install` wrote the units (no systemd answering)',
    argv: ['--root', '<root>', 'watch', 'install'],
    setup: async (box) => {
      const node = await box.liveNode();
      await watchUnitDir(box);
      await setMode(node.standIns, 'systemctl', 'fail', { message: 'System has not been booted with systemd as init system (PID 1). Can\'t operate.' });
    },
    expect: {
      status: 1,
      stdout: 'wrote <root>/etc/systemd/system/harden-drift.service\nwrote <root>/etc/systemd/system/harden-drift.path\nwrote <root>/etc/systemd/system/harden-drift.timer\n',
      stderr: 'error: systemctl daemon-reload failed (exit 1): System has not been booted with systemd as init system (PID 1). Can\'t operate.\nhint: the units are written: run harden watch install again once systemd answers, or harden watch remove\n',
      changes: [
        '<root>/etc/systemd/system/harden-drift.path: new',
        '<root>/etc/systemd/system/harden-drift.service: new',
        '<root>/etc/systemd/system/harden-drift.timer: new',
        '<root>/var/lib/harden: new',
      ],
    },
  },
  // Prerequisites: the `sysctl` and `directory` operations, and saved plans that set kernel parameters.
  profileCase(
    'profile-sysctl-without-sysctls',
    'a `sysctl` rule with no `sysctls` to set',
    `${HEAD}${SYSCTL_RULE}`,
    '(no sysctls: field)',
    'error: <tmp>/mine.yaml:6: rule kubelet.kernel-parameters: missing field "sysctls"\nhint: fix the profile; profiles/schema.json describes the format\n',
  ),
  profileCase(
    'profile-sysctl-value-space',
    'a kernel parameter value with a space in it',
    `${HEAD}${SYSCTL_RULE}    sysctls:\n      kernel.panic: "10 20"\n`,
    'kernel.panic: "10 20"',
    `error: <tmp>/mine.yaml:14: rule kubelet.kernel-parameters: kernel.panic: ${SYSCTL_VALUE_RULE}\nhint: fix the profile; profiles/schema.json describes the format\n`,
  ),
  profileCase(
    'profile-sysctl-value-semicolon',
    'a kernel parameter value carrying `;reboot`',
    `${HEAD}${SYSCTL_RULE}    sysctls:\n      kernel.panic: "10;reboot"\n`,
    'kernel.panic: "10;reboot"',
    `error: <tmp>/mine.yaml:14: rule kubelet.kernel-parameters: kernel.panic: ${SYSCTL_VALUE_RULE}\nhint: fix the profile; profiles/schema.json describes the format\n`,
  ),
  profileCase(
    'profile-sysctl-not-harden-file',
    'a `sysctl` rule whose file is not a harden file (`/etc/sysctl.d/99-other.conf`)',
    `${HEAD}${SYSCTL_RULE.replace('zz-harden-kubelet.conf', '99-other.conf')}    sysctls:\n      kernel.panic: "10"\n`,
    'path: /etc/sysctl.d/99-other.conf',
    'error: <tmp>/mine.yaml:12: rule kubelet.kernel-parameters: path: harden touches only paths under ${SNAP_DATA}/ or ${SNAP_COMMON}/ (no . or .. component), the snap\'s systemd units (/etc/systemd/system/snap.microk8s.daemon-NAME.service), /var/log/apiserver and /etc/sysctl.d/NN-harden-NAME.conf (or zz-harden-NAME.conf)\nhint: fix the profile; profiles/schema.json describes the format\n',
  ),
  profileCase(
    'profile-directory-under-etc',
    'a `directory` rule whose path is under /etc (`/etc/harden-dir`)',
    `${HEAD}  - id: files.audit-log-dir\n    title: Make a directory\n    rationale: R\n    severity: low\n    component: kube-apiserver\n    operation: directory\n    path: /etc/harden-dir\n    mode: "0700"\n    owner: root:root\n`,
    'path: /etc/harden-dir',
    'error: <tmp>/mine.yaml:12: rule files.audit-log-dir: path: harden creates no directory under /etc/\n' +
      'error: <tmp>/mine.yaml:12: rule files.audit-log-dir: path: harden touches only paths under ${SNAP_DATA}/ or ${SNAP_COMMON}/ (no . or .. component), the snap\'s systemd units (/etc/systemd/system/snap.microk8s.daemon-NAME.service), /var/log/apiserver and /etc/sysctl.d/NN-harden-NAME.conf (or zz-harden-NAME.conf)\n' +
      'hint: fix the profile; profiles/schema.json describes the format\n',
  ),
  {
    id: 'saved-plan-running-value-forged',
    group: 'Saved plans',
    what: 'a saved plan edited and sealed again so that a running kernel parameter is set to `1;reboot`',
    argv: ['--root', '<root>', 'apply', '<tmp>/plan.json', '--yes'],
    setup: async (box) => {
      await box.node('1.28', { host: {} });
      await resealPlan(await savedSysctlPlan(box), (doc) => {
        doc.sysctls[0].running[0].to = '1;reboot';
      });
    },
    expect: { status: 1, stderr: `error: <tmp>/plan.json: sysctls[0].running[0].to: must be a kernel parameter value (numbers and words)\n${FORGED_HINT}` },
  },
  {
    id: 'saved-plan-running-value-changed',
    group: 'Saved plans',
    what: 'a saved plan edited and sealed again so that a running kernel parameter gets another valid value (`2`)',
    argv: ['--root', '<root>', 'apply', '<tmp>/plan.json', '--yes'],
    setup: async (box) => {
      await box.node('1.28', { host: {} });
      await resealPlan(await savedSysctlPlan(box), (doc) => {
        doc.sysctls[0].running[0].to = '2';
      });
    },
    expect: {
      status: 1,
      stderr:
        `error: <tmp>/plan.json is not what profile cis (shipped, sha256 ${CIS_DIGEST}…) gives on this node: its running kernel parameter vm.overcommit_memory differs from what the profile writes\n` +
        'hint: a saved plan is applied only as harden made it: make a new one with harden plan --out, review it, and apply that\n',
    },
  },
  waiverCase(
    'waivers-no-justification',
    'a waiver without its justification: an exception nobody explained',
    'apiVersion: harden/v1\nkind: Waivers\nwaivers:\n  - rule: apiserver.profiling\n    owner: ops@example.com\n',
    '- rule: apiserver.profiling',
    'error: <tmp>/waivers.yaml:4: waiver 1: missing field "justification"\nhint: fix the waiver file; README.md (Waivers) describes the format\n',
  ),
  waiverCase(
    'waivers-blank-justification',
    'a justification of spaces only',
    'apiVersion: harden/v1\nkind: Waivers\nwaivers:\n  - rule: apiserver.profiling\n    justification: "   "\n',
    'justification: "   "',
    'error: <tmp>/waivers.yaml:5: waiver 1: justification: must not be empty\nhint: fix the waiver file; README.md (Waivers) describes the format\n',
  ),
  waiverCase(
    'waivers-unknown-field',
    'a misspelt field (`expiry:` for `expires:`)',
    'apiVersion: harden/v1\nkind: Waivers\nwaivers:\n  - rule: apiserver.profiling\n    justification: lab\n    expiry: 2026-12-31\n',
    'expiry: 2026-12-31',
    'error: <tmp>/waivers.yaml:6: waiver 1: unknown field "expiry"; did you mean "expires"?\nhint: fix the waiver file; README.md (Waivers) describes the format\n',
  ),
  waiverCase(
    'waivers-not-a-date',
    'an expiry that is not a date',
    'apiVersion: harden/v1\nkind: Waivers\nwaivers:\n  - rule: apiserver.profiling\n    justification: lab\n    expires: next quarter\n',
    'expires: next quarter',
    'error: <tmp>/waivers.yaml:6: waiver 1: expires: must be a date, YYYY-MM-DD (the waiver holds to the end of that day, UTC)\nhint: fix the waiver file; README.md (Waivers) describes the format\n',
  ),
  waiverCase(
    'waivers-no-such-day',
    'an expiry of a day no calendar has (30 February)',
    'apiVersion: harden/v1\nkind: Waivers\nwaivers:\n  - rule: apiserver.profiling\n    justification: lab\n    expires: 2027-02-30\n',
    'expires: 2027-02-30',
    'error: <tmp>/waivers.yaml:6: waiver 1: expires: 2027-02-30 is not a real date\nhint: fix the waiver file; README.md (Waivers) describes the format\n',
  ),
  waiverCase(
    'waivers-bad-rule',
    'a rule that is no rule id nor a glob of one',
    'apiVersion: harden/v1\nkind: Waivers\nwaivers:\n  - rule: "Profiling off?"\n    justification: lab\n',
    'rule: "Profiling off?"',
    'error: <tmp>/waivers.yaml:4: waiver 1: rule: must be a rule id or a glob of them (a-z, 0-9, -, . and *), as harden profiles show lists them\nhint: fix the waiver file; README.md (Waivers) describes the format\n',
  ),
  waiverCase(
    'waivers-wrong-kind',
    'a profile given as a waiver file',
    'apiVersion: harden/v1\nkind: Profile\nname: mine\ntitle: T\nrules: []\n',
    'kind: Profile',
    'error: <tmp>/waivers.yaml:1: missing field "waivers"\nerror: <tmp>/waivers.yaml:2: kind: must be "Waivers"\nerror: <tmp>/waivers.yaml:3: unknown field "name"\nerror: <tmp>/waivers.yaml:4: unknown field "title"\nerror: <tmp>/waivers.yaml:5: unknown field "rules"\nhint: fix the waiver file; README.md (Waivers) describes the format\n',
  ),
  waiverCase(
    'waivers-not-yaml',
    'a waiver file that is not YAML',
    'apiVersion: harden/v1\nkind: Waivers\nwaivers:\n  - rule: [apiserver.profiling\n',
    '- rule: [apiserver.profiling',
    'error: <tmp>/waivers.yaml:5: not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]\nhint: fix the waiver file; README.md (Waivers) describes the format\n',
  ),
  {
    id: 'waivers-missing-file',
    group: 'Waivers',
    what: '`--waivers` naming a file that is not there',
    argv: ['--root', '<root>', 'check', '--waivers', '<tmp>/waivers.yaml'],
    setup: async (box) => box.node(),
    expect: { status: 1, stderr: 'error: cannot read the waiver file <tmp>/waivers.yaml: no such file\nhint: check the path given to --waivers\n' },
  },
  {
    id: 'waivers-plan-saved-with-waivers',
    group: 'Waivers',
    what: 'a plan saved with `--waivers` applied without them',
    argv: ['--root', '<root>', 'apply', '<tmp>/plan.json', '--yes', '--no-restart'],
    setup: async (box) => {
      await box.node();
      await box.file('waivers.yaml', 'apiVersion: harden/v1\nkind: Waivers\nwaivers:\n  - rule: kube-scheduler.bind-address\n    justification: scraped by the metrics server\n');
      const run = await runInProcessWith(['--root', box.root, 'plan', '--waivers', path.join(box.tmp, 'waivers.yaml'), '--out', path.join(box.tmp, 'plan.json')]);
      if (run.status !== 0) throw new Error(run.stderr);
      const saved = JSON.parse(await fs.readFile(path.join(box.tmp, 'plan.json'), 'utf8'));
      box.name(saved.waivers.sha256.slice(7, 23), '<sha>');
    },
    expect: { status: 1, stderr: 'error: <tmp>/plan.json was made with the waivers <tmp>/waivers.yaml (sha256 <sha>…)\nhint: apply it with --waivers <tmp>/waivers.yaml\n' },
  },
  reportCase('report-not-gzip', 'a `--report` file that is a plain tar, not gzip-compressed', () => tarBytes([{ name: 'inspection-report/args/kubelet', content: 'x' }]), 'is not gzip-compressed: a microk8s inspect report is a .tar.gz'),
  reportCase('report-gzip-truncated', 'a report cut off halfway (an interrupted copy)', () => {
    const good = reportBytes(reportFiles({ version: '1.28' }));
    return good.subarray(0, Math.floor(good.length / 2));
  }, 'the gzip stream is damaged or truncated (unexpected end of file)'),
  reportCase('report-symlink-member', 'a report whose args dir holds a symlink to `/etc/shadow`', () => reportBytes(reportFiles({ version: '1.28' }), [{ name: 'inspection-report/args/kubelet-link', type: '2', linkName: '/etc/shadow' }]), 'inspection-report/args/kubelet-link is a symbolic link to /etc/shadow: harden reads only regular files from an inspection report, and follows no link'),
  reportCase('report-hardlink-member', 'a report with a hard-link member', () => reportBytes(reportFiles({ version: '1.28' }), [{ name: 'inspection-report/args/kubelet2', type: '1', linkName: 'inspection-report/args/kubelet' }]), 'inspection-report/args/kubelet2 is a hard link to inspection-report/args/kubelet: harden reads only regular files from an inspection report, and follows no link'),
  reportCase('report-path-traversal', 'a report with a member named `inspection-report/../../etc/cron.d/x`', () => reportBytes(reportFiles({ version: '1.28' }), [{ name: 'inspection-report/../../etc/cron.d/x', content: '* * * * * root sh\n' }]), "inspection-report/../../etc/cron.d/x climbs out of the archive with '..'"),
  reportCase('report-absolute-name', 'a report with a member named `/etc/cron.d/x`', () => reportBytes(reportFiles({ version: '1.28' }), [{ name: '/etc/cron.d/x', content: '* * * * * root sh\n' }]), '/etc/cron.d/x is an absolute name: an inspection report holds only names inside it'),
  reportCase('report-huge-member', 'a report whose `args/kube-apiserver` claims 17 MiB', () => gzipSync(tarBytes([{ name: 'inspection-report/args/kube-apiserver', size: 17 * 1024 * 1024 }], { end: false })), 'inspection-report/args/kube-apiserver is 17825792 bytes, more than the 16777216 harden reads of it'),
  reportCase('report-not-tar', 'a gzip file that holds no tar archive', () => gzipSync(Buffer.alloc(2048, 65)), 'not a tar archive: the header at byte 0 has a bad checksum'),
  reportCase('report-no-args', 'a report without `inspection-report/args/`', () => reportBytes(reportFiles({ version: '1.28' }).filter((file) => !file.name.includes('/args/'))), 'inspection-report/args/ is missing: the report holds no args files to audit', 'hint: make the report with `sudo microk8s inspect` on the node, and pass the inspection-report-*.tar.gz it names\n'),
  {
    id: 'report-missing',
    group: 'Inspect reports',
    what: '`--report` names a file that does not exist',
    argv: ['check', '--report', '<tmp>/inspection-report-20261201_101010.tar.gz'],
    expect: { status: 1, stderr: 'error: inspection-report-20261201_101010.tar.gz: does not exist\nhint: name the inspection-report-*.tar.gz that `microk8s inspect` printed\n' },
  },
  {
    id: 'report-with-root',
    group: 'Inspect reports',
    what: '`--report` together with `--root`',
    argv: ['--root', '<root>', 'check', '--report', '<tmp>/inspection-report-20261201_101010.tar.gz'],
    setup: async (box) => box.node(),
    expect: { status: 1, stderr: 'error: --report reads microk8s inspect tarballs, not node roots: it does not go with --root\nhint: run one check for the tarballs and another for the roots\n' },
  },
  {
    id: 'report-one-hostile-of-two',
    group: 'Inspect reports',
    what: 'two reports, one with a symlink member: that one is refused in its place, the other audited',
    argv: ['check', '--report', '<tmp>/inspection-report-20261201_000000.tar.gz', '<tmp>/inspection-report-20261201_101010.tar.gz', '--only', 'kubelet.anonymous-auth', '--no-color'],
    setup: async (box) => {
      await fs.writeFile(path.join(box.tmp, 'inspection-report-20261201_000000.tar.gz'), reportBytes(reportFiles({ version: '1.28' }), [{ name: 'inspection-report/args/x', type: '2', linkName: '/etc/shadow' }]));
      await fs.writeFile(path.join(box.tmp, 'inspection-report-20261201_101010.tar.gz'), reportBytes(reportFiles({ version: '1.28' })));
    },
    expect: {
      status: 1,
      stderr: `error: inspection-report-20261201_000000.tar.gz: inspection-report/args/x is a symbolic link to /etc/shadow: harden reads only regular files from an inspection report, and follows no link\n${REPORT_HINT}`,
      stdout: `Profile baseline on inspection-report-20261201_000000.tar.gz\nerror: inspection-report/args/x is a symbolic link to /etc/shadow: harden reads only regular files from an inspection report, and follows no link\n${REPORT_HINT}\nnot checked\n\nProfile baseline on inspection-report-20261201_101010.tar.gz (MicroK8s 1.28.15)\n[PASS]           critical  kubelet.anonymous-auth [CIS 4.2.1]\n                           Refuse anonymous requests to the kubelet\n                           found: --anonymous-auth=false (line 4); --anonymous-auth is false\n\n1 rule: 1 passed, 0 failed, 0 blocked, 0 manual, 0 not applicable — the selected rules pass\nScore: critical 1/1 (100%)\n`,
    },
  },
  reportCase('report-args-file-is-directory', "a report whose `args/kubelet` is a directory", () => reportBytes(reportFiles({ version: '1.28', args: { kubelet: null, 'kubelet/x': 'y' } })), 'inspection-report/args/kubelet is a directory, not an args file', "hint: kubelet reads its flags from this file: make the report again once the node's args dir is mended\n"),
];

function waiverCase(id: string, what: string, text: string, input: string, stderr: string): CatalogueCase {
  return {
    id,
    group: 'Waivers',
    what,
    input,
    argv: ['--root', '<root>', 'check', '--waivers', '<tmp>/waivers.yaml'],
    setup: async (box) => {
      await box.node();
      await box.file('waivers.yaml', text);
    },
    expect: { status: 1, stderr },
  };
}

/** A node root with the /etc/systemd/system every systemd machine has. */
async function watchRoot(box: Box): Promise<void> {
  await box.node();
  await watchUnitDir(box);
}

async function watchUnitDir(box: Box): Promise<void> {
  for (const dir of ['etc', 'etc/systemd', 'etc/systemd/system']) await fs.mkdir(path.join(box.root, dir), { recursive: true, mode: 0o755 });
}

/** A node root whose state dir holds `text` as watch.json (0600), or nothing when null. */
async function watchPolicyFile(box: Box, text: string | null): Promise<void> {
  await watchRoot(box);
  await fs.mkdir(box.stateDir, { mode: 0o700 });
  if (text !== null) await fs.writeFile(path.join(box.stateDir, 'watch.json'), text, { mode: 0o600 });
}

/** The first 16 hex digits of the shipped cis profile's sha256, as refusals show it (taken from the profile, which changes). */
function cisShort(): string {
  return CIS_DIGEST;
}

const SETTINGS = [
  'authorization-mode', 'enable-admission-plugins', 'disable-admission-plugins', 'anonymous-auth', 'token-auth-file', 'audit-log-path',
  'audit-policy-file', 'tls-min-version', 'tls-cipher-suites', 'encryption-provider-config', 'kubelet-certificate-authority', 'service-account-issuer', 'profiling',
];

function nodeEntry(date: string, name: string, role: string): object {
  return {
    gatheredAt: date, name, role, version: '1.28.0', profile: { name: 'baseline', sha256: `sha256:${'1'.repeat(64)}` },
    results: [{ id: 'kubelet.anonymous-auth', status: 'PASS' }],
    settings: Object.fromEntries(SETTINGS.map((flag) => [`kube-apiserver --${flag}`, null])),
    planned: [],
  };
}

/** One node's facts (harden facts), made at `date`. */
function nodeFacts(date: string, name: string, role: string): string {
  return `${JSON.stringify({ schema: 'harden.node-facts/v1', ...nodeEntry(date, name, role) }, null, 2)}\n`;
}

/** Valid cluster facts made at `date`: a control plane and a worker, for a profile baseline of sha256 1111…. */
function clusterFacts(date: string): string {
  return `${JSON.stringify({ schema: 'harden.cluster/v1', createdAt: date, profile: { name: 'baseline', sha256: `sha256:${'1'.repeat(64)}` }, nodes: [nodeEntry(date, 'cp-1', 'control-plane'), nodeEntry(date, 'w-1', 'worker')] }, null, 2)}\n`;
}
