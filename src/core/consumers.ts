// Who reads each entry of the args dir, per era: its kind, its component, the systemd unit that reads it
// and how. Sources: MicroK8s' wrappers (`run-*-with-args`), snapcraft.yaml per release, and the kubelite
// patch (see notes/microk8s-args.md §2–3).

export type Era = 'daemons' | 'kubelite';

export type FileKind =
  | 'flags' // one flag per line, read into an argv
  | 'env' // sourced shell (`set -a; . file`)
  | 'json'
  | 'yaml'
  | 'toml'
  | 'config' // MicroK8s' own key=value file (ha-conf)
  | 'backup' // a copy MicroK8s' own editors leave behind (`*.backup`, `*.remote`)
  | 'directory'
  | 'other';

export type Component =
  | 'kube-apiserver'
  | 'kube-controller-manager'
  | 'kube-scheduler'
  | 'kubelet'
  | 'kube-proxy'
  | 'kubelite'
  | 'etcd'
  | 'k8s-dqlite'
  | 'containerd'
  | 'dockerd'
  | 'flanneld'
  | 'cluster-agent'
  | 'apiserver-proxy'
  | 'kubectl'
  | 'ctr';

/** How the consumer reads the file: one of the two argv readers, `source` for shell, `parse` for data. */
export type ReadBy = 'bash' | 'kubelite' | 'source' | 'parse' | 'none';

export interface Consumer {
  readonly kind: FileKind;
  readonly component: Component | null;
  /** The systemd unit that reads the file, or null (read by a CLI wrapper or a script, or by nothing). */
  readonly service: string | null;
  readonly reader: ReadBy;
  /** Who uses it when it is not a service. */
  readonly note: string | null;
}

/** The five Kubernetes component files, which kubelite reads itself from 1.21. */
export const KUBERNETES_FILES: Readonly<Record<string, Component>> = {
  'kube-apiserver': 'kube-apiserver',
  'kube-controller-manager': 'kube-controller-manager',
  'kube-scheduler': 'kube-scheduler',
  kubelet: 'kubelet',
  'kube-proxy': 'kube-proxy',
};

/** The daemon that runs each Kubernetes component before kubelite (1.13–1.20). */
const SEPARATE_DAEMONS: Readonly<Record<string, string>> = {
  'kube-apiserver': 'apiserver',
  'kube-controller-manager': 'controller-manager',
  'kube-scheduler': 'scheduler',
  kubelet: 'kubelet',
  'kube-proxy': 'proxy',
};

const FLAG_FILES: Readonly<Record<string, { component: Component; daemon: string | null; note?: string }>> = {
  kubelite: { component: 'kubelite', daemon: 'kubelite' },
  etcd: { component: 'etcd', daemon: 'etcd' },
  'k8s-dqlite': { component: 'k8s-dqlite', daemon: 'k8s-dqlite' },
  containerd: { component: 'containerd', daemon: 'containerd' },
  dockerd: { component: 'dockerd', daemon: 'docker' },
  flanneld: { component: 'flanneld', daemon: 'flanneld' },
  'cluster-agent': { component: 'cluster-agent', daemon: 'cluster-agent' },
  'apiserver-proxy': { component: 'apiserver-proxy', daemon: 'apiserver-proxy' },
  kubectl: { component: 'kubectl', daemon: null, note: 'read by the `microk8s kubectl` wrapper' },
  ctr: { component: 'ctr', daemon: null, note: 'read by the `microk8s ctr` wrapper' },
};

/** The component that reads its flags from an args-dir entry of this name (`kubelet`, `kubelite`, `etcd`…), or null. */
export function flagsFileComponent(name: string): Component | null {
  return KUBERNETES_FILES[name] ?? FLAG_FILES[name]?.component ?? null;
}

/** Data files next to the flags, and the daemon that uses them (null: a script or nobody). */
const DATA_FILES: Readonly<Record<string, { kind: FileKind; daemon: string | null; note?: string }>> = {
  'containerd-env': { kind: 'env', daemon: 'containerd' },
  'k8s-dqlite-env': { kind: 'env', daemon: 'k8s-dqlite' },
  'dockerd-env': { kind: 'env', daemon: 'docker' },
  'flanneld-env': { kind: 'env', daemon: 'flanneld' },
  'kubectl-env': { kind: 'env', daemon: null, note: 'sourced by the `microk8s kubectl` wrapper' },
  'cni-env': { kind: 'env', daemon: null, note: 'read by MicroK8s’ CNI set-up script' },
  'containerd-template.toml': { kind: 'toml', daemon: 'containerd', note: 'containerd.toml is generated from it at each start' },
  'containerd.toml': { kind: 'toml', daemon: 'containerd', note: 'generated from containerd-template.toml at each start' },
  'docker-daemon.json': { kind: 'json', daemon: 'docker' },
  'flannel-network-mgr-config': { kind: 'json', daemon: 'flanneld' },
  'flannel-template.conflist': { kind: 'json', daemon: 'flanneld' },
  'admission-control-config-file.yaml': { kind: 'yaml', daemon: 'kube-apiserver' },
  'eventconfig.yaml': { kind: 'yaml', daemon: 'kube-apiserver' },
  'audit-policy.yaml': { kind: 'yaml', daemon: 'kube-apiserver' },
  'ha-conf': { kind: 'config', daemon: 'kube-apiserver', note: 'dqlite failure domain' },
};

const DIRECTORIES: Readonly<Record<string, { daemon: string | null; note: string }>> = {
  'cni-network': { daemon: 'kubelet', note: 'CNI configuration' },
  'certs.d': { daemon: 'containerd', note: 'registry mirrors and certificates' },
  traefik: { daemon: 'apiserver-proxy', note: 'API server proxy configuration (worker nodes)' },
  git: { daemon: null, note: 'git settings for addon repositories' },
};

const unit = (daemon: string) => `snap.microk8s.daemon-${daemon}`;

/** The daemon that runs a Kubernetes component in this era (used for data files of those components). */
function daemonOf(name: string, era: Era): string {
  if (name in SEPARATE_DAEMONS) return era === 'kubelite' ? 'kubelite' : SEPARATE_DAEMONS[name];
  return name;
}

/**
 * Who consumes `name` (an entry directly in the args dir). `content` is the file's text when it was read
 * (null for directories and files classified by name alone); it classifies files MicroK8s does not ship.
 */
export function consumerOf(name: string, era: Era, isDirectory: boolean, content: string | null): Consumer {
  if (isDirectory) {
    const dir = DIRECTORIES[name];
    return { kind: 'directory', component: null, service: dir?.daemon ? unit(daemonOf(dir.daemon, era)) : null, reader: 'none', note: dir?.note ?? null };
  }
  const kubernetes = KUBERNETES_FILES[name];
  if (kubernetes) {
    return era === 'kubelite'
      ? { kind: 'flags', component: kubernetes, service: unit('kubelite'), reader: 'kubelite', note: null }
      : { kind: 'flags', component: kubernetes, service: unit(SEPARATE_DAEMONS[name]), reader: 'bash', note: null };
  }
  const flags = FLAG_FILES[name];
  if (flags) {
    return { kind: 'flags', component: flags.component, service: flags.daemon ? unit(flags.daemon) : null, reader: 'bash', note: flags.note ?? null };
  }
  const data = DATA_FILES[name];
  if (data) {
    return {
      kind: data.kind,
      component: null,
      service: data.daemon ? unit(daemonOf(data.daemon, era)) : null,
      reader: data.kind === 'env' ? 'source' : 'parse',
      note: data.note ?? null,
    };
  }
  return classifyUnknown(name, content);
}

function classifyUnknown(name: string, content: string | null): Consumer {
  const none = (kind: FileKind, note: string): Consumer => ({ kind, component: null, service: null, reader: 'none', note });
  if (/\.(backup|remote)$/.test(name) || /~$/.test(name)) return none('backup', 'a copy left by an editor; not read by MicroK8s');
  if (/\.json$|\.conflist$/.test(name)) return none('json', 'not a file MicroK8s reads');
  if (/\.ya?ml$/.test(name)) return none('yaml', 'not a file MicroK8s reads');
  if (/\.toml$/.test(name)) return none('toml', 'not a file MicroK8s reads');
  if (/-env$/.test(name)) return none('env', 'not a file MicroK8s reads');
  if (content !== null && looksLikeFlags(content)) return none('flags', 'flag file with no known consumer');
  return none('other', 'not a file MicroK8s reads');
}

function looksLikeFlags(content: string): boolean {
  const lines = content.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
  return lines.length > 0 && lines.every((line) => line.startsWith('-'));
}
