// The health gate after a restart: probes built from the node's own args files and credentials (the same
// endpoints MicroK8s' own health helpers use), and a poll that waits until every probe passes and every
// watched unit has stayed up, unchanged, long enough to rule out a crash loop.
import path from 'node:path';
import type { NodeModel } from '../core/node.js';
import { snapVars } from '../core/node-env.js';
import { builtin } from '../lazy.js';
import type { Services, UnitState } from './services.js';

export interface Probe {
  /** What is checked, e.g. `kube-apiserver /readyz`. */
  readonly name: string;
  /** The unit whose restart the probe watches. */
  readonly service: string;
  check(): Promise<{ ok: boolean; detail: string }>;
  /**
   * What is wrong with the credentials the probe will use (a CA, a client certificate and key, a token), read
   * and parsed as the probe reads them, before any wait: a gate whose probe can never pass is not waited out.
   * Empty when they are in order; absent for probes that use none.
   */
  readonly credentials?: () => Promise<string[]>;
}

export interface ProbeInput {
  /** The node's root on this machine: sockets are host paths below it. */
  readonly root: string;
  readonly model: NodeModel;
  /** Units to build probes for (`snap.microk8s.daemon-kubelite`, …); units without a probe are skipped. */
  readonly services: readonly string[];
  /** Where TCP probes go: the live machine's loopback. */
  readonly host?: string;
  /** Time allowed for one probe request. Default 3000. */
  readonly requestTimeoutMs?: number;
}

type ReadText = (nodePath: string) => Promise<string | null>;
type Flags = Readonly<Record<string, string | null>>;

const unit = (daemon: string) => `snap.microk8s.daemon-${daemon}`;

export function healthProbes(input: ProbeInput, readText: ReadText): Probe[] {
  const { model } = input;
  const host = input.host ?? '127.0.0.1';
  const timeoutMs = input.requestTimeoutMs ?? 3000;
  const vars = snapVars(model.report.revision);
  const expand = (value: string) => value.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, a, b) => vars[a ?? b] ?? whole);
  const flagsOf = (file: string): Flags => model.report.files.find((f) => f.name === file)?.flags ?? {};
  const flag = (file: string, name: string) => {
    const value = flagsOf(file)[name];
    return value === undefined || value === null ? null : expand(value);
  };
  // Only units this node runs: one of its args files names the unit (kubelite from 1.21, the separate
  // daemons before), and no `var/lock/no-<daemon>` lock keeps it off.
  const runs = (service: string) => {
    const files = model.report.files.filter((f) => f.service === service);
    return files.length > 0 && files.every((f) => f.serviceEnabled);
  };
  const pick = (address: string | null) => (address && !isUnspecified(address) && !isLoopback(address) ? address : host);
  const context: Context = { root: input.root, readText, expand, timeoutMs, snapData: vars.SNAP_DATA };

  const probes: Probe[] = [];
  for (const service of [...new Set(input.services)]) {
    if (!runs(service)) continue;
    const runsApiserver = service === unit('apiserver') || (service === unit('kubelite') && model.report.role === 'control-plane');
    if (runsApiserver) {
      const port = flag('kube-apiserver', '--secure-port') ?? '6443';
      if (port !== '0') probes.push(apiserverProbe(service, host, Number(port), context));
    }
    if (service === unit('kubelet') || service === unit('kubelite')) {
      const port = flag('kubelet', '--healthz-port') ?? '10248';
      const address = pick(flag('kubelet', '--healthz-bind-address'));
      if (port !== '0') probes.push(httpProbe('kubelet /healthz', service, { protocol: 'http:', host: address, port: Number(port), path: '/healthz' }, timeoutMs));
    }
    if (service === unit('etcd')) {
      const url = (flag('etcd', '--listen-client-urls') ?? 'http://127.0.0.1:2379').split(',')[0];
      // etcd's serving certificate is verified the way the API server verifies it (--etcd-cafile), not with
      // --trusted-ca-file, which is the CA etcd checks *clients* against and may be missing on exactly the
      // node being hardened; without either, MicroK8s' cluster CA, which signs server.crt.
      const ca = flag('kube-apiserver', '--etcd-cafile') ?? flag('etcd', '--trusted-ca-file') ?? `${vars.SNAP_DATA}/certs/ca.crt`;
      probes.push(etcdProbe(service, url, pick, context, {
        cert: flag('etcd', '--cert-file'),
        key: flag('etcd', '--key-file'),
        ca,
      }));
    }
    if (service === unit('k8s-dqlite')) {
      const listen = flag('k8s-dqlite', '--listen') ?? `unix://${vars.SNAP_DATA}/var/kubernetes/backend/kine.sock:12379`;
      probes.push(connectProbe('k8s-dqlite socket', service, listen, pick, context));
    }
    if (service === unit('containerd')) {
      const address = flag('containerd', '--address') ?? `${vars.SNAP_COMMON}/run/containerd.sock`;
      probes.push(connectProbe('containerd socket', service, `unix://${address.replace(/^unix:\/\//, '')}`, pick, context));
    }
  }
  return probes;
}

interface Context {
  readonly root: string;
  readonly readText: ReadText;
  readonly expand: (value: string) => string;
  readonly timeoutMs: number;
  readonly snapData: string;
}

interface Request {
  readonly protocol: 'http:' | 'https:';
  readonly host?: string;
  readonly port?: number;
  readonly socketPath?: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly ca?: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  readonly rejectUnauthorized?: boolean;
}

function httpProbe(name: string, service: string, request: Request, timeoutMs: number): Probe {
  return { name, service, check: () => get(request, timeoutMs) };
}

/** `/readyz` with the CA and credentials of `credentials/client.config` (x509, token, or basic auth). */
function apiserverProbe(service: string, host: string, port: number, context: Context): Probe {
  const configPath = `${context.snapData}/credentials/client.config`;
  const shown = 'credentials/client.config';
  /** What the probe sends: read once per check, and by `credentials` before any wait. */
  const material = async (): Promise<{ problem: string } | { problem: null; ca: Material; cert: Material; key: Material; headers: Record<string, string>; skipVerify: boolean }> => {
    const text = await context.readText(configPath);
    if (text === null) return { problem: `${configPath} not found: no CA or credentials to reach the API server with` };
    let config: Kubeconfig;
    try {
      // Loaded here, not at start-up: only apply and rollback probe.
      const { parse: parseYaml } = await import('yaml');
      config = kubeconfigParts(parseYaml(text));
    } catch (error) {
      return { problem: `${shown} is not a readable kubeconfig (${messageOf(error)})` };
    }
    const item = async (data: unknown, file: unknown, field: string): Promise<Material> => {
      if (typeof data === 'string' && data !== '') return { bytes: Buffer.from(data, 'base64'), name: `${shown} (${field}-data)` };
      if (typeof file === 'string' && file !== '') return { bytes: (await context.readText(context.expand(file))) ?? undefined, name: context.expand(file) };
      return { bytes: undefined, name: null };
    };
    const { cluster, user } = config;
    const ca = await item(cluster['certificate-authority-data'], cluster['certificate-authority'], 'certificate-authority');
    const skipVerify = cluster['insecure-skip-tls-verify'] === true;
    if (!ca.bytes && !skipVerify) return { problem: `${shown} names no certificate authority: the API server cannot be verified` };
    const headers: Record<string, string> = {};
    if (typeof user.token === 'string' && user.token !== '') headers.authorization = `Bearer ${user.token}`;
    else if (typeof user.username === 'string' && typeof user.password === 'string') {
      headers.authorization = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
    }
    const cert = await item(user['client-certificate-data'], user['client-certificate'], 'client-certificate');
    const key = await item(user['client-key-data'], user['client-key'], 'client-key');
    return { problem: null, ca, cert, key, headers, skipVerify };
  };
  return {
    name: 'kube-apiserver /readyz',
    service,
    async check() {
      const got = await material();
      if (got.problem !== null) return { ok: false, detail: got.problem };
      return get({
        protocol: 'https:',
        host,
        port,
        path: '/readyz',
        headers: got.headers,
        ca: got.ca.bytes,
        cert: got.cert.bytes,
        key: got.key.bytes,
        rejectUnauthorized: !got.skipVerify,
      }, context.timeoutMs);
    },
    async credentials() {
      const got = await material();
      if (got.problem !== null) return [got.problem];
      return credentialProblems('the API server probe', got.skipVerify ? null : got.ca, got.cert, got.key);
    },
  };
}

/** A CA, certificate or key as a probe reads it: its bytes (undefined when missing) and where they come from. */
interface Material {
  readonly bytes: string | Buffer | undefined;
  /** The file, or `credentials/client.config (…-data)`; null when nothing names one. */
  readonly name: string | null;
}

/**
 * What keeps a probe's TLS material from working, found without a connection: a CA or client certificate that
 * is missing or not PEM X.509, a key that does not parse, a certificate without its key (or the other way), or a
 * pair that does not match.
 */
function credentialProblems(what: string, ca: Material | null, cert: Material, key: Material): string[] {
  const crypto = builtin('node:crypto');
  const problems: string[] = [];
  const certificate = (material: Material, role: string) => {
    if (material.bytes === undefined) {
      problems.push(`the ${role} ${material.name} cannot be read: ${what} cannot pass`);
      return null;
    }
    try {
      return new crypto.X509Certificate(material.bytes);
    } catch {
      problems.push(`the ${role} ${material.name} is not a PEM X.509 certificate: ${what} cannot pass`);
      return null;
    }
  };
  if (ca !== null) certificate(ca, 'CA');
  if (cert.name === null && key.name === null) return problems;
  if (cert.name === null || key.name === null) {
    problems.push(`${cert.name === null ? `the client key ${key.name} has no client certificate` : `the client certificate ${cert.name} has no client key`}: ${what} cannot pass`);
    return problems;
  }
  const x509 = certificate(cert, 'client certificate');
  let privateKey: import('node:crypto').KeyObject | null = null;
  if (key.bytes === undefined) problems.push(`the client key ${key.name} cannot be read: ${what} cannot pass`);
  else {
    try {
      privateKey = crypto.createPrivateKey(key.bytes);
    } catch {
      problems.push(`the client key ${key.name} is not a PEM private key: ${what} cannot pass`);
    }
  }
  if (x509 && privateKey && !x509.checkPrivateKey(privateKey)) problems.push(`the client certificate ${cert.name} does not match the key ${key.name}: ${what} cannot pass`);
  return problems;
}

interface Kubeconfig {
  readonly cluster: Record<string, unknown>;
  readonly user: Record<string, unknown>;
}

/** The cluster and user of the current context (or the first of each). */
function kubeconfigParts(doc: unknown): Kubeconfig {
  const record = (value: unknown): Record<string, unknown> => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {});
  const list = (value: unknown) => (Array.isArray(value) ? value.map(record) : []);
  const root = record(doc);
  const contexts = list(root.contexts);
  const current = record((contexts.find((c) => c.name === root['current-context']) ?? contexts[0])?.context);
  const named = (items: Record<string, unknown>[], name: unknown, key: string) => record((items.find((i) => i.name === name) ?? items[0])?.[key]);
  return {
    cluster: named(list(root.clusters), current.cluster, 'cluster'),
    user: named(list(root.users), current.user, 'user'),
  };
}

/** etcd's `/health`, over TLS with its own server pair as the client pair, or plain HTTP, or its unix socket. */
function etcdProbe(service: string, url: string, pick: (host: string | null) => string, context: Context, files: { cert: string | null; key: string | null; ca: string }): Probe {
  return {
    name: 'etcd /health',
    service,
    async check() {
      const endpoint = parseEndpoint(url, context);
      if (endpoint.socket) return get({ protocol: 'http:', socketPath: endpoint.socket.host, path: '/health' }, context.timeoutMs);
      if (endpoint.scheme !== 'https') return get({ protocol: 'http:', host: pick(endpoint.host), port: endpoint.port ?? 2379, path: '/health' }, context.timeoutMs);
      const read = async (file: string | null) => (file ? ((await context.readText(file)) ?? undefined) : undefined);
      const ca = await read(files.ca);
      if (!ca) return { ok: false, detail: `the CA ${files.ca} cannot be read: etcd's certificate cannot be verified` };
      return get({
        protocol: 'https:',
        host: pick(endpoint.host),
        port: endpoint.port ?? 2379,
        path: '/health',
        ca,
        cert: await read(files.cert),
        key: await read(files.key),
      }, context.timeoutMs);
    },
    async credentials() {
      const endpoint = parseEndpoint(url, context);
      if (endpoint.socket || endpoint.scheme !== 'https') return [];
      const item = async (file: string | null): Promise<Material> => ({ bytes: file ? ((await context.readText(file)) ?? undefined) : undefined, name: file });
      return credentialProblems('the etcd probe', await item(files.ca), await item(files.cert), await item(files.key));
    },
  };
}

/** A daemon is healthy when its socket (or TCP port) accepts a connection. */
function connectProbe(name: string, service: string, address: string, pick: (host: string | null) => string, context: Context): Probe {
  return {
    name,
    service,
    async check() {
      const endpoint = parseEndpoint(address, context);
      if (!endpoint.socket) {
        const target = { host: pick(endpoint.host), port: endpoint.port ?? 0 };
        const result = await connect(target, context.timeoutMs);
        return result ?? { ok: true, detail: `accepting connections on ${target.host}:${target.port}` };
      }
      // `unix://…/kine.sock:12379` names a socket file called `kine.sock:12379`; also try it without the port.
      const candidates = [endpoint.socket, ...(endpoint.socket.bare ? [endpoint.socket.bare] : [])];
      let failure: { ok: boolean; detail: string } | null = null;
      for (const candidate of candidates) {
        failure = await connect({ path: candidate.host }, context.timeoutMs, candidate.node);
        if (!failure) return { ok: true, detail: `accepting connections on ${candidate.node}` };
        if (!failure.detail.startsWith('no socket')) break;
      }
      return failure!;
    },
  };
}

interface SocketPath {
  /** The node path, for messages. */
  readonly node: string;
  /** The path on this machine (below the root). */
  readonly host: string;
  /** The same without a trailing `:port`, when there is one. */
  readonly bare?: SocketPath;
}

interface Endpoint {
  readonly scheme: string;
  readonly host: string | null;
  readonly port: number | null;
  readonly socket: SocketPath | null;
}

/** `unix://path[:port]`, `scheme://host:port`, or `host:port`. Relative socket paths are relative to $SNAP_DATA, where snapd starts daemons. */
function parseEndpoint(address: string, context: Context): Endpoint {
  const match = /^(?:([a-z][a-z0-9+.-]*):\/\/)?(.*)$/i.exec(address.trim())!;
  const scheme = (match[1] ?? 'tcp').toLowerCase();
  const rest = match[2];
  if (scheme === 'unix') {
    const node = path.posix.resolve(context.snapData, rest);
    const socketOf = (nodePath: string): SocketPath => ({ node: nodePath, host: path.join(context.root, nodePath) });
    const bare = /:\d+$/.test(node) ? socketOf(node.replace(/:\d+$/, '')) : undefined;
    return { scheme, host: null, port: null, socket: { ...socketOf(node), bare } };
  }
  const hostPort = rest.replace(/\/.*$/, '');
  const bracketed = /^\[([^\]]*)\](?::(\d+))?$/.exec(hostPort);
  const plain = /^([^:]*)(?::(\d+))?$/.exec(hostPort);
  const [hostPart, portPart] = bracketed ? [bracketed[1], bracketed[2]] : plain ? [plain[1], plain[2]] : [hostPort, undefined];
  return { scheme, host: hostPart || null, port: portPart ? Number(portPart) : null, socket: null };
}

function isUnspecified(address: string): boolean {
  return ['0.0.0.0', '::', '[::]', ''].includes(address);
}

function isLoopback(address: string): boolean {
  return /^127\./.test(address) || address === '::1' || address === 'localhost';
}

function get(request: Request, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
  const { protocol, ...options } = request;
  const send = protocol === 'https:' ? builtin('node:https').request : builtin('node:http').request;
  return new Promise((resolve) => {
    const req = send({ ...options, method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 64 * 1024) body += chunk;
      });
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const ok = status >= 200 && status < 300;
        resolve({ ok, detail: `HTTP ${status}: ${summarise(body) || res.statusMessage || ''}`.trimEnd() });
      });
      res.on('error', (error) => resolve({ ok: false, detail: describeError(error, request.socketPath) }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'HARDEN_TIMEOUT', timeoutMs })));
    req.on('error', (error) => resolve({ ok: false, detail: describeError(error, request.socketPath) }));
    req.end();
  });
}

/** Resolves null when the connection is accepted, or a failed result saying why. */
function connect(target: { path: string } | { host: string; port: number }, timeoutMs: number, shown?: string): Promise<{ ok: boolean; detail: string } | null> {
  return new Promise((resolve) => {
    const socket = builtin('node:net').connect(target);
    socket.setTimeout(timeoutMs, () => socket.destroy(Object.assign(new Error('timeout'), { code: 'HARDEN_TIMEOUT', timeoutMs })));
    socket.once('connect', () => {
      socket.destroy();
      resolve(null);
    });
    socket.once('error', (error) => resolve({ ok: false, detail: describeError(error, shown) }));
  });
}

/** The lines of a health endpoint's body that say what failed (`[-]etcd failed: …`), or its first line. */
function summarise(body: string): string {
  const lines = body.split('\n').map((line) => line.trim()).filter(Boolean);
  const failed = lines.filter((line) => line.startsWith('[-]'));
  const text = (failed.length > 0 ? failed.join('; ') : (lines[0] ?? ''));
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

const CERTIFICATE_ERRORS = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function describeError(error: unknown, socket?: string): string {
  const err = error as NodeJS.ErrnoException & { timeoutMs?: number };
  const code = err.code ?? '';
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOENT' && socket) return `no socket at ${socket}`;
  if (code === 'HARDEN_TIMEOUT') return `no answer within ${(err.timeoutMs ?? 0) / 1000}s`;
  if (code === 'ECONNRESET') return 'connection reset by the server';
  if (CERTIFICATE_ERRORS.has(code)) return `TLS: the server's certificate is not trusted (${code})`;
  if (/ALERT_CERTIFICATE_REQUIRED|ALERT_BAD_CERTIFICATE|ALERT_UNKNOWN_CA|ALERT_HANDSHAKE_FAILURE/.test(code)) {
    return `TLS: the server refused the client certificate (${code})`;
  }
  return code ? `${code}: ${err.message}` : err.message;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0] : String(error);
}

// ---------------------------------------------------------------------------------------------------------

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface GateOptions {
  readonly timeoutMs: number;
  /** How long every watched unit must stay active with the same MainPID and NRestarts. Default 5000. */
  readonly stableMs?: number;
  /** Default 1000. */
  readonly pollMs?: number;
  /** Called after every poll that does not pass yet (the view decides what to show). */
  readonly onProgress?: (progress: GateProgress) => void;
  readonly clock?: Clock;
  /** Ends the wait at once (a signal): the result is not ok, and says `interrupted`. */
  readonly signal?: AbortSignal;
}

export interface GateProgress {
  /** What the gate waits for: `kube-apiserver /readyz`, `snap.microk8s.daemon-kubelite to stay up 5s`. */
  readonly waitingFor: string;
  /** Its last answer (`HTTP 500: [-]etcd failed`, `connection refused`, `inactive`), or null when it has none. */
  readonly last: string | null;
  readonly elapsedMs: number;
  readonly timeoutMs: number;
}

export interface GateFailure {
  /** The probe's name, or the unit. */
  readonly name: string;
  readonly service: string;
  /** What was last seen, e.g. `connection refused`, `HTTP 500: [-]etcd failed`, `restarted 3 times in the window`. */
  readonly detail: string;
  /** One line for people: `kube-apiserver /readyz: connection refused`, `snap.microk8s.daemon-kubelite restarted 3 times in the window`. */
  readonly message: string;
}

export interface GateResult {
  ok: boolean;
  failures: GateFailure[];
  /** The wait was ended by `signal`, not by its outcome. */
  interrupted?: boolean;
}

interface Watch {
  last: UnitState | null;
  error: string | null;
  /** When the unit last changed state, MainPID or NRestarts. */
  since: number;
  restarts: number;
  lastPid: number;
}

const ABORTED = Symbol('aborted');

/** The promise's value, or ABORTED as soon as the signal is (the promise is left to settle on its own). */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T | typeof ABORTED> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

export async function runGates(services: Services, probes: readonly Probe[], unitsToWatch: readonly string[], options: GateOptions): Promise<GateResult> {
  const clock = options.clock ?? systemClock;
  const stableMs = options.stableMs ?? 5000;
  const pollMs = options.pollMs ?? 1000;
  const { signal } = options;
  const start = clock.now();
  const watches = new Map<string, Watch>([...new Set(unitsToWatch)].map((u) => [u, { last: null, error: null, since: start, restarts: 0, lastPid: 0 }]));
  let results: { ok: boolean; detail: string }[] = probes.map(() => ({ ok: false, detail: 'not asked yet' }));
  const stopped = () => ({ ok: false, failures: failuresOf(probes, results, watches, clock.now(), stableMs), interrupted: true });

  for (;;) {
    const answers = await unlessAborted(Promise.all(probes.map((probe) => probe.check().catch((error: unknown) => ({ ok: false, detail: messageOf(error) })))), signal);
    if (answers === ABORTED) return stopped();
    results = answers;
    for (const [name, watch] of watches) {
      const seenAt = clock.now();
      try {
        const state = await unlessAborted(services.state(name), signal);
        if (state === ABORTED) return stopped();
        observe(watch, state, seenAt);
      } catch (error) {
        watch.error = messageOf(error);
      }
    }
    const now = clock.now();
    const elapsed = now - start;
    const waiting = waitingFor(probes, results, watches, now, stableMs);
    if (waiting === null) return { ok: true, failures: [] };
    if (elapsed >= options.timeoutMs) return { ok: false, failures: failuresOf(probes, results, watches, now, stableMs) };
    options.onProgress?.({ ...waiting, elapsedMs: elapsed, timeoutMs: options.timeoutMs });
    if ((await unlessAborted(clock.sleep(Math.max(0, Math.min(pollMs, options.timeoutMs - elapsed))), signal)) === ABORTED) return stopped();
  }
}

function observe(watch: Watch, state: UnitState, at: number): void {
  const last = watch.last;
  watch.error = null;
  if (last && (last.activeState !== state.activeState || last.mainPid !== state.mainPid || last.restarts !== state.restarts)) watch.since = at;
  // NRestarts counts systemd's automatic restarts; a new MainPID without one is a restart all the same.
  const bumped = last && state.restarts > last.restarts ? state.restarts - last.restarts : 0;
  const newPid = state.mainPid > 0 && watch.lastPid > 0 && state.mainPid !== watch.lastPid ? 1 : 0;
  watch.restarts += Math.max(bumped, newPid);
  if (state.mainPid > 0) watch.lastPid = state.mainPid;
  watch.last = state;
}

/** What the gate still waits for, and its last answer; null when everything passes. */
function waitingFor(probes: readonly Probe[], results: readonly { ok: boolean; detail: string }[], watches: Map<string, Watch>, now: number, stableMs: number): { waitingFor: string; last: string | null } | null {
  const failing = probes.findIndex((_, i) => !results[i].ok);
  if (failing >= 0) return { waitingFor: probes[failing].name, last: results[failing].detail };
  for (const [name, watch] of watches) {
    if (watch.error !== null || !watch.last) return { waitingFor: `${name} to answer`, last: watch.error };
    if (watch.last.activeState !== 'active') return { waitingFor: `${name} to be active`, last: watch.last.activeState };
  }
  for (const [name, watch] of watches) {
    if (now - watch.since < stableMs) return { waitingFor: `${name} to stay up ${seconds(stableMs)}`, last: watch.restarts > 0 ? `restarted ${times(watch.restarts)} so far` : null };
  }
  return null;
}

function failuresOf(probes: readonly Probe[], results: readonly { ok: boolean; detail: string }[], watches: Map<string, Watch>, now: number, stableMs: number): GateFailure[] {
  const failures: GateFailure[] = [];
  probes.forEach((probe, i) => {
    if (!results[i].ok) failures.push({ name: probe.name, service: probe.service, detail: results[i].detail, message: `${probe.name}: ${results[i].detail}` });
  });
  for (const [name, watch] of watches) {
    let detail: string | null = null;
    if (watch.error !== null) detail = `state unknown: ${watch.error}`;
    else if (!watch.last) detail = 'state unknown';
    else if (watch.restarts > 0) detail = `restarted ${times(watch.restarts)} in the window`;
    else if (watch.last.activeState !== 'active') detail = `is ${watch.last.activeState}`;
    else if (now - watch.since < stableMs) detail = `has been up only ${seconds(now - watch.since)} of the ${seconds(stableMs)} required`;
    if (detail !== null) failures.push({ name, service: name, detail, message: `${name} ${detail}` });
  }
  return failures;
}

function times(n: number): string {
  return n === 1 ? 'once' : `${n} times`;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`;
}
