// A node as a `microk8s inspect` report shows it: the members of `inspection-report/` (MicroK8s'
// scripts/inspect.sh) turned into the facts a check reads off a node root. `args/` is a copy of the args dir;
// `sys/snap-list` gives the version and revision (absent under strict confinement, where `k8s/version` still
// names the Kubernetes release); `network/ss` (`network/netstat` before December 2021) what listens; a folder
// per service the script checked, with `systemctl.log` (or `snapctl.log`, strict) saying how it ran. `var/lock`
// is not copied: the locks that matter are told from which services the script checked and how they ran.
// What the report does not hold (modes, owners, certificates, kubeconfigs, kernel parameters) is a gap
// evaluate.ts turns into NOT ASSESSED.
import type { InputGaps } from './evaluate.js';
import type { ArgsEntry, NodeFacts } from './node.js';
import { ARGS_DIR } from './node-env.js';
import { canonicalAddress, type Listener } from './proc-net.js';
import type { KeepRule, TarMember } from './tar-reader.js';
import { compareStrings } from './order.js';
import { flagsFileComponent } from './consumers.js';

export const REPORT_DIR = 'inspection-report';
/** What the input is, in the reasons of rules it cannot decide. */
export const INSPECT_INPUT = 'a microk8s inspect tarball';

/** The same cap as an args file read off a node. */
const MAX_ARGS_FILE = 16 * 1024 * 1024;
const MAX_TABLE = 16 * 1024 * 1024;
/** A service log's first lines say how it runs; the rest is the journal's tail. */
const MAX_SERVICE_LOG = 64 * 1024;
const MAX_SMALL = 1024 * 1024;

/** Which members a check reads, and how much of each; every other member (journals, dumps) is passed over. */
export function keepRule(name: string): KeepRule | null {
  if (!name.startsWith(`${REPORT_DIR}/`)) return null;
  const inside = name.slice(REPORT_DIR.length + 1);
  if (inside.startsWith('args/')) return { limit: MAX_ARGS_FILE, overflow: 'error' };
  if (inside === 'network/ss' || inside === 'network/netstat') return { limit: MAX_TABLE, overflow: 'error' };
  if (inside === 'sys/snap-list' || inside === 'dqlite/info.yaml') return { limit: MAX_SMALL, overflow: 'error' };
  if (inside === 'k8s/version') return { limit: MAX_SERVICE_LOG, overflow: 'truncate' };
  if (/^[^/]+\/(systemctl|snapctl)\.log$/.test(inside)) return { limit: MAX_SERVICE_LOG, overflow: 'truncate' };
  return null;
}

/** A refusal of the report's content (not of its archive): one line naming the member. */
export class InspectionError extends Error {
  constructor(message: string, readonly hint: string) {
    super(message);
  }
}

/** How a service the script checked ran. */
export interface ServiceRun {
  /** `kubelite`, `etcd`… */
  readonly daemon: string;
  /** The folder: `snap.microk8s.daemon-kubelite` (classic), `microk8s.daemon-kubelite` (strict). */
  readonly folder: string;
  readonly log: 'systemctl.log' | 'snapctl.log' | null;
  readonly active: boolean;
  /** Switched off at startup (`disabled`), as MicroK8s does with the daemons a node does not run. */
  readonly disabled: boolean;
}

export interface Inspection {
  readonly facts: NodeFacts;
  /** What listened when the report was made; null when the report holds no socket table. */
  readonly listeners: readonly Listener[] | null;
  readonly dqliteAddress: string | null;
  readonly services: readonly ServiceRun[];
  readonly gaps: InputGaps;
}

export function inspectionFacts(members: readonly TarMember[]): Inspection {
  const byName = new Map<string, TarMember>();
  for (const member of members) byName.set(member.name, member);
  const text = (inside: string): string | null => {
    const member = byName.get(`${REPORT_DIR}/${inside}`);
    return member?.type === 'file' && member.data !== null ? member.data.toString('utf8') : null;
  };
  const argsPrefix = `${REPORT_DIR}/args/`;
  if (!members.some((member) => member.name.startsWith(argsPrefix) || member.name === `${REPORT_DIR}/args`)) {
    throw new InspectionError(
      members.some((member) => member.name === REPORT_DIR || member.name.startsWith(`${REPORT_DIR}/`)) ? `${REPORT_DIR}/args/ is missing: the report holds no args files to audit` : `${REPORT_DIR}/ is missing: this is not a microk8s inspect report`,
      'make the report with `sudo microk8s inspect` on the node, and pass the inspection-report-*.tar.gz it names',
    );
  }

  const entries = argsEntries(members, argsPrefix);
  const services = serviceRuns(members, text);
  const strict = services.some((service) => service.log === 'snapctl.log');
  const snap = parseSnapList(text('sys/snap-list') ?? '');
  const kubernetes = snap ? null : serverVersion(text('k8s/version') ?? '');
  const version = snap?.version ?? kubernetes;
  const confinement = snap?.confinement ?? (strict ? 'strict' : null);
  const snapYaml = version === null ? null : `name: microk8s\nversion: ${version}\n${confinement ? `confinement: ${confinement}\n` : ''}`;
  const { locks, disabled } = locksOf(services, text('network/netstat') !== null);

  const ss = text('network/ss');
  const netstat = text('network/netstat');
  const listeners = ss !== null ? parseSs(ss) : netstat !== null ? parseNetstat(netstat) : null;
  const socketTable = ss !== null ? 'network/ss' : 'network/netstat';
  const listenersGap =
    ss === null && netstat === null
      ? `${INSPECT_INPUT} made under strict confinement holds no network/ss: what listens cannot be seen`
      : listeners === null
        ? `${REPORT_DIR}/${socketTable} holds no socket table (the command failed when the report was made): what listens cannot be seen`
        : null;
  const versionGap = version === null ? `${INSPECT_INPUT} without sys/snap-list or k8s/version does not say which MicroK8s version ran` : null;
  const info = text('dqlite/info.yaml');
  const dqlite = info === null ? null : /^Address:\s*["']?([^"'\s]+)["']?\s*$/m.exec(info);

  const facts: NodeFacts = {
    argsDir: ARGS_DIR,
    snapYaml,
    snapRevision: snap?.revision ?? null,
    dataRevision: snap?.revision ?? null,
    locks,
    callbackTokens: null,
    clusterYaml: null,
    infoYaml: info,
    entries,
    users: { 0: 'root' },
    groups: { 0: 'root' },
  };
  return {
    facts,
    listeners,
    dqliteAddress: dqlite ? dqlite[1] : null,
    services,
    gaps: { input: INSPECT_INPUT, argsDirs: [ARGS_DIR], listeners: listenersGap, version: versionGap, disabled },
  };
}

/** The top-level entries of `args/`, with the text of each file (a file in a subfolder makes that folder an entry). */
function argsEntries(members: readonly TarMember[], prefix: string): ArgsEntry[] {
  const entries = new Map<string, ArgsEntry>();
  for (const member of members) {
    if (!member.name.startsWith(prefix)) continue;
    const rest = member.name.slice(prefix.length);
    const slash = rest.indexOf('/');
    const name = slash === -1 ? rest : rest.slice(0, slash);
    if (slash === -1 && member.type === 'file') {
      entries.set(name, { name, type: 'file', special: null, symlinkTarget: null, mode: 0o100000 | (member.mode & 0o7777), uid: member.uid, gid: member.gid, size: member.size, content: argsText(member) });
    } else if (flagsFileComponent(name) !== null) {
      // As on a node: a directory where a component's flags file belongs cannot be judged as that file.
      throw new InspectionError(`${prefix}${name} is a directory, not an args file`, `${flagsFileComponent(name)} reads its flags from this file: make the report again once the node's args dir is mended`);
    } else if (!entries.has(name)) {
      entries.set(name, { name, type: 'directory', special: null, symlinkTarget: null, mode: 0o040755, uid: member.uid, gid: member.gid, size: 0, content: null });
    }
  }
  return [...entries.values()].sort((a, b) => compareStrings(a.name, b.name));
}

function argsText(member: TarMember): string {
  const shown = member.name;
  const hint = 'an args file is text: make the report again on the node, or audit the node itself';
  const nul = member.data!.indexOf(0);
  if (nul !== -1) throw new InspectionError(`${shown} has a NUL byte at offset ${nul}: it is binary, not an args file`, hint);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(member.data!);
  } catch {
    throw new InspectionError(`${shown} is not UTF-8 text`, hint);
  }
}

/** Every service folder the script made, and what its log says. */
function serviceRuns(members: readonly TarMember[], text: (inside: string) => string | null): ServiceRun[] {
  const folders = new Set<string>();
  for (const member of members) {
    const match = new RegExp(`^${REPORT_DIR}/((?:snap\\.)?microk8s\\.daemon-[^/]+)(?:/|$)`).exec(member.name);
    if (match) folders.add(match[1]);
  }
  return [...folders].sort(compareStrings).map((folder) => {
    const daemon = folder.replace(/^(snap\.)?microk8s\.daemon-/, '');
    const systemctl = text(`${folder}/systemctl.log`);
    const snapctl = text(`${folder}/snapctl.log`);
    if (systemctl !== null) {
      const active = /^\s*Active:\s+active\b/m.test(systemctl);
      const disabled = /^\s*Loaded:\s+loaded\s+\([^;)]*;\s*disabled\b/m.test(systemctl);
      return { daemon, folder, log: 'systemctl.log' as const, active, disabled: disabled && !active };
    }
    if (snapctl !== null) {
      // `Service  Startup  Current  Notes`, then `microk8s.daemon-kubelite  enabled  active  -`.
      const row = snapctl.split('\n').map((line) => line.trim().split(/\s+/)).find((columns) => columns[0] === `microk8s.daemon-${daemon}`);
      const active = row?.[2] === 'active';
      return { daemon, folder, log: 'snapctl.log' as const, active, disabled: row?.[1] === 'disabled' && !active };
    }
    return { daemon, folder, log: null, active: false, disabled: false };
  });
}

/**
 * The locks of var/lock that a check reads, as far as the report shows them. The script checks flanneld and
 * etcd only without `ha-cluster`, k8s-dqlite (current script) only without `no-k8s-dqlite`, the API server
 * proxy only without `no-apiserver-proxy`, the API server kicker only without `clustered.lock`; a daemon
 * MicroK8s switched off is `disabled` in its log. `disabled`: the evidence, by lock name (`no-etcd`).
 */
function locksOf(services: readonly ServiceRun[], oldScript: boolean): { locks: string[]; disabled: Map<string, string> } {
  const locks = new Set<string>();
  const disabled = new Map<string, string>();
  const has = (daemon: string) => services.some((service) => service.daemon === daemon);
  const off = (daemon: string, why: string) => {
    locks.add(`no-${daemon}`);
    if (!disabled.has(`no-${daemon}`)) disabled.set(`no-${daemon}`, why);
  };
  for (const service of services) {
    if (service.disabled) off(service.daemon, `${REPORT_DIR}/${service.folder}/${service.log}: disabled and not running`);
  }
  if (has('kubelite')) locks.add('lite.lock');
  // Nothing is told from services that are not there when the report has no service folder at all.
  if (services.length > 0) {
    if (!has('flanneld') && !has('etcd')) {
      locks.add('ha-cluster');
      const why = (daemon: string) => `${REPORT_DIR}/ has no ${daemon} folder: microk8s inspect checks ${daemon} only outside an HA cluster`;
      off('etcd', why('etcd'));
      off('flanneld', why('flanneld'));
      if (!oldScript && !has('k8s-dqlite')) off('k8s-dqlite', `${REPORT_DIR}/ has no k8s-dqlite folder: microk8s inspect leaves it out on a worker`);
    }
    if (!oldScript && !has('apiserver-proxy')) off('apiserver-proxy', `${REPORT_DIR}/ has no apiserver-proxy folder: microk8s inspect leaves it out where it is switched off`);
    if (!has('apiserver-kicker')) locks.add('clustered.lock');
  }
  return { locks: [...locks].sort(compareStrings), disabled };
}

/** `microk8s  v1.28.3  6089  1.28/stable  canonical✓  classic` from `snap list`. */
export function parseSnapList(text: string): { version: string; revision: string; confinement: string } | null {
  for (const line of text.split('\n')) {
    const columns = line.trim().split(/\s+/);
    if (columns[0] !== 'microk8s' || columns.length < 3) continue;
    if (!/^v?\d+\.\d+/.test(columns[1]) || !/^x?\d+$/.test(columns[2])) return null;
    return { version: columns[1], revision: columns[2], confinement: columns.slice(5).some((note) => note.split(',').includes('classic')) ? 'classic' : 'strict' };
  }
  return null;
}

/** The API server's version from `kubectl version` (both of its formats over the years). */
export function serverVersion(text: string): string | null {
  const match = /^Server Version: (?:version\.Info\{.*GitVersion:"(v\d+\.\d+\.\d+)|(v\d+\.\d+\.\d+))/m.exec(text);
  return match ? (match[1] ?? match[2]) : null;
}

/** TCP LISTEN rows of `ss -pln`; null when the file holds no ss table (its header is missing). */
export function parseSs(text: string): Listener[] | null {
  const lines = text.split('\n');
  if (!lines.some((line) => /^Netid\s+State\s+Recv-Q\s+Send-Q\s+Local Address:Port/.test(line))) return null;
  const listeners: Listener[] = [];
  for (const line of lines) {
    const columns = line.trim().split(/\s+/);
    if (columns[0] !== 'tcp' || columns[1] !== 'LISTEN') continue;
    const listener = listenerAt(columns[4], null);
    if (listener) listeners.push(listener);
  }
  return dedupe(listeners);
}

/** TCP LISTEN rows of `netstat -pln`; null when the file holds no netstat table. */
export function parseNetstat(text: string): Listener[] | null {
  const lines = text.split('\n');
  if (!lines.some((line) => /^Proto\s+Recv-Q\s+Send-Q\s+Local Address/.test(line))) return null;
  const listeners: Listener[] = [];
  for (const line of lines) {
    const columns = line.trim().split(/\s+/);
    if ((columns[0] !== 'tcp' && columns[0] !== 'tcp6') || columns[5] !== 'LISTEN') continue;
    const listener = listenerAt(columns[3], columns[0] === 'tcp6' ? 6 : 4);
    if (listener) listeners.push(listener);
  }
  return dedupe(listeners);
}

/** `127.0.0.1:10248`, `[::]:10250`, `*:16443` (every address, both families), `:::16443`, `127.0.0.53%lo:53`. */
function listenerAt(local: string | undefined, family: 4 | 6 | null): Listener | null {
  if (!local) return null;
  const colon = local.lastIndexOf(':');
  const port = Number(local.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) return null;
  const host = local.slice(0, colon).replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const address = host === '*' ? '::' : canonicalAddress(host);
  if (address === null) return null;
  return { family: family ?? (address.includes(':') ? 6 : 4), address, port, inode: 0, uid: 0 };
}

function dedupe(listeners: Listener[]): Listener[] {
  const seen = new Set<string>();
  return listeners.filter((listener) => {
    const key = `${listener.family} ${listener.address} ${listener.port}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
