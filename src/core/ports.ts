// The ports MicroK8s uses, as a node's args files configure them: for each, where it binds, how that was
// decided (the flag and its line, or the component's default for this version), the access restriction the
// args imply, whether an unauthenticated client gets in, and what MicroK8s' own "Services and ports"
// documentation says for this era. Pure: the model of the node in, rows out. What really listens is
// another matter (the caller joins the two).
import { argsFileOf, inRange } from './evaluate.js';
import type { EffectiveFlag } from './effective-flags.js';
import type { FileReport, NodeModel } from './node.js';
import { snapVars } from './node-env.js';
import { parseVersion, type Version } from './version.js';

export type AccessKind = 'none' | 'tls' | 'tls-client-cert' | 'tls-authn' | 'token' | 'socket';

export interface ConfiguredPort {
  /** Stable: `apiserver`, `kubelet-read-only`, `etcd-client`, … (a second listen URL of etcd is `etcd-client-2`). */
  readonly id: string;
  /** The TCP port; null for a unix socket, and for kube-proxy's userspace ports (one random port per service). */
  readonly port: number | null;
  /** Node path of a unix socket; null for a TCP port, or when the args do not name the socket. */
  readonly socket: string | null;
  /** The systemd unit: `snap.microk8s.daemon-kubelite` from 1.21, one daemon per component before. */
  readonly service: string;
  readonly component: string;
  readonly what: string;
  /**
   * Where it binds: `0.0.0.0`, `::`, `127.0.0.1`, a specific IP, `unix` for a socket, or null when the
   * configuration turns it off (port 0, an empty address, the service disabled by a `var/lock/no-*` lock, or a
   * value this version refuses to start with).
   */
  readonly bind: string | null;
  /** How that was decided: the flags consulted, the args file, the line of the last flag found, and in words. */
  readonly source: { readonly flags: readonly string[]; readonly file: string | null; readonly line: number | null; readonly byDefault: boolean; readonly text: string };
  /** The access restriction the args imply. */
  readonly access: { readonly kind: AccessKind; readonly text: string };
  /** Whether an unauthenticated client gets in (plain HTTP, anonymous auth with AlwaysAllow, …). */
  readonly unauthenticated: boolean;
  /** What MicroK8s' documentation says for this era, or null when its page does not list the port. */
  readonly documented: { readonly scope: 'external' | 'localhost' | 'socket'; readonly restriction: string } | null;
}

export interface PortExtras {
  /** This node's dqlite address from `var/kubernetes/backend/info.yaml`; null or absent: MicroK8s' default. */
  readonly dqliteAddress?: string | null;
}

/** One row per port MicroK8s uses on this node, in a fixed order; none for a component whose args file is absent. */
export function configuredPorts(model: NodeModel, extra: PortExtras = {}): ConfiguredPort[] {
  const scope = versionScope(model);
  const controlPlane = model.report.role === 'control-plane';
  const rows: ConfiguredPort[] = [
    ...(controlPlane ? apiserverPorts(model, scope) : []),
    ...kubeletPorts(model, scope),
    ...proxyPorts(model, scope),
    ...(controlPlane ? servingPorts(model, scope, 'kube-scheduler', 'scheduler', 10259, { before: '1.23', port: 10251, removed: '1.24' }) : []),
    ...(controlPlane ? servingPorts(model, scope, 'kube-controller-manager', 'controller-manager', 10257, { before: '1.22', port: 10252, removed: '1.24' }) : []),
    ...(controlPlane ? etcdPorts(model, scope) : []),
    ...(controlPlane ? dqlitePorts(model, scope, extra.dqliteAddress ?? null) : []),
    ...clusterAgentPorts(model, scope),
    ...containerdPorts(model, scope),
    ...dockerdPorts(model, scope),
    ...apiserverProxyPorts(model, scope),
  ];
  return rows.map((row) => withDocumentation(row, scope));
}

// ---- versions ---------------------------------------------------------------------------------------------

interface Versioned<T> {
  readonly from?: string;
  readonly before?: string;
  readonly value: T;
}

/** The versions the node may run: its own, or when unknown the range its era and its args files allow. */
interface VersionScope {
  readonly version: Version | null;
  readonly from: string | null;
  readonly before: string | null;
  /** Said in every row's source when the version is unknown. */
  readonly note: string | null;
}

function versionScope(model: NodeModel): VersionScope {
  if (model.version) return { version: model.version, from: null, before: null, note: null };
  const { era, eraEvidence, inferred } = model.report;
  const later = (a: string | null, b: string | null) => (a === null ? b : b === null ? a : minorOf(a) >= minorOf(b) ? a : b);
  const earlier = (a: string | null, b: string | null) => (a === null ? b : b === null ? a : minorOf(a) <= minorOf(b) ? a : b);
  const max = inferred?.max ? nextMinor(inferred.max) : null;
  const from = later(era === 'kubelite' ? '1.21' : null, inferred?.min ?? null);
  const before = earlier(era === 'daemons' ? '1.21' : null, max);
  const range = from && before ? `from ${from}, before ${before}` : from ? `${from} or later` : before ? `before ${before}` : 'any';
  return { version: null, from, before, note: `MicroK8s version unknown: ${era} era inferred (${eraEvidence}); versions ${range}` };
}

const minorOf = (text: string) => parseVersion(text)!.minor + parseVersion(text)!.major * 1000;

function nextMinor(text: string): string {
  const version = parseVersion(text)!;
  return `${version.major}.${version.minor + 1}`;
}

/**
 * The value for this node's version. When the version is unknown and the possible versions disagree, the
 * first value `open` accepts (the one that leaves the port open) is assumed, and `ambiguous` says so.
 */
function byVersion<T>(scope: VersionScope, entries: readonly Versioned<T>[], open: (value: T) => boolean = () => false): { value: T; ambiguous: boolean } {
  if (scope.version) return { value: entries.find((entry) => inRange(scope.version!, entry))!.value, ambiguous: false };
  const possible = entries.filter((entry) => overlaps(entry, scope));
  const distinct = new Set(possible.map((entry) => JSON.stringify(entry.value)));
  const chosen = possible.find((entry) => open(entry.value)) ?? possible[0] ?? entries[entries.length - 1];
  return { value: chosen.value, ambiguous: distinct.size > 1 };
}

function overlaps(entry: { from?: string; before?: string }, scope: VersionScope): boolean {
  if (entry.from && scope.before && minorOf(entry.from) >= minorOf(scope.before)) return false;
  if (entry.before && scope.from && minorOf(scope.from) >= minorOf(entry.before)) return false;
  return true;
}

// ---- reading flags ----------------------------------------------------------------------------------------

interface FlagsFile {
  readonly report: FileReport;
  readonly flags: ReadonlyMap<string, EffectiveFlag>;
  /** The node path shown as the source. */
  readonly path: string;
}

/** The component's args file as its real reader sees it (kubelite or bash), or null when there is none. */
function flagsFile(model: NodeModel, component: string): FlagsFile | null {
  const name = argsFileOf(component);
  const report = model.report.files.find((file) => file.name === name);
  const view = model.views.get(name);
  if (!report || !view || !report.service) return null;
  return { report, flags: view.flags.flags, path: `${model.report.argsDir}/${name}` };
}

interface Reading {
  readonly name: string;
  /** The effective value (`true` for a bare flag), or null when absent. */
  readonly value: string | null;
  readonly line: number | null;
  /** Given without a value (`--client-cert-auth`). */
  readonly bare?: boolean;
}

/**
 * The flag among `names` (aliases that set one value, as kube-apiserver's --insecure-port and --port) whose
 * last occurrence comes last: pflag keeps the value parsed last.
 */
function read(file: FlagsFile, ...names: string[]): Reading {
  let best: Reading = { name: names[0], value: null, line: null };
  for (const name of names) {
    const flag = file.flags.get(name);
    if (!flag) continue;
    const line = flag.occurrences[flag.occurrences.length - 1].line;
    if (best.line === null || line > best.line) best = { name, value: flag.value ?? 'true', line, bare: flag.value === null };
  }
  return best;
}

/** Collects what decided a row: each flag found with its line, or absent with the default used. */
class SourceNotes {
  private readonly flags: string[] = [];
  private readonly parts: string[] = [];
  private line: number | null = null;
  private found = false;

  constructor(private readonly file: string | null) {}

  /** The flag's value, or `fallback` when absent (noted as the default). */
  take(reading: Reading, fallback: string, names: readonly string[] = [reading.name]): string {
    for (const name of names) if (!this.flags.includes(name)) this.flags.push(name);
    if (reading.value === null) {
      this.parts.push(`${names.join('/')} absent (default ${fallback === '' ? 'empty' : fallback})`);
      return fallback;
    }
    this.found = true;
    this.line = Math.max(this.line ?? 0, reading.line!);
    this.parts.push(`${reading.name}${reading.bare ? '' : `=${reading.value}`} (line ${reading.line})`);
    return reading.value;
  }

  note(text: string): void {
    this.parts.push(text);
  }

  build(scope: VersionScope): ConfiguredPort['source'] {
    const parts = scope.note ? [...this.parts, scope.note] : this.parts;
    return { flags: [...this.flags], file: this.file, line: this.line, byDefault: !this.found, text: parts.join('; ') };
  }
}

function truthy(value: string): boolean {
  return value === 'true' || value === '1' || value === 't' || value === 'T' || value === 'TRUE' || value === 'True';
}

// ---- addresses --------------------------------------------------------------------------------------------

/** `localhost` as the listener resolves it; brackets off IPv6; an empty host is every interface. */
function normalHost(host: string): string {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (bare === '') return '0.0.0.0';
  return bare === 'localhost' ? '127.0.0.1' : bare;
}

/** `host:port`, `[v6]:port`, `:port` or a bare host (then `port` is the fallback). */
function hostPort(text: string, port: number): { host: string; port: number } {
  const bracketed = /^\[([^\]]*)\](?::(\d+))?$/.exec(text);
  if (bracketed) return { host: normalHost(bracketed[1]), port: bracketed[2] ? Number(bracketed[2]) : port };
  const withPort = /^([^:]*):(\d+)$/.exec(text);
  if (withPort) return { host: normalHost(withPort[1]), port: Number(withPort[2]) };
  return { host: normalHost(text), port };
}

interface Endpoint {
  readonly scheme: string;
  readonly host: string | null;
  readonly port: number | null;
  readonly socket: string | null;
}

/** A listen URL: `https://0.0.0.0:12379`, `unix://etcd.socket:2379` (relative to the daemon's working dir). */
function endpoint(url: string, workDir: string, defaultPort: number): Endpoint {
  const match = /^([a-z]+):\/\/(.*)$/.exec(url);
  const scheme = match ? match[1] : 'tcp';
  const rest = match ? match[2] : url;
  if (scheme === 'unix' || scheme === 'unixs') {
    return { scheme, host: null, port: null, socket: rest.startsWith('/') ? rest : `${workDir}/${rest}` };
  }
  const { host, port } = hostPort(rest.replace(/\/.*$/, ''), defaultPort);
  return { scheme, host, port, socket: null };
}

// ---- rows -------------------------------------------------------------------------------------------------

interface RowParts {
  readonly id: string;
  readonly what: string;
  readonly port: number | null;
  readonly socket?: string | null;
  readonly bind: string | null;
  readonly access: ConfiguredPort['access'];
  readonly unauthenticated: boolean;
}

/** A row of `file`'s service; every row of a service MicroK8s keeps disabled binds nothing. */
function row(file: FlagsFile, component: string, parts: RowParts, notes: SourceNotes, scope: VersionScope): ConfiguredPort {
  let bind = parts.bind;
  if (!file.report.serviceEnabled) {
    notes.note(`${file.report.service} is disabled on this node (var/lock/${file.report.service!.replace('snap.microk8s.daemon-', 'no-')}): nothing listens`);
    bind = null;
  }
  return {
    id: parts.id,
    port: parts.port,
    socket: parts.socket ?? null,
    service: file.report.service!,
    component,
    what: parts.what,
    bind,
    source: notes.build(scope),
    access: parts.access,
    unauthenticated: bind !== null && parts.unauthenticated,
    documented: null,
  };
}

const PLAIN_HTTP = { kind: 'none', text: 'plain HTTP, no authentication or authorization' } as const;
const DELEGATED = {
  kind: 'tls-authn',
  text: 'HTTPS; clients authenticated and authorized through the API server (delegated); /healthz, /readyz, /livez always allowed',
} as const;

/** A port number flag: `0` (or a negative number) turns the port off. */
function portNumber(text: string): number | null {
  const value = Number.parseInt(text, 10);
  return Number.isNaN(value) || value <= 0 ? null : value;
}

function apiserverPorts(model: NodeModel, scope: VersionScope): ConfiguredPort[] {
  const file = flagsFile(model, 'kube-apiserver');
  if (!file) return [];
  const rows: ConfiguredPort[] = [];

  const secure = new SourceNotes(file.path);
  const securePort = portNumber(secure.take(read(file, '--secure-port'), '6443'));
  const bindAddress = secure.take(read(file, '--bind-address'), '0.0.0.0');
  rows.push(row(file, 'kube-apiserver', {
    id: 'apiserver', what: 'API server (TLS)', port: securePort ?? 6443, bind: securePort === null ? null : normalHost(bindAddress),
    ...apiserverAccess(file),
  }, secure, scope));

  // The insecure port: 8080 by default before 1.20; from 1.20 only 0 is accepted; the flags are gone in 1.24.
  const insecureDefault = byVersion<string | null>(scope, [
    { before: '1.20', value: '8080' },
    { from: '1.20', before: '1.24', value: '0' },
    { from: '1.24', value: null },
  ], (value) => value !== null && value !== '0');
  const portReading = read(file, '--insecure-port', '--port');
  if (insecureDefault.value === null && portReading.value === null) return rows;
  const insecure = new SourceNotes(file.path);
  const portText = insecure.take(portReading, insecureDefault.value ?? '0', ['--insecure-port', '--port']);
  const address = insecure.take(read(file, '--insecure-bind-address', '--address'), '127.0.0.1', ['--insecure-bind-address', '--address']);
  if (insecureDefault.ambiguous && portReading.value === null) insecure.note(`assumed ${insecureDefault.value ?? 'absent'}: the default depends on the version`);
  const port = portNumber(portText);
  const refused = refusal(scope, portReading.value !== null && port !== null, [
    { from: '1.20', before: '1.24', value: 'kube-apiserver 1.20 to 1.23 accepts only --insecure-port=0 and does not start' },
    { from: '1.24', value: 'kube-apiserver 1.24 and later has no insecure port and does not start with these flags' },
  ]);
  if (refused) insecure.note(refused);
  rows.push(row(file, 'kube-apiserver', {
    id: 'apiserver-insecure', what: 'API server insecure port (plain HTTP)', port: port ?? 8080, bind: port === null || refused ? null : normalHost(address),
    access: PLAIN_HTTP, unauthenticated: true,
  }, insecure, scope));
  return rows;
}

/** The reason this version refuses a value (when `set` and the version is one of `entries`), or null. */
function refusal(scope: VersionScope, set: boolean, entries: readonly Versioned<string>[]): string | null {
  if (!set) return null;
  const all: Versioned<string | null>[] = [...entries];
  const earliest = entries.map((entry) => entry.from).filter((from): from is string => !!from).sort((a, b) => minorOf(a) - minorOf(b))[0];
  if (earliest) all.unshift({ before: earliest, value: null });
  const { value, ambiguous } = byVersion(scope, all, (reason) => reason === null);
  return ambiguous || value === null ? null : value;
}

function apiserverAccess(file: FlagsFile): Pick<RowParts, 'access' | 'unauthenticated'> {
  const config = read(file, '--authorization-config').value;
  const modes = config ? [] : (read(file, '--authorization-mode').value ?? 'AlwaysAllow').split(',').filter(Boolean);
  const alwaysAllow = modes.includes('AlwaysAllow');
  const anonymousFlag = read(file, '--anonymous-auth').value;
  const anonymous = truthy(anonymousFlag ?? 'true');
  const methods = [
    read(file, '--client-ca-file').value && 'X509 client certificates (--client-ca-file)',
    read(file, '--token-auth-file').value && 'a static token file (--token-auth-file)',
    read(file, '--basic-auth-file').value && 'a static password file (--basic-auth-file)',
    'service-account tokens',
  ].filter((text): text is string => typeof text === 'string');
  // kube-apiserver turns anonymous auth off when AlwaysAllow is among the modes (ApplyAuthorization).
  const anonymousText = !anonymous
    ? 'anonymous requests refused (--anonymous-auth=false)'
    : alwaysAllow
      ? `anonymous requests refused (kube-apiserver turns ${anonymousFlag === null ? 'the default ' : ''}--anonymous-auth off under AlwaysAllow)`
      : 'anonymous requests reach the authorizers as system:anonymous';
  const authz = config
    ? `authorization from --authorization-config ${config}`
    : alwaysAllow
      ? `authorization ${modes.join(',')}: every authenticated client may do everything`
      : `authorization ${modes.join(',')}`;
  return {
    access: { kind: 'tls-authn', text: `TLS; authenticates ${methods.join(', ')}; ${anonymousText}; ${authz}` },
    // Anonymous and AlwaysAllow never meet (see above); with other authorizers anonymous gets only what they grant.
    unauthenticated: false,
  };
}

function kubeletPorts(model: NodeModel, scope: VersionScope): ConfiguredPort[] {
  const file = flagsFile(model, 'kubelet');
  if (!file) return [];
  const mainNotes = new SourceNotes(file.path);
  const port = portNumber(mainNotes.take(read(file, '--port'), '10250')) ?? 10250;
  const address = normalHost(mainNotes.take(read(file, '--address'), '0.0.0.0'));
  const main = row(file, 'kubelet', { id: 'kubelet', what: 'kubelet API (TLS)', port, bind: address, ...kubeletAccess(file) }, mainNotes, scope);

  // The read-only port: the flag's default is 10255 in every version (MicroK8s sets 0 from 1.24).
  const readOnlyNotes = new SourceNotes(file.path);
  const readOnly = portNumber(readOnlyNotes.take(read(file, '--read-only-port'), '10255'));
  readOnlyNotes.take(read(file, '--address'), '0.0.0.0');
  const readOnlyRow = row(file, 'kubelet', {
    id: 'kubelet-read-only', what: 'kubelet read-only port (plain HTTP: pods, node stats)', port: readOnly ?? 10255, bind: readOnly === null ? null : address,
    access: PLAIN_HTTP, unauthenticated: true,
  }, readOnlyNotes, scope);

  const healthNotes = new SourceNotes(file.path);
  const health = portNumber(healthNotes.take(read(file, '--healthz-port'), '10248'));
  const healthAddress = healthNotes.take(read(file, '--healthz-bind-address'), '127.0.0.1');
  const healthRow = row(file, 'kubelet', {
    id: 'kubelet-healthz', what: 'kubelet healthz (plain HTTP)', port: health ?? 10248, bind: health === null || healthAddress === '' ? null : normalHost(healthAddress),
    access: PLAIN_HTTP, unauthenticated: true,
  }, healthNotes, scope);
  return [main, readOnlyRow, healthRow];
}

function kubeletAccess(file: FlagsFile): Pick<RowParts, 'access' | 'unauthenticated'> {
  const anonymous = truthy(read(file, '--anonymous-auth').value ?? 'true');
  const mode = read(file, '--authorization-mode').value ?? 'AlwaysAllow';
  const clientCa = read(file, '--client-ca-file').value;
  const webhook = truthy(read(file, '--authentication-token-webhook').value ?? 'false');
  const methods = [
    clientCa && 'X509 client certificates (--client-ca-file)',
    webhook && 'bearer tokens reviewed by the API server (--authentication-token-webhook)',
  ].filter((text): text is string => typeof text === 'string');
  const authz = mode === 'AlwaysAllow' ? 'authorization AlwaysAllow: every authenticated client may do everything' : `authorization ${mode} (the API server decides)`;
  if (anonymous) {
    const who = mode === 'AlwaysAllow' ? 'anonymous requests are allowed everything (--anonymous-auth on, AlwaysAllow)' : `anonymous requests go to authorization ${mode}`;
    return { access: { kind: 'tls', text: `TLS; ${who}${methods.length ? `; also authenticates ${methods.join(', ')}` : ''}` }, unauthenticated: mode === 'AlwaysAllow' };
  }
  if (methods.length === 0) return { access: { kind: 'tls-authn', text: `TLS; anonymous refused and no way to authenticate (no --client-ca-file, no token webhook); ${authz}` }, unauthenticated: false };
  return { access: { kind: clientCa && !webhook ? 'tls-client-cert' : 'tls-authn', text: `TLS; anonymous refused; authenticates ${methods.join(', ')}; ${authz}` }, unauthenticated: false };
}

function proxyPorts(model: NodeModel, scope: VersionScope): ConfiguredPort[] {
  const file = flagsFile(model, 'kube-proxy');
  if (!file) return [];
  const served = (id: string, what: string, addressFlag: string, portFlag: string, fallback: string, fallbackPort: number) => {
    const notes = new SourceNotes(file.path);
    const address = notes.take(read(file, addressFlag), fallback);
    const portText = read(file, portFlag);
    const listen = hostPort(address, portText.value === null ? fallbackPort : Number(portText.value));
    if (portText.value !== null) notes.take(portText, String(fallbackPort));
    const off = address === '' || listen.port <= 0;
    return row(file, 'kube-proxy', { id, what, port: off ? fallbackPort : listen.port, bind: off ? null : listen.host, access: PLAIN_HTTP, unauthenticated: true }, notes, scope);
  };
  const rows = [
    served('proxy-metrics', 'kube-proxy metrics (plain HTTP)', '--metrics-bind-address', '--metrics-port', '127.0.0.1:10249', 10249),
    served('proxy-healthz', 'kube-proxy health check (plain HTTP)', '--healthz-bind-address', '--healthz-port', '0.0.0.0:10256', 10256),
  ];
  const mode = read(file, '--proxy-mode');
  if (mode.value !== null && mode.value.split(',').includes('userspace')) {
    const notes = new SourceNotes(file.path);
    notes.take(mode, '');
    const bind = normalHost(notes.take(read(file, '--bind-address'), '0.0.0.0'));
    rows.push(row(file, 'kube-proxy', {
      id: 'proxy-userspace', what: 'kube-proxy userspace mode: one random port per service', port: null, bind,
      access: { kind: 'none', text: 'plain TCP to the service, no restriction' }, unauthenticated: true,
    }, notes, scope));
  }
  return rows;
}

/** The scheduler's or controller manager's secure port, and before 1.24 its old insecure HTTP port. */
function servingPorts(
  model: NodeModel,
  scope: VersionScope,
  component: 'kube-scheduler' | 'kube-controller-manager',
  id: string,
  securePort: number,
  insecure: { before: string; port: number; removed: string },
): ConfiguredPort[] {
  const file = flagsFile(model, component);
  if (!file) return [];
  const label = component === 'kube-scheduler' ? 'scheduler' : 'controller manager';
  const notes = new SourceNotes(file.path);
  const port = portNumber(notes.take(read(file, '--secure-port'), String(securePort)));
  const bind = normalHost(notes.take(read(file, '--bind-address'), '0.0.0.0'));
  const rows = [row(file, component, { id, what: `${label} (HTTPS)`, port: port ?? securePort, bind: port === null ? null : bind, access: DELEGATED, unauthenticated: false }, notes, scope)];

  // Insecure HTTP: on by default until `before`, then only 0 is accepted; the flags are gone from `removed`.
  const fallback = byVersion<string | null>(scope, [
    { before: insecure.before, value: String(insecure.port) },
    { from: insecure.before, before: insecure.removed, value: '0' },
    { from: insecure.removed, value: null },
  ], (value) => value !== null && value !== '0');
  const portReading = read(file, '--port');
  if (fallback.value === null && portReading.value === null) return rows;
  const old = new SourceNotes(file.path);
  const oldPort = portNumber(old.take(portReading, fallback.value ?? '0'));
  const address = old.take(read(file, '--address'), '0.0.0.0');
  if (fallback.ambiguous && portReading.value === null) old.note(`assumed ${fallback.value ?? 'absent'}: the default depends on the version`);
  const refused = refusal(scope, portReading.value !== null && oldPort !== null, [
    { from: insecure.before, before: insecure.removed, value: `${component} ${insecure.before} to 1.23 accepts only --port=0 and does not start` },
    { from: insecure.removed, value: `${component} ${insecure.removed} and later has no insecure port and does not start with --port` },
  ]);
  if (refused) old.note(refused);
  rows.push(row(file, component, {
    id: `${id}-insecure`, what: `${label} insecure port (plain HTTP)`, port: oldPort ?? insecure.port, bind: oldPort === null || refused ? null : normalHost(address),
    access: PLAIN_HTTP, unauthenticated: true,
  }, old, scope));
  return rows;
}

function urlAccess(point: Endpoint, certAuth: boolean, certFlag: string): Pick<RowParts, 'access' | 'unauthenticated'> {
  if (point.socket) return { access: { kind: 'socket', text: `unix socket: whoever may write the socket file${point.scheme === 'unixs' ? ' (TLS over it)' : ''}` }, unauthenticated: false };
  if (point.scheme === 'https' || point.scheme === 'unixs') {
    return certAuth
      ? { access: { kind: 'tls-client-cert', text: `TLS; client certificates required (${certFlag})` }, unauthenticated: false }
      : { access: { kind: 'tls', text: `TLS, but no client certificate required (${certFlag} off)` }, unauthenticated: true };
  }
  return { access: { kind: 'none', text: `plain ${point.scheme === 'http' ? 'HTTP' : 'TCP'}, no authentication` }, unauthenticated: true };
}

function etcdPorts(model: NodeModel, scope: VersionScope): ConfiguredPort[] {
  const file = flagsFile(model, 'etcd');
  if (!file) return [];
  // The snap starts etcd in ${SNAP_DATA}: a relative unix socket (1.13's etcd.socket:2379) lies there.
  const workDir = snapVars(model.report.revision).SNAP_DATA;
  const listeners = (id: string, what: string, urlsFlag: string, fallback: string, port: number, certFlag: string) => {
    const notesFor = () => {
      const notes = new SourceNotes(file.path);
      const urls = notes.take(read(file, urlsFlag), fallback).split(',').filter(Boolean);
      return { notes, urls, certAuth: truthy(notes.take(read(file, certFlag), 'false')) };
    };
    return notesFor().urls.map((url, index) => {
      const { notes, certAuth } = notesFor();
      const point = endpoint(url, workDir, port);
      return row(file, 'etcd', {
        id: index === 0 ? id : `${id}-${index + 1}`, what, port: point.port, socket: point.socket, bind: point.socket ? 'unix' : point.host,
        ...urlAccess(point, certAuth, certFlag),
      }, notes, scope);
    });
  };
  return [
    ...listeners('etcd-client', 'etcd client API', '--listen-client-urls', 'http://localhost:2379', 2379, '--client-cert-auth'),
    ...listeners('etcd-peer', 'etcd peer connections', '--listen-peer-urls', 'http://localhost:2380', 2380, '--peer-client-cert-auth'),
  ];
}

function dqlitePorts(model: NodeModel, scope: VersionScope, address: string | null): ConfiguredPort[] {
  const kind = model.report.datastore.kind;
  if (kind !== 'dqlite' && kind !== 'k8s-dqlite') return [];
  const file = flagsFile(model, kind === 'dqlite' ? 'kube-apiserver' : 'k8s-dqlite');
  if (!file) return [];
  const vars = snapVars(model.report.revision);
  const infoYaml = `${vars.SNAP_DATA}/var/kubernetes/backend/info.yaml`;
  const component = kind === 'dqlite' ? 'kube-apiserver' : 'k8s-dqlite';
  const notes = new SourceNotes(infoYaml);
  notes.note(address === null ? 'no Address in info.yaml: MicroK8s starts a node on 127.0.0.1:19001 and moves it to the node\'s IP when it joins a cluster' : `Address: ${address} in info.yaml`);
  const listen = hostPort(address ?? '127.0.0.1:19001', 19001);
  const rows = [row(file, component, {
    id: 'dqlite', what: kind === 'dqlite' ? 'dqlite (inside the API server)' : 'dqlite', port: listen.port, bind: listen.host,
    access: { kind: 'tls-client-cert', text: 'TLS; peers present the cluster certificate (var/kubernetes/backend/cluster.crt)' }, unauthenticated: false,
  }, notes, scope)];
  if (kind === 'k8s-dqlite') {
    const kine = new SourceNotes(file.path);
    const point = endpoint(kine.take(read(file, '--listen'), 'tcp://127.0.0.1:12379'), vars.SNAP_DATA, 12379);
    rows.push(row(file, component, {
      id: 'kine', what: 'kine (the etcd API of k8s-dqlite, for the API server)', port: point.port, socket: point.socket, bind: point.socket ? 'unix' : point.host,
      ...urlAccess(point, false, '--enable-tls'),
    }, kine, scope));
  }
  return rows;
}

function clusterAgentPorts(model: NodeModel, scope: VersionScope): ConfiguredPort[] {
  const file = flagsFile(model, 'cluster-agent');
  if (!file) return [];
  const notes = new SourceNotes(file.path);
  const listen = hostPort(notes.take(read(file, '--bind'), '0.0.0.0:25000'), 25000);
  return [row(file, 'cluster-agent', {
    id: 'cluster-agent', what: 'cluster agent (join and cluster operations)', port: listen.port, bind: listen.host,
    access: { kind: 'token', text: 'HTTPS (--certfile/--keyfile); every call needs a join or callback token' }, unauthenticated: false,
  }, notes, scope)];
}

function containerdPorts(model: NodeModel, scope: VersionScope): ConfiguredPort[] {
  const file = flagsFile(model, 'containerd');
  if (!file) return [];
  const notes = new SourceNotes(file.path);
  const address = read(file, '--address', '-a');
  if (address.value === null) notes.note('--address absent: the socket is [grpc] address in containerd.toml (generated from containerd-template.toml), not read here');
  else notes.take(address, '');
  return [row(file, 'containerd', {
    id: 'containerd', what: 'containerd API socket', port: null, socket: address.value, bind: 'unix',
    access: { kind: 'socket', text: 'unix socket: whoever may write the socket file (root)' }, unauthenticated: false,
  }, notes, scope)];
}

function dockerdPorts(model: NodeModel, scope: VersionScope): ConfiguredPort[] {
  const file = flagsFile(model, 'dockerd');
  if (!file) return [];
  // -H may be given several times: dockerd listens on each.
  const hosts: Reading[] = ['-H', '--host']
    .flatMap((name) => file.flags.get(name)?.occurrences ?? [])
    .sort((a, b) => a.line - b.line)
    .map((occurrence) => ({ name: occurrence.name, value: occurrence.value ?? '', line: occurrence.line }));
  const readings = hosts.length > 0 ? hosts : [{ name: '-H', value: null, line: null }];
  return readings.map((reading, index) => {
    const notes = new SourceNotes(file.path);
    const point = endpoint(notes.take(reading, 'unix:///var/run/docker.sock', ['-H', '--host']), snapVars(model.report.revision).SNAP_DATA, 2375);
    return row(file, 'dockerd', {
      id: index === 0 ? 'dockerd' : `dockerd-${index + 1}`, what: 'Docker API', port: point.port, socket: point.socket, bind: point.socket ? 'unix' : point.host,
      ...(point.socket ? urlAccess(point, false, '') : { access: { kind: 'none' as const, text: 'plain TCP: the whole Docker API, no authentication' }, unauthenticated: true }),
    }, notes, scope);
  });
}

function apiserverProxyPorts(model: NodeModel, scope: VersionScope): ConfiguredPort[] {
  const file = flagsFile(model, 'apiserver-proxy');
  if (!file) return [];
  const notes = new SourceNotes(file.path);
  notes.note('the entry point is in args/traefik/traefik.yaml, not read here: MicroK8s ships ":16443"');
  return [row(file, 'apiserver-proxy', {
    id: 'apiserver-proxy', what: 'API server proxy (TCP pass-through to the control plane)', port: 16443, bind: '0.0.0.0',
    access: { kind: 'tls-authn', text: 'TCP pass-through: the API servers behind it authenticate' }, unauthenticated: false,
  }, notes, scope)];
}

// ---- MicroK8s' documentation ------------------------------------------------------------------------------

type Documented = NonNullable<ConfiguredPort['documented']>;
const external = (restriction: string): Documented => ({ scope: 'external', restriction });
const localhost = (restriction: string): Documented => ({ scope: 'localhost', restriction });
const socket = (restriction: string): Documented => ({ scope: 'socket', restriction });

/**
 * MicroK8s' "Services and ports" page, per era (notes/ports.md): the earliest page lists the API server on
 * 6443, 8080 on localhost and kube-proxy's userspace ports; from 1.16 (secure port 16443, clustering) it lists
 * 16443, 25000, 12379, 10257, 10259; from 1.19 dqlite's 19001.
 */
const DOCUMENTED: Readonly<Record<string, readonly Versioned<Documented | null>[]>> = {
  apiserver: [
    { before: '1.16', value: external('TLS; clients present a password from a static password file') },
    { from: '1.16', before: '1.19', value: external('TLS; static password file, static token file, X509 client certificates') },
    { from: '1.19', value: external('TLS; static token file, X509 client certificates') },
  ],
  'apiserver-insecure': [{ before: '1.16', value: localhost('insecure port') }, { from: '1.16', value: null }],
  kubelet: [{ value: external('anonymous auth disabled; X509 client certificate required') }],
  'kubelet-read-only': [{ value: external('none: "Read only port for the Kubelet"') }],
  'kubelet-healthz': [{ value: localhost('healthz') }],
  'proxy-metrics': [{ value: localhost('metrics') }],
  'proxy-healthz': [{ value: localhost('health check server') }],
  'proxy-userspace': [{ before: '1.16', value: external('none: one random port per service (--proxy-mode=userspace)') }, { from: '1.16', value: null }],
  scheduler: [{ before: '1.16', value: null }, { from: '1.16', value: external('HTTPS with authentication and authorization') }],
  'scheduler-insecure': [{ value: localhost('insecure HTTP (older releases)') }],
  'controller-manager': [{ before: '1.16', value: null }, { from: '1.16', value: external('HTTPS with authentication and authorization') }],
  'controller-manager-insecure': [{ value: localhost('insecure HTTP (older releases)') }],
  'etcd-client': [{ before: '1.16', value: socket('unix://etcd.socket:2379') }, { from: '1.16', value: external('TLS; client certificates required') }],
  'etcd-peer': [{ value: localhost('peer connections') }],
  dqlite: [{ before: '1.19', value: null }, { from: '1.19', value: external('TLS; client certificates required') }],
  'cluster-agent': [{ before: '1.16', value: null }, { from: '1.16', value: external('a token is required') }],
  containerd: [{ value: socket('/var/snap/microk8s/common/run/containerd.sock') }],
  dockerd: [{ value: socket('${SNAP_DATA}/docker.sock') }],
};

function withDocumentation(port: ConfiguredPort, scope: VersionScope): ConfiguredPort {
  const entries = DOCUMENTED[port.id.replace(/-\d+$/, '')];
  if (!entries) return port;
  // With the version unknown, the earliest page the node may match.
  return { ...port, documented: byVersion(scope, entries).value };
}
