// A node root that passes the health gates of its version on loopback: makeNode's layout, plus certificates
// made with openssl at test time, credentials/client.config rewritten with them (a client certificate from
// 1.28, a token before), an HTTPS /readyz server whose port is written into args/kube-apiserver, a kubelet
// /healthz server (args/kubelet --healthz-port), unix-socket listeners for k8s-dqlite and containerd inside
// the root, an etcd /health server for the etcd era, and the recording snap/systemctl stand-ins with every
// unit active. The API server can be told to "reject" a flag: a restart hook looks for it in
// args/kube-apiserver and, while it is there, /readyz answers 500.
import { existsSync, promises as fs } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { DEFAULT_REVISIONS, kubeconfigText, makeNode, type NodeRootOptions } from './node-root.js';
import { b64, testCerts, x509User, type TestCerts } from './test-certs.js';
import type { FixtureVersion } from './paths.js';
import { makeStandIns, setRestartHook, setUnitState, type StandIns } from './stand-ins.js';
import type { SnapshotManifest } from '../../src/effects/snapshots.js';

export type LiveCerts = TestCerts;

/** The certificates live nodes use (one set per test process). */
export const liveCerts = testCerts;

export interface LiveNodeOptions extends NodeRootOptions {
  readonly version: FixtureVersion;
}

export interface LiveNode {
  readonly version: FixtureVersion;
  readonly root: string;
  readonly revision: string;
  /** `<root>/var/snap/microk8s/<revision>`. */
  readonly dataDir: string;
  /** `<root>/var/snap/microk8s/<revision>/args`. */
  readonly argsDir: string;
  /** harden's default state dir for this root. */
  readonly stateDir: string;
  readonly standIns: StandIns;
  /** For runBin: the stand-ins first on PATH, NO_COLOR. */
  readonly env: Record<string, string>;
  readonly ports: { readonly apiserver: number; readonly kubelet: number; readonly etcd: number | null };
  /** Sockets listened on, as node paths. */
  readonly sockets: readonly string[];
  /** Units the stand-ins report active. */
  readonly units: readonly string[];
  /** The token the API server wants (token-era layouts), or null (x509 from 1.28). */
  readonly token: string | null;
  /** The args file's host path (inside the revision dir). */
  args(file: string): string;
  /** /readyz answers 500 from now on (true) or 200 again (false). */
  setUnhealthy(unhealthy: boolean): Promise<void>;
  /**
   * After each restart of the unit running the API server, /readyz answers 500 while args/kube-apiserver
   * contains `flag` (and 200 when it does not). `sticky`: once rejected, it stays rejected whatever the file
   * says (a put-back that cannot recover). null removes the hook.
   */
  rejectFlag(flag: string | null, options?: { sticky?: boolean }): Promise<void>;
  /** The next `count` `snap restart` calls fail (exit 1, `message` on stderr), then snap succeeds again. */
  failNextRestarts(count: number, message?: string): Promise<void>;
  /** Requests /readyz received so far. */
  readonly readyzRequests: () => number;
  close(): Promise<void>;
}

const minor = (version: FixtureVersion) => Number(version.split('.')[1]);

export const ALL_UNITS = ['apiserver', 'kubelet', 'proxy', 'scheduler', 'controller-manager', 'kubelite', 'etcd', 'k8s-dqlite', 'containerd', 'flanneld', 'cluster-agent', 'apiserver-kicker'].map(
  (daemon) => `snap.microk8s.daemon-${daemon}`,
);

/** Replaces the first line setting `flag` (`--flag=…` or `--flag …`), or appends one; mode and owner stay. */
async function setFlagLine(file: string, flag: string, value: string): Promise<void> {
  const text = await fs.readFile(file, 'utf8');
  const lines = text.split('\n');
  const index = lines.findIndex((line) => line.startsWith(`${flag}=`) || line.startsWith(`${flag} `) || line === flag);
  if (index >= 0) lines[index] = `${flag}=${value}`;
  else {
    if (lines[lines.length - 1] === '') lines.pop();
    lines.push(`${flag}=${value}`, '');
  }
  await fs.writeFile(file, lines.join('\n'));
}

async function flagValue(file: string, flag: string): Promise<string | null> {
  const text = await fs.readFile(file, 'utf8').catch(() => null);
  if (text === null) return null;
  for (const line of text.split('\n')) {
    const match = new RegExp(`^${flag.replace(/[-]/g, '\\-')}(?:=|\\s+)(.*)$`).exec(line.trim());
    if (match) return match[1].replace(/^["']|["']$/g, '');
  }
  return null;
}

/** Writes into an existing file in place (its mode and owner stay), or creates it 0660 like MicroK8s. */
async function overwrite(file: string, content: string): Promise<void> {
  const existed = existsSync(file);
  await fs.writeFile(file, content);
  if (!existed) await fs.chmod(file, 0o660);
}


export async function makeLiveNode(options: LiveNodeOptions): Promise<LiveNode> {
  const { version } = options;
  const certs = await liveCerts();
  const root = await makeNode(options);
  const revision = options.revision ?? DEFAULT_REVISIONS[version];
  const dataDir = path.join(root, 'var/snap/microk8s', revision);
  const argsDir = path.join(dataDir, 'args');
  const args = (file: string) => path.join(argsDir, file);
  const standIns = await makeStandIns();
  const marker = path.join(standIns.dir, 'apiserver-rejects');
  const servers: net.Server[] = [];
  const listen = async <T extends net.Server>(server: T, where: number | string = 0): Promise<T> => {
    servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const done = () => {
        server.off('error', reject);
        resolve();
      };
      if (typeof where === 'string') server.listen(where, done);
      else server.listen(where, '127.0.0.1', done);
    });
    return server;
  };
  const portOf = (server: net.Server) => (server.address() as AddressInfo).port;

  // Certificates where the args files name them: the CA and the server pair (API server, etcd).
  const certsDir = path.join(dataDir, 'certs');
  await overwrite(path.join(certsDir, 'ca.crt'), certs.ca);
  await overwrite(path.join(certsDir, 'ca.key'), certs.caKey);
  await overwrite(path.join(certsDir, 'server.crt'), certs.serverCert);
  await overwrite(path.join(certsDir, 'server.key'), certs.serverKey);

  // credentials/client.config: x509 from 1.28, a token before (as MicroK8s' own layouts do).
  const token = minor(version) >= 28 ? null : `live-node-token-${path.basename(root)}`;
  const user = token === null ? x509User(certs) : `    token: ${token}\n`;
  await overwrite(path.join(dataDir, 'credentials/client.config'), kubeconfigText(user, b64(certs.ca)));

  // The API server.
  let readyz = 0;
  const apiserver = await listen(
    https.createServer({ key: certs.serverKey, cert: certs.serverCert, ca: certs.ca, requestCert: token === null, rejectUnauthorized: token === null }, (req, res) => {
      if (token !== null && req.headers.authorization !== `Bearer ${token}`) {
        res.writeHead(401).end('Unauthorized\n');
        return;
      }
      if (req.url !== '/readyz') {
        res.writeHead(404).end();
        return;
      }
      readyz += 1;
      if (existsSync(marker)) res.writeHead(500, { 'content-type': 'text/plain' }).end('[+]ping ok\n[-]poststarthook/start-apiextensions-controllers failed: reason withheld\nreadyz check failed\n');
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    }),
  );
  await setFlagLine(args('kube-apiserver'), '--secure-port', String(portOf(apiserver)));

  // The kubelet's /healthz.
  const kubelet = await listen(http.createServer((req, res) => res.writeHead(req.url === '/healthz' ? 200 : 404).end(req.url === '/healthz' ? 'ok' : '')));
  await setFlagLine(args('kubelet'), '--healthz-port', String(portOf(kubelet)));

  const sockets: string[] = [];
  const snapData = `/var/snap/microk8s/${revision}`;
  const snapCommon = '/var/snap/microk8s/common';
  const hostOf = (nodePath: string) => path.join(root, nodePath);
  const expand = (value: string) => value.replace(/\$\{SNAP_DATA\}|\$SNAP_DATA/g, snapData).replace(/\$\{SNAP_COMMON\}|\$SNAP_COMMON/g, snapCommon);
  const socketServer = async (nodePath: string, server: net.Server = net.createServer((socket) => socket.end())) => {
    await fs.mkdir(path.dirname(hostOf(nodePath)), { recursive: true });
    await listen(server, hostOf(nodePath));
    sockets.push(nodePath);
  };
  const health = (req: http.IncomingMessage, res: http.ServerResponse) => res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'application/json' }).end(req.url === '/health' ? '{"health":"true","reason":""}' : '');

  // etcd in the etcd era (before 1.19: no var/lock/no-etcd): a unix socket (1.13) or TLS with client certificates.
  let etcdPort: number | null = null;
  if (minor(version) < 19) {
    const listenUrls = (await flagValue(args('etcd'), '--listen-client-urls')) ?? 'http://127.0.0.1:2379';
    const first = listenUrls.split(',')[0];
    if (first.startsWith('unix://')) {
      await socketServer(path.posix.resolve(snapData, first.slice('unix://'.length)), http.createServer(health));
    } else {
      const etcd = await listen(https.createServer({ key: certs.serverKey, cert: certs.serverCert, ca: certs.ca, requestCert: true, rejectUnauthorized: true }, health));
      etcdPort = portOf(etcd);
      await setFlagLine(args('etcd'), '--listen-client-urls', first.replace(/:\d+$/, `:${etcdPort}`));
    }
  }

  // k8s-dqlite's socket, where the node runs it.
  const dqliteListen = await flagValue(args('k8s-dqlite'), '--listen');
  if (dqliteListen !== null) await socketServer(path.posix.resolve(snapData, expand(dqliteListen).replace(/^unix:\/\//, '')));

  // containerd's socket.
  const containerdAddress = (await flagValue(args('containerd'), '--address')) ?? `${snapCommon}/run/containerd.sock`;
  await socketServer(path.posix.resolve(snapData, expand(containerdAddress).replace(/^unix:\/\//, '')));

  for (const [index, unit] of ALL_UNITS.entries()) await setUnitState(standIns, unit, { activeState: 'active', mainPid: 4000 + index * 10, restarts: 0 });

  const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

  // A snap in front of the stand-in whose restarts fail a set number of times (a restart that fails once, then
  // works); `snap version`, harden's pre-flight, always answers.
  const wrapBin = path.join(standIns.dir, 'wrap');
  const failCount = path.join(standIns.dir, 'fail-next-snap');
  const failMessage = path.join(standIns.dir, 'fail-next-snap-message');
  await fs.mkdir(wrapBin);
  await fs.writeFile(
    path.join(wrapBin, 'snap'),
    `#!/usr/bin/env bash
[ "$*" = version ] && exec ${quote(path.join(standIns.bin, 'snap'))} "$@"
n=$(cat ${quote(failCount)} 2>/dev/null || echo 0)
if [ "$n" -gt 0 ]; then
  echo $((n - 1)) > ${quote(failCount)}
  printf '%s\\n' "snap $*" >> ${quote(standIns.logFile)}
  cat ${quote(failMessage)} >&2
  exit 1
fi
exec ${quote(path.join(standIns.bin, 'snap'))} "$@"
`,
    { mode: 0o755 },
  );
  const apiserverArgs = path.join(root, 'var/snap/microk8s/current/args/kube-apiserver');
  let closed = false;
  return {
    version,
    root,
    revision,
    dataDir,
    argsDir,
    stateDir: path.join(root, 'var/lib/harden'),
    standIns,
    env: { PATH: `${wrapBin}${path.delimiter}${standIns.env.PATH ?? ''}`, NO_COLOR: '1' },
    ports: { apiserver: portOf(apiserver), kubelet: portOf(kubelet), etcd: etcdPort },
    sockets,
    units: ALL_UNITS,
    token,
    args,
    async setUnhealthy(unhealthy) {
      if (unhealthy) await fs.writeFile(marker, 'unhealthy\n');
      else await fs.rm(marker, { force: true });
    },
    async rejectFlag(flag, hookOptions = {}) {
      if (flag === null) return setRestartHook(standIns, null);
      const sticky = hookOptions.sticky ? `[ -f ${quote(marker)} ] && exit 0\n` : '';
      await setRestartHook(
        standIns,
        `case "$UNIT" in snap.microk8s.daemon-kubelite|snap.microk8s.daemon-apiserver) ;; *) exit 0 ;; esac
${sticky}if grep -qF -e ${quote(flag)} ${quote(apiserverArgs)}; then echo rejected > ${quote(marker)}; else rm -f ${quote(marker)}; fi
`,
      );
    },
    async failNextRestarts(count, message = 'error: cannot perform the following tasks:\n- Run service command "restart" for services ["daemon-kubelite"] of snap "microk8s" (exit status 1)') {
      await fs.writeFile(failMessage, `${message}\n`);
      await fs.writeFile(failCount, `${count}\n`);
    },
    readyzRequests: () => readyz,
    async close() {
      if (closed) return;
      closed = true;
      for (const server of servers) {
        if ('closeAllConnections' in server) (server as http.Server).closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
}

// ---- the whole tree, for byte comparisons -------------------------------------------------------------

export interface TreeEntry {
  readonly type: 'file' | 'dir' | 'symlink' | 'socket' | 'other';
  /** Permission bits, `0660`. */
  readonly mode: string;
  readonly uid: number;
  readonly gid: number;
  /** sha256 of a file's bytes, or a symlink's target. */
  readonly content: string;
}

/**
 * Every entry below `root` (relative paths), except those under `exclude` (relative paths). The default leaves
 * out var/lib, which makeNode does not create: harden's state dir (var/lib/harden) and its parent.
 */
export async function readTree(root: string, exclude: readonly string[] = ['var/lib']): Promise<Map<string, TreeEntry>> {
  const { createHash } = await import('node:crypto');
  const out = new Map<string, TreeEntry>();
  const walk = async (relative: string) => {
    for (const name of (await fs.readdir(path.join(root, relative))).sort()) {
      const rel = relative ? `${relative}/${name}` : name;
      if (exclude.includes(rel)) continue;
      const full = path.join(root, rel);
      const stat = await fs.lstat(full);
      const type: TreeEntry['type'] = stat.isFile() ? 'file' : stat.isDirectory() ? 'dir' : stat.isSymbolicLink() ? 'symlink' : stat.isSocket() ? 'socket' : 'other';
      const content =
        type === 'file' ? createHash('sha256').update(await fs.readFile(full)).digest('hex') : type === 'symlink' ? await fs.readlink(full) : '';
      out.set(rel, { type, mode: (stat.mode & 0o7777).toString(8).padStart(4, '0'), uid: stat.uid, gid: stat.gid, content });
      if (type === 'dir') await walk(rel);
    }
  };
  await walk('');
  return out;
}

/** One line per difference between two trees (empty when identical). */
export function treeDiff(before: Map<string, TreeEntry>, after: Map<string, TreeEntry>): string[] {
  const out: string[] = [];
  for (const [rel, entry] of before) {
    const now = after.get(rel);
    if (!now) out.push(`${rel}: gone`);
    else {
      for (const key of ['type', 'mode', 'uid', 'gid', 'content'] as const) {
        if (entry[key] !== now[key]) out.push(`${rel}: ${key} ${entry[key]} -> ${now[key]}`);
      }
    }
  }
  for (const rel of after.keys()) if (!before.has(rel)) out.push(`${rel}: new`);
  return out;
}

// ---- for suites ----------------------------------------------------------------------------------------

/**
 * A maker of live 1.28 nodes for one suite, every node closed once the suite is over (`after` is the suite's
 * `test.after`).
 */
export function suiteLiveNodes(after: (hook: () => Promise<void>) => void): () => Promise<LiveNode> {
  const nodes: LiveNode[] = [];
  after(async () => {
    for (const node of nodes.splice(0)) await node.close();
  });
  return async () => {
    const node = await makeLiveNode({ version: '1.28' });
    nodes.push(node);
    return node;
  };
}

/** Every complete snapshot's manifest in a state dir, oldest first (read as a person would, from the files). */
export async function snapshotManifests(stateDir: string): Promise<SnapshotManifest[]> {
  const dir = path.join(stateDir, 'snapshots');
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const out: SnapshotManifest[] = [];
  for (const name of names) {
    const text = await fs.readFile(path.join(dir, name, 'manifest.json'), 'utf8').catch(() => null);
    if (text !== null) out.push(JSON.parse(text) as SnapshotManifest);
  }
  return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
}
