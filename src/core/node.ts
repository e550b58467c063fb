// Node discovery: from the facts read off a node root to what `harden inspect` reports — version, era,
// role, datastore, peers, and for each entry of the args dir who reads it and what the reading finds.
import { consumerOf, type Component, type Consumer, type Era, type FileKind, type ReadBy } from './consumers.js';
import { viewFlagsFile, type FileView, type FlagsViewer } from './file-view.js';
import { sortFindings, type Finding } from './finding.js';
import { snapVars } from './node-env.js';
import { atLeast, compareMinor, formatVersion, parseVersion, type Version } from './version.js';
import { compareStrings } from './order.js';

/** One entry of the args dir, as the effects layer read it. */
export interface ArgsEntry {
  readonly name: string;
  readonly type: 'file' | 'directory' | 'other';
  /** For an `other` entry, what it is (`a FIFO`, `a socket`, `a character device`…); it is never opened. */
  readonly special: string | null;
  /** Where the entry points when it is a symlink (always inside the args dir). */
  readonly symlinkTarget: string | null;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  /** The text, for files that were read; null for directories and data files known by name. */
  readonly content: string | null;
}

/** Everything discovery needs, read off the node by the effects layer. */
export interface NodeFacts {
  /** The args dir as a node path (or as given, when it lies outside the root). */
  readonly argsDir: string;
  readonly snapYaml: string | null;
  /** Target of /snap/microk8s/current. */
  readonly snapRevision: string | null;
  /** Target of /var/snap/microk8s/current; null when it is not a symlink. */
  readonly dataRevision: string | null;
  readonly locks: readonly string[];
  readonly callbackTokens: string | null;
  readonly clusterYaml: string | null;
  readonly infoYaml: string | null;
  readonly entries: readonly ArgsEntry[];
  readonly users: Readonly<Record<number, string>>;
  readonly groups: Readonly<Record<number, string>>;
}

export type Role = 'control-plane' | 'worker';
export type DatastoreKind = 'k8s-dqlite' | 'dqlite' | 'etcd' | 'external-etcd' | 'none' | 'unknown';

export interface VersionInference {
  readonly min: string | null;
  readonly max: string | null;
  readonly evidence: readonly string[];
}

export interface FileReport {
  readonly name: string;
  readonly path: string;
  readonly kind: FileKind;
  readonly component: Component | null;
  readonly service: string | null;
  /** False when MicroK8s keeps the service off with a `var/lock/no-<daemon>` lock. */
  readonly serviceEnabled: boolean;
  readonly reader: ReadBy;
  readonly note: string | null;
  readonly symlinkTarget: string | null;
  readonly mode: string;
  readonly owner: string;
  readonly size: number;
  /** Effective flags (flag files only): name -> value (null for a bare flag). */
  readonly flags: Readonly<Record<string, string | null>> | null;
  readonly argv: readonly string[] | null;
  readonly findings: readonly Finding[];
}

export interface NodeReport {
  readonly version: string | null;
  readonly versionSource: 'snap.yaml' | 'inferred';
  readonly inferred: VersionInference | null;
  readonly confinement: string | null;
  readonly snapRevision: string | null;
  readonly revision: string | null;
  readonly era: Era;
  readonly eraEvidence: string;
  readonly role: Role;
  readonly roleEvidence: string;
  readonly datastore: { readonly kind: DatastoreKind; readonly evidence: string; readonly endpoints: readonly string[] };
  readonly peers: { readonly callbackTokens: readonly string[]; readonly members: readonly string[]; readonly self: string | null; readonly clustered: boolean };
  readonly argsDir: string;
  readonly files: readonly FileReport[];
  readonly findings: readonly Finding[];
}

/** A node described, plus the parsed views later stages (check, plan) build on. */
export interface NodeModel {
  readonly report: NodeReport;
  readonly version: Version | null;
  readonly views: ReadonlyMap<string, FileView>;
  /** Flag files that are there but cannot be read (a FIFO, a socket, a device), by name: why, as a sentence. */
  readonly unreadable: ReadonlyMap<string, string>;
}

export const SNAP_YAML = '/snap/microk8s/current/meta/snap.yaml';

/** `viewFlags`: how flag files are viewed (a shared viewer, when many nodes are described in one run). */
export function describeNode(facts: NodeFacts, viewFlags: FlagsViewer = viewFlagsFile): NodeModel {
  const findings: Finding[] = [];
  const version = facts.snapYaml === null ? null : parseVersion(yamlScalar(facts.snapYaml, 'version') ?? '');
  if (facts.snapYaml === null) {
    findings.push(nodeFinding('version-unknown', 'warning', `${SNAP_YAML} not found: the MicroK8s version is inferred from the args files`));
  } else if (version === null) {
    findings.push(nodeFinding('version-unknown', 'warning', `${SNAP_YAML} has no readable version: it is inferred from the args files`));
  }
  const entries = new Map(facts.entries.map((entry) => [entry.name, entry]));
  const has = (name: string) => entries.get(name)?.type === 'file';
  const lite = has('kubelite') || facts.locks.includes('lite.lock');

  let era: Era;
  let eraEvidence: string;
  if (version) {
    era = atLeast(version, '1.21') ? 'kubelite' : 'daemons';
    eraEvidence = `MicroK8s ${formatVersion(version)}: ${era === 'kubelite' ? 'kubelite runs the Kubernetes components from 1.21 on' : 'one daemon per component before 1.21'}`;
    if (era === 'kubelite' && !has('kubelite')) findings.push(nodeFinding('era-mismatch', 'warning', `MicroK8s ${formatVersion(version)} runs kubelite but args/kubelite is missing`));
    if (era === 'daemons' && has('kubelite')) findings.push(nodeFinding('era-mismatch', 'info', `args/kubelite exists but MicroK8s ${formatVersion(version)} does not run kubelite`));
  } else {
    era = lite ? 'kubelite' : 'daemons';
    eraEvidence = lite
      ? `${has('kubelite') ? 'args/kubelite exists' : 'var/lock/lite.lock exists'}: kubelite runs the Kubernetes components`
      : 'no args/kubelite and no var/lock/lite.lock: one daemon per component';
  }

  const revision = facts.dataRevision;
  if (revision === null) findings.push(nodeFinding('revision-unknown', 'info', '/var/snap/microk8s/current is not a symlink: the revision directory is unknown'));
  const env = { vars: snapVars(revision), unknownVariables: 'keep' as const };

  const views = new Map<string, FileView>();
  const unreadable = new Map<string, string>();
  const files: FileReport[] = [];
  for (const entry of [...facts.entries].sort((a, b) => compareStrings(a.name, b.name))) {
    const consumer = consumerOf(entry.name, era, entry.type === 'directory', entry.content);
    let view: FileView | null = null;
    let findings: readonly Finding[] = [];
    if (consumer.kind === 'flags' && entry.content !== null) {
      view = viewFlags(entry.content, { reader: consumer.reader === 'kubelite' ? 'kubelite' : 'bash', component: consumer.component, env });
      views.set(entry.name, view);
      findings = view.findings;
    } else if (consumer.kind === 'flags' && entry.type === 'other') {
      const why = `${facts.argsDir}/${entry.name} is ${entry.special ?? 'not a regular file'}, not an args file: harden does not open it, and ${consumer.component ?? 'its reader'} cannot read flags from it`;
      unreadable.set(entry.name, why);
      findings = [{ code: 'not-a-file', severity: 'error', line: 0, message: why }];
    }
    files.push(fileReport(facts, entry, consumer, view, findings));
  }

  const kubelite = views.get('kubelite')?.flags.flags.get('--start-control-plane');
  let role: Role = 'control-plane';
  let roleEvidence = 'no var/lock/clustered.lock and the control plane is not switched off';
  if (kubelite && kubelite.value === 'false') {
    role = 'worker';
    roleEvidence = `--start-control-plane=false in args/kubelite (line ${kubelite.occurrences[kubelite.occurrences.length - 1].line})`;
  } else if (facts.locks.includes('clustered.lock')) {
    role = 'worker';
    roleEvidence = 'var/lock/clustered.lock exists (joined as a worker)';
  }

  const datastore = role === 'worker'
    ? { kind: 'none' as const, evidence: 'a worker node keeps no datastore', endpoints: [] }
    : describeDatastore(unreadable.has('kube-apiserver') ? (facts.entries.find((e) => e.name === 'kube-apiserver')?.special ?? 'not a regular file') : null, views, has, facts.locks);

  const peers = describePeers(facts);
  const inferred = version ? null : inferVersion(has, facts.locks, views);
  if (inferred && inferred.min && inferred.max && compareText(inferred.min, inferred.max) > 0) {
    findings.push(nodeFinding('version-conflict', 'warning', `the args files disagree about the version (${inferred.evidence.join('; ')})`));
  }

  const report: NodeReport = {
    version: version ? formatVersion(version) : null,
    versionSource: version ? 'snap.yaml' : 'inferred',
    inferred,
    confinement: facts.snapYaml === null ? null : yamlScalar(facts.snapYaml, 'confinement'),
    snapRevision: facts.snapRevision,
    revision,
    era,
    eraEvidence,
    role,
    roleEvidence,
    datastore,
    peers,
    argsDir: facts.argsDir,
    files,
    findings: sortFindings(findings),
  };
  return { report, version, views, unreadable };
}

function nodeFinding(code: string, severity: Finding['severity'], message: string): Finding {
  return { code, severity, line: 0, message };
}

/** A top-level `key: value` of a small YAML file, quotes removed. */
export function yamlScalar(yaml: string, key: string): string | null {
  const match = new RegExp(`^${key}:[ \\t]*(.*?)[ \\t]*$`, 'm').exec(yaml);
  if (!match) return null;
  return match[1].replace(/^(['"])(.*)\1$/, '$2');
}

function fileReport(facts: NodeFacts, entry: ArgsEntry, consumer: Consumer, view: FileView | null, findings: readonly Finding[]): FileReport {
  const flags = view
    ? Object.fromEntries([...view.flags.flags.values()].map((flag) => [flag.name, flag.value]))
    : null;
  // The argv is made when asked for (inspect --json): a 16 MiB file has millions of words, and check never asks.
  let argv: readonly string[] | null | undefined;
  return {
    name: entry.name,
    path: `${facts.argsDir}/${entry.name}`,
    kind: consumer.kind,
    component: consumer.component,
    service: consumer.service,
    serviceEnabled: !consumer.service || !facts.locks.includes(consumer.service.replace('snap.microk8s.daemon-', 'no-')),
    reader: consumer.reader,
    note: consumer.note,
    symlinkTarget: entry.symlinkTarget,
    mode: (entry.mode & 0o7777).toString(8).padStart(4, '0'),
    owner: `${facts.users[entry.uid] ?? entry.uid}:${facts.groups[entry.gid] ?? entry.gid}`,
    size: entry.size,
    flags,
    get argv() {
      if (argv === undefined) argv = view ? view.read.argv.map((word) => word.value) : null;
      return argv;
    },
    findings,
  };
}

function describeDatastore(
  unreadableApiserver: string | null,
  views: ReadonlyMap<string, FileView>,
  has: (name: string) => boolean,
  locks: readonly string[],
): NodeReport['datastore'] {
  const apiserver = views.get('kube-apiserver')?.flags.flags;
  const backend = apiserver?.get('--storage-backend')?.value;
  const servers = apiserver?.get('--etcd-servers')?.value ?? null;
  const endpoints = servers ? servers.split(',').filter(Boolean) : [];
  if (backend === 'dqlite') {
    return { kind: 'dqlite', evidence: '--storage-backend=dqlite in args/kube-apiserver: dqlite runs inside the API server', endpoints };
  }
  if (servers?.includes('kine.sock')) {
    const disabled = locks.includes('no-k8s-dqlite');
    return {
      kind: 'k8s-dqlite',
      evidence: `--etcd-servers points to k8s-dqlite's kine socket${disabled ? ' (but var/lock/no-k8s-dqlite exists)' : ''}`,
      endpoints,
    };
  }
  if (servers && endpoints.every(isLocalEtcd) && has('etcd') && !locks.includes('no-etcd')) {
    return { kind: 'etcd', evidence: '--etcd-servers points to the etcd daemon on this node', endpoints };
  }
  if (servers) return { kind: 'external-etcd', evidence: '--etcd-servers points to an etcd outside this node', endpoints };
  if (!apiserver) return { kind: 'unknown', evidence: unreadableApiserver ? `args/kube-apiserver cannot be read: ${unreadableApiserver}` : 'args/kube-apiserver was not read', endpoints };
  return { kind: 'unknown', evidence: 'args/kube-apiserver sets neither --storage-backend nor --etcd-servers', endpoints };
}

function isLocalEtcd(endpoint: string): boolean {
  return /^unix:\/\/etcd\.socket|^(https?:\/\/)?(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(endpoint);
}

function describePeers(facts: NodeFacts): NodeReport['peers'] {
  // The callback tokens file pairs each peer's cluster-agent endpoint with a secret: only the endpoint is kept.
  const callbackTokens = (facts.callbackTokens ?? '')
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0])
    .filter((endpoint) => endpoint !== '' && !endpoint.startsWith('#'));
  const addresses = (yaml: string | null) => [...(yaml ?? '').matchAll(/^[ \t-]*Address:[ \t]*['"]?([^'"\s]+)/gm)].map((m) => m[1]);
  const members = addresses(facts.clusterYaml);
  const self = addresses(facts.infoYaml)[0] ?? null;
  return { callbackTokens, members, self, clustered: callbackTokens.length > 0 || members.length > 1 };
}

type Has = (name: string) => boolean;

/** Bounds on the version from what only some releases ship (used when snap.yaml is missing). */
function inferVersion(has: Has, locks: readonly string[], views: ReadonlyMap<string, FileView>): VersionInference {
  const flag = (file: string, name: string) => views.get(file)?.flags.flags.get(name);
  const clues: Array<{ present: boolean; min?: string; max?: string; evidence: string }> = [
    { present: has('dockerd'), max: '1.13', evidence: 'args/dockerd exists (docker era, 1.13 and earlier)' },
    { present: has('cluster-agent') || has('flanneld'), min: '1.16', evidence: 'args/cluster-agent exists (clustering, 1.16 and later)' },
    { present: has('ha-conf'), min: '1.19', evidence: 'args/ha-conf exists (dqlite HA, 1.19 and later)' },
    { present: has('kubelite') || locks.includes('lite.lock'), min: '1.21', evidence: 'kubelite is set up (1.21 and later)' },
    { present: has('k8s-dqlite'), min: '1.23', evidence: 'args/k8s-dqlite exists (1.23 and later)' },
    { present: has('apiserver-proxy'), min: '1.25', evidence: 'args/apiserver-proxy exists (1.25 and later)' },
    { present: has('cni-env'), min: '1.27', evidence: 'args/cni-env exists (after 1.26)' },
    { present: flag('kube-apiserver', '--storage-backend')?.value === 'dqlite', min: '1.19', max: '1.22', evidence: '--storage-backend=dqlite (1.19 to 1.22)' },
    { present: !!flag('kube-apiserver', '--insecure-port'), max: '1.23', evidence: '--insecure-port is set (removed in 1.24)' },
    { present: !!flag('kubelet', '--network-plugin'), max: '1.23', evidence: 'kubelet --network-plugin is set (removed in 1.24)' },
    { present: !!flag('kubelet', '--container-runtime'), max: '1.26', evidence: 'kubelet --container-runtime is set (removed in 1.27)' },
  ];
  let min: string | null = null;
  let max: string | null = null;
  const evidence: string[] = [];
  for (const clue of clues.filter((c) => c.present)) {
    if (clue.min && (min === null || compareText(clue.min, min) > 0)) min = clue.min;
    if (clue.max && (max === null || compareText(clue.max, max) < 0)) max = clue.max;
    evidence.push(clue.evidence);
  }
  return { min, max, evidence };
}

function compareText(a: string, b: string): number {
  return compareMinor(parseVersion(a)!, parseVersion(b)!);
}
