// Lays out a MicroK8s node root the way a real node is: the snap's revision directory with meta/snap.yaml
// behind a relative `current` link, the data revision directory with its args (mode 0660, as the install
// hook leaves them), locks and credentials, again behind a relative `current` link.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixtureArgsDir, type FixtureVersion } from './paths.js';

export interface NodeRootOptions {
  readonly version: FixtureVersion;
  /** The data revision directory name (`current` points to it). */
  readonly revision?: string;
  /** The version snap.yaml states; null leaves snap.yaml out. Default `v<version>.0`. */
  readonly snapVersion?: string | null;
  readonly worker?: boolean;
  /** cluster-agent endpoints written to credentials/callback-tokens.txt. */
  readonly callbackPeers?: readonly string[];
  /** dqlite members written to var/kubernetes/backend/cluster.yaml (the first is this node). */
  readonly members?: readonly string[];
  readonly extraLocks?: readonly string[];
  /** Where makeNode makes the root's temporary directory (a small tmpfs, say); the system temp dir by default. */
  readonly parent?: string;
  /**
   * The host around MicroK8s: `/var/log`, the kernel parameters under `proc/sys` (Ubuntu's running values
   * unless `running` says otherwise) and systemd-sysctl's files (Ubuntu's, and `sysctlFiles` by node path).
   * Absent by default: an offline copy of the snap's data has none of it.
   */
  readonly host?: { readonly running?: Readonly<Record<string, string>>; readonly sysctlFiles?: Readonly<Record<string, string>> };
}

/** The kernel parameters the kubelet's --protect-kernel-defaults checks, as a fresh Ubuntu 24.04 runs them. */
export const UBUNTU_SYSCTLS: Readonly<Record<string, string>> = {
  'vm.overcommit_memory': '0',
  'vm.panic_on_oom': '0',
  'kernel.panic': '0',
  'kernel.panic_on_oops': '0',
  'kernel.keys.root_maxkeys': '1000000',
  'kernel.keys.root_maxbytes': '25000000',
};

/** Lays out the host: /var/log, proc/sys values, /etc/sysctl.conf behind 99-sysctl.conf, and a few of Ubuntu's sysctl.d files. */
export async function layOutHost(root: string, host: NonNullable<NodeRootOptions['host']>): Promise<void> {
  await fs.mkdir(path.join(root, 'var/log'), { recursive: true });
  for (const [key, value] of Object.entries({ ...UBUNTU_SYSCTLS, 'kernel.kptr_restrict': '1', ...(host.running ?? {}) })) {
    const file = path.join(root, 'proc/sys', ...key.split('.'));
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, `${value}\n`);
    await fs.chmod(file, 0o644);
  }
  await fs.mkdir(path.join(root, 'etc/sysctl.d'), { recursive: true });
  await fs.mkdir(path.join(root, 'usr/lib/sysctl.d'), { recursive: true });
  const files: Record<string, string> = {
    '/etc/sysctl.conf': '#\n# /etc/sysctl.conf - Configuration file for setting system variables\n# See /etc/sysctl.d/ for additional system variables.\n#kernel.domainname = example.com\n',
    '/etc/sysctl.d/10-kernel-hardening.conf': '# These settings are specific to hardening the kernel itself from attack\nkernel.kptr_restrict = 1\n',
    '/etc/sysctl.d/README.sysctl': 'Directory for system-wide sysctl settings.\n',
    '/usr/lib/sysctl.d/50-default.conf': '# See sysctl.d(5) and core(5) for documentation.\nkernel.sysrq = 0x01b6\nkernel.core_uses_pid = 1\n-net.ipv4.conf.all.promote_secondaries = 1\nfs.protected_symlinks = 1\n',
    ...(host.sysctlFiles ?? {}),
  };
  for (const [nodePath, text] of Object.entries(files)) {
    await fs.mkdir(path.join(root, path.dirname(nodePath)), { recursive: true });
    await fs.writeFile(path.join(root, nodePath), text);
  }
  await fs.symlink('../sysctl.conf', path.join(root, 'etc/sysctl.d/99-sysctl.conf'));
}

export const MICROK8S_GID = 998;

export const DEFAULT_REVISIONS: Record<FixtureVersion, string> = {
  '1.13': '581',
  '1.18': '1379',
  '1.20': '1910',
  '1.21': '2128',
  '1.26': '4390',
  '1.28': '6089',
  '1.36': '8512',
};

export async function makeTempDir(prefix = 'harden-test-', parent: string = os.tmpdir()): Promise<string> {
  return fs.mkdtemp(path.join(parent, prefix));
}

/** A fresh temporary directory with a node laid out in it. */
export async function makeNode(options: NodeRootOptions): Promise<string> {
  const root = await makeTempDir('harden-test-', options.parent);
  await layOutNode(root, options);
  return root;
}

const minor = (version: FixtureVersion) => Number(version.split('.')[1]);

/** Writes a node root into `root` (which must exist) and returns the data revision directory. */
export async function layOutNode(root: string, options: NodeRootOptions): Promise<string> {
  const { version } = options;
  const revision = options.revision ?? DEFAULT_REVISIONS[version];
  const snapDir = path.join(root, 'snap/microk8s', revision);
  const dataDir = path.join(root, 'var/snap/microk8s', revision);

  const snapVersion = options.snapVersion === undefined ? `v${version}.0` : options.snapVersion;
  await fs.mkdir(path.join(snapDir, 'meta'), { recursive: true });
  if (snapVersion !== null) {
    await fs.writeFile(
      path.join(snapDir, 'meta/snap.yaml'),
      `name: microk8s\nversion: ${snapVersion}\nsummary: Kubernetes for workstations and appliances\nconfinement: classic\n`,
    );
  }
  await fs.symlink(revision, path.join(root, 'snap/microk8s/current'));

  await fs.mkdir(path.join(root, 'var/snap/microk8s/common'), { recursive: true });
  await copyArgs(fixtureArgsDir(version), path.join(dataDir, 'args'));
  await fs.symlink(revision, path.join(root, 'var/snap/microk8s/current'));

  const locks = ['installed.lock', ...(options.extraLocks ?? [])];
  if (minor(version) >= 19) locks.push('no-etcd', 'no-flanneld', 'no-apiserver-proxy');
  if (minor(version) >= 21) locks.push('lite.lock');
  if (options.worker) locks.push('clustered.lock');
  await fs.mkdir(path.join(dataDir, 'var/lock'), { recursive: true });
  for (const lock of locks) await fs.writeFile(path.join(dataDir, 'var/lock', lock), '');

  // Kubeconfigs: MicroK8s authenticates its own components with tokens until 1.28, with x509 from 1.28.
  await fs.mkdir(path.join(dataDir, 'credentials'), { recursive: true });
  for (const name of KUBECONFIGS) await writeNodeFile(path.join(dataDir, 'credentials', name), kubeconfig(minor(version) >= 28));
  // Certificates: the CA and every certificate or key the args files name under ${SNAP_DATA}/certs.
  await fs.mkdir(path.join(dataDir, 'certs'), { recursive: true });
  // From 1.28 MicroK8s signs a certificate for each of its users (create_user_certificates), the kubelet's
  // (system:node:<hostname>, with the node's addresses) among them.
  const userCertificates = minor(version) >= 28 ? ['client', 'controller', 'kubelet', 'proxy', 'scheduler'].flatMap((user) => [`${user}.crt`, `${user}.key`]) : [];
  for (const name of [...new Set([...(await certificatesNamed(path.join(dataDir, 'args'))), ...userCertificates])].sort()) {
    await writeNodeFile(path.join(dataDir, 'certs', name), name.endsWith('.key') ? PLACEHOLDER_KEY : PLACEHOLDER_CERTIFICATE);
  }
  if (minor(version) >= 19) {
    // dqlite's own directory, with the certificate pair its peers authenticate with.
    const backend = path.join(dataDir, 'var/kubernetes/backend');
    await fs.mkdir(backend, { recursive: true });
    await writeNodeFile(path.join(backend, 'cluster.crt'), PLACEHOLDER_CERTIFICATE);
    await writeNodeFile(path.join(backend, 'cluster.key'), PLACEHOLDER_KEY);
  }
  if (options.callbackPeers?.length) {
    const lines = options.callbackPeers.map((peer, i) => `${peer} callback-token-${i}\n`).join('');
    await fs.writeFile(path.join(dataDir, 'credentials/callback-tokens.txt'), lines);
  }
  if (options.members?.length) {
    const backend = path.join(dataDir, 'var/kubernetes/backend');
    await fs.mkdir(backend, { recursive: true });
    const members = options.members.map((address, i) => `- Address: ${address}\n  ID: ${1000 + i}\n  Role: 0\n`).join('');
    await fs.writeFile(path.join(backend, 'cluster.yaml'), members);
    await fs.writeFile(path.join(backend, 'info.yaml'), `Address: ${options.members[0]}\nID: 1000\nRole: 0\n`);
  }
  if (options.worker && minor(version) >= 21) {
    const kubelite = path.join(dataDir, 'args/kubelite');
    const text = await fs.readFile(kubelite, 'utf8');
    await fs.writeFile(kubelite, text.replace('--start-control-plane=true', '--start-control-plane=false'));
  }

  await fs.mkdir(path.join(root, 'etc'), { recursive: true });
  await fs.writeFile(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
  await fs.writeFile(path.join(root, 'etc/group'), `root:x:0:\nmicrok8s:x:${MICROK8S_GID}:\n`);
  if (options.host) await layOutHost(root, options.host);
  return dataDir;
}

const KUBECONFIGS = ['client.config', 'controller.config', 'scheduler.config', 'proxy.config', 'kubelet.config'];
const PLACEHOLDER_CERTIFICATE = '-----BEGIN CERTIFICATE-----\nnot a real certificate\n-----END CERTIFICATE-----\n';
const PLACEHOLDER_KEY = '-----BEGIN PRIVATE KEY-----\nnot a real key\n-----END PRIVATE KEY-----\n';

/** A file as MicroK8s leaves credentials and certificates: 0660, root:microk8s (when the test runs as root). */
async function writeNodeFile(file: string, content: string): Promise<void> {
  await fs.writeFile(file, content);
  await fs.chmod(file, 0o660);
  if (process.getuid?.() === 0) await fs.chown(file, 0, MICROK8S_GID);
}

/** `ca.crt`, `ca.key`, and every `${SNAP_DATA}/certs/<name>` the args files mention. */
async function certificatesNamed(argsDir: string): Promise<string[]> {
  const names = new Set(['ca.crt', 'ca.key']);
  for (const entry of await fs.readdir(argsDir, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const text = await fs.readFile(path.join(argsDir, entry.name), 'utf8');
    for (const match of text.matchAll(/\$\{SNAP_DATA\}\/certs\/([A-Za-z0-9._-]+\.(?:crt|key|pem))/g)) names.add(match[1]);
  }
  return [...names].sort();
}

/** Copies the fixture as MicroK8s' install hook does (`certs.d/localhost__32000` becomes `localhost:32000`). */
async function copyArgs(from: string, to: string): Promise<void> {
  await fs.mkdir(to, { recursive: true, mode: 0o770 });
  for (const name of await fs.readdir(from)) {
    const source = path.join(from, name);
    const target = path.join(to, name === 'localhost__32000' ? 'localhost:32000' : name);
    if ((await fs.stat(source)).isDirectory()) {
      await copyArgs(source, target);
      continue;
    }
    await fs.copyFile(source, target);
    await fs.chmod(target, 0o660);
    if (process.getuid?.() === 0) await fs.chown(target, 0, MICROK8S_GID);
  }
}

function kubeconfig(certificates: boolean): string {
  const user = certificates
    ? '    client-certificate-data: Y2VydGlmaWNhdGU=\n    client-key-data: a2V5\n'
    : '    token: not-a-real-token\n';
  return kubeconfigText(user);
}

/** A kubeconfig as MicroK8s writes one: its cluster with this CA (base64 data), and one user with these lines. */
export function kubeconfigText(user: string, caData = 'Y2E='): string {
  return `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${caData}
    server: https://127.0.0.1:16443
  name: microk8s-cluster
contexts:
- context:
    cluster: microk8s-cluster
    user: admin
  name: microk8s
current-context: microk8s
kind: Config
preferences: {}
users:
- name: admin
  user:
${user}`;
}
