// What a node exposes: the ports its args files configure (ports.ts) joined with what really listens
// (proc-net.ts), with a verdict per port. Pure: rows in, rows out. Without listener data the verdict is the
// configuration's; without a configuration (no MicroK8s found) the listeners on MicroK8s' port numbers are
// shown with an unknown configuration.
import type { ConfiguredPort } from './ports.js';
import { canonicalAddress, isLoopback, type Listener } from './proc-net.js';

/**
 * fine; exposed: reachable beyond localhost without authentication; unexpected: listening although the
 * configuration turns it off (or keeps it on localhost); unknown: listening, but the configuration is unknown.
 */
export type Verdict = 'fine' | 'exposed' | 'unexpected' | 'unknown';

export interface ExposureRow {
  /** The configuration of this port; null when the node's configuration could not be read. */
  readonly configured: ConfiguredPort | null;
  readonly port: number | null;
  /** The row's name for people: the configured `what`, or MicroK8s' name for the port number. */
  readonly what: string;
  /** The sockets listening on this port; null when the node has no listener data (no proc/net). */
  readonly listening: readonly Listener[] | null;
  readonly verdict: Verdict;
  readonly reason: string;
}

export interface Exposure {
  readonly rows: readonly ExposureRow[];
  /** Listeners on ports that are not MicroK8s': shown as a count, never judged. */
  readonly others: readonly Listener[];
}

/** MicroK8s' port numbers in any era (its "Services and ports" pages), for a node whose configuration is unknown. */
export const MICROK8S_PORTS: ReadonlyArray<{ readonly port: number; readonly what: string }> = [
  { port: 16443, what: 'API server' },
  { port: 6443, what: 'API server (earliest releases)' },
  { port: 8080, what: 'API server insecure port (old releases)' },
  { port: 10250, what: 'kubelet' },
  { port: 10255, what: 'kubelet read-only port' },
  { port: 10248, what: 'kubelet healthz' },
  { port: 10249, what: 'kube-proxy metrics' },
  { port: 10256, what: 'kube-proxy health' },
  { port: 10257, what: 'kube-controller-manager' },
  { port: 10252, what: 'kube-controller-manager insecure port (old releases)' },
  { port: 10259, what: 'kube-scheduler' },
  { port: 10251, what: 'kube-scheduler insecure port (old releases)' },
  { port: 12379, what: 'etcd clients' },
  { port: 2380, what: 'etcd peers' },
  { port: 19001, what: 'dqlite' },
  { port: 25000, what: 'cluster-agent' },
  { port: 1338, what: 'containerd metrics' },
];

/** Whether a configured bind address keeps a port on the node itself. */
export function bindIsLocal(bind: string): boolean {
  const address = canonicalAddress(bind.replace(/^\[|\]$/g, ''));
  return address !== null ? isLoopback(address) : bind === 'localhost';
}

const at = (listener: Listener) => (listener.family === 6 ? `[${listener.address}]:${listener.port}` : `${listener.address}:${listener.port}`);

export function exposure(configured: readonly ConfiguredPort[] | null, listeners: readonly Listener[] | null): Exposure {
  const byPort = new Map<number, Listener[]>();
  for (const listener of listeners ?? []) byPort.set(listener.port, [...(byPort.get(listener.port) ?? []), listener]);
  const rows: ExposureRow[] =
    configured === null
      ? MICROK8S_PORTS.filter(({ port }) => listeners === null || byPort.has(port)).map(({ port, what }) => unknownRow(port, what, listeners === null ? null : byPort.get(port) ?? []))
      : configured.map((row) => {
          // A port another row serves (the API server proxy's 16443 on a control plane) is that row's to judge.
          const servedBy = row.bind === null ? configured.find((other) => other !== row && other.port === row.port && other.bind !== null) : undefined;
          if (servedBy) return { configured: row, port: row.port, what: row.what, listening: null, verdict: 'fine' as const, reason: `off; port ${row.port} is ${servedBy.what}'s here` };
          return judge(row, row.port === null || listeners === null ? null : byPort.get(row.port) ?? []);
        });
  const known = new Set(rows.map((row) => row.port));
  const others = (listeners ?? []).filter((listener) => !known.has(listener.port));
  return { rows, others };
}

function unknownRow(port: number, what: string, listening: readonly Listener[] | null): ExposureRow {
  const beyond = (listening ?? []).filter((l) => !isLoopback(l.address));
  return {
    configured: null,
    port,
    what,
    listening,
    verdict: beyond.length > 0 ? 'unknown' : 'fine',
    reason: listening === null ? 'neither the configuration nor the listeners are known' : beyond.length > 0 ? `listening on ${beyond.map(at).join(', ')}; the configuration is unknown, so its access restriction is too` : 'listening on localhost only',
  };
}

function judge(row: ConfiguredPort, listening: readonly Listener[] | null): ExposureRow {
  const base = { configured: row, port: row.port, what: row.what, listening };
  if (row.port === null) return { ...base, verdict: 'fine', reason: row.socket ? `a unix socket (${row.socket}): only local processes with access to it` : row.access.text };
  if (listening === null) {
    // Only the configuration to go by.
    if (row.bind !== null && !bindIsLocal(row.bind) && row.unauthenticated) return { ...base, verdict: 'exposed', reason: `configured on ${row.bind} with ${row.access.text}` };
    return { ...base, verdict: 'fine', reason: row.bind === null ? 'configured off' : bindIsLocal(row.bind) ? `configured on ${row.bind} only` : `configured on ${row.bind}, ${row.access.text}` };
  }
  const beyond = listening.filter((l) => !isLoopback(l.address));
  if (row.bind === null && listening.length > 0) {
    return { ...base, verdict: 'unexpected', reason: `listening on ${listening.map(at).join(', ')} although ${row.source.text}` };
  }
  if (row.bind !== null && bindIsLocal(row.bind) && beyond.length > 0) {
    return { ...base, verdict: 'unexpected', reason: `listening on ${beyond.map(at).join(', ')} although configured on ${row.bind} only` };
  }
  if (beyond.length > 0 && row.unauthenticated) {
    return { ...base, verdict: 'exposed', reason: `listening on ${beyond.map(at).join(', ')} with ${row.access.text}` };
  }
  if (listening.length === 0) return { ...base, verdict: 'fine', reason: row.bind === null ? 'off, and not listening' : 'not listening now (is the service running?)' };
  return { ...base, verdict: 'fine', reason: beyond.length > 0 ? row.access.text : 'listening on localhost only' };
}

/**
 * What a change of configuration closes: rows listening before and off after, or moved from beyond localhost
 * to localhost only. Each with what must be true of the listeners once the services restarted.
 */
export interface ClosedPort {
  readonly row: ConfiguredPort;
  /** closed: nothing may listen on it; local: only loopback may. */
  readonly expect: 'closed' | 'local';
}

export function portsClosedBy(before: readonly ConfiguredPort[], after: readonly ConfiguredPort[]): ClosedPort[] {
  return after.flatMap((row): ClosedPort[] => {
    const old = before.find((b) => b.id === row.id);
    if (!old || old.bind === null || row.port === null) return [];
    if (row.bind === null) return [{ row, expect: 'closed' }];
    if (!bindIsLocal(old.bind) && bindIsLocal(row.bind)) return [{ row, expect: 'local' }];
    return [];
  });
}

/** Of the ports a change closed, those that listeners show still open (as the change expects them not to be). */
export function stillOpen(closed: readonly ClosedPort[], listeners: readonly Listener[]): (ClosedPort & { listening: Listener[] })[] {
  return closed.flatMap(({ row, expect }) => {
    const on = listeners.filter((l) => l.port === row.port && (expect === 'closed' || !isLoopback(l.address)));
    return on.length > 0 ? [{ row, expect, listening: on }] : [];
  });
}

export function listenerText(listener: Listener): string {
  return at(listener);
}
