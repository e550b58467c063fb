// A MicroK8s 1.18 node root (the etcd era) where etcd really runs: makeLiveNode's layout, certificates and
// stand-ins, with the real etcd daemon (Debian's etcd-server) in place of the live node's fake /health.
//
// - args/etcd starts less hardened than 1.18's default: no --client-cert-auth and no --trusted-ca-file (either
//   one alone makes etcd ask clients for a certificate), and --auto-tls; etcd listens on free loopback ports
//   and keeps its data inside the root.
// - ${SNAP}/run-etcd-with-args is a wrapper like MicroK8s' own: it exports the snap's variables and reads the
//   args file with `declare -a args="($(cat …))"`, as a root-run bash does on a node.
// - A bash supervisor plays systemd for snap.microk8s.daemon-etcd: it runs the wrapper, restarts it when a
//   `snap restart microk8s.daemon-etcd` stand-in asks (SIGTERM, wait, start with the file as it is now), and
//   restarts it half a second after it exits (Restart=always), writing ActiveState, MainPID and NRestarts to
//   the unit state file the `systemctl show` stand-in prints. It stops etcd and exits when the test process
//   is gone, and close() (or this process exiting) kills its whole process group.
// The other units stay on the live node's fakes; tests restrict apply with --only so that only etcd restarts.
import { execFileSync, spawn } from 'node:child_process';
import { promises as fs, rmSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { makeLiveNode, type LiveNode } from './live-node.js';
import { readUnitState, setRestartHook, type StandInUnit } from './stand-ins.js';
import { testCerts } from './test-certs.js';

export const ETCD_UNIT = 'snap.microk8s.daemon-etcd';

export interface EtcdNode {
  readonly live: LiveNode;
  readonly root: string;
  /** For runBin: the stand-ins first on PATH, NO_COLOR. */
  readonly env: Record<string, string>;
  readonly clientPort: number;
  readonly peerPort: number;
  /** The supervisor's pid (its process group holds etcd too). */
  readonly supervisorPid: number;
  /** args/etcd's host path (inside the revision dir). */
  readonly argsFile: string;
  /** The unit's state as the supervisor (or the snap stand-in) last wrote it. */
  unitState(): Promise<StandInUnit>;
  /** etcd's output and the supervisor's notes, like the unit's journal. */
  journal(): Promise<string>;
  /** Resolves once /health answers 200 to the CA-signed client pair; throws with the journal after `timeoutMs`. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** Stops etcd and the supervisor, closes the live node's servers and removes the root; may be called again. */
  close(): Promise<void>;
}

export interface TlsAnswer {
  readonly status: number;
  readonly body: string;
}

/** GET https://127.0.0.1:port/path, trusting `ca`, with a client pair or without one. An error is thrown with its code. */
export function etcdGet(port: number, urlPath: string, tls: { ca: string; cert?: string; key?: string }): Promise<TlsAnswer> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: urlPath, agent: false, timeout: 3000, ...tls }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 3s')));
    req.on('error', reject);
  });
}

/** The path of etcd on PATH, or an error saying how to get it (the suite fails; it never skips). */
export function etcdBinary(): string {
  try {
    return execFileSync('bash', ['-c', 'command -v etcd'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('etcd is not installed: the real-etcd tests need /usr/bin/etcd (apt-get install etcd-server; .ci/run installs it)');
  }
}

const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * 1.18's args/etcd made less hardened: --client-cert-auth and --trusted-ca-file dropped, --auto-tls added,
 * the client URLs on `clientPort` and an explicit peer URL on `peerPort` (1.18 leaves etcd's default 2380).
 */
export function openEtcdArgs(fixture: string, clientPort: number, peerPort: number): string {
  const peer = `http://127.0.0.1:${peerPort}`;
  const lines = fixture
    .split('\n')
    .filter((line) => !/^--(client-cert-auth|trusted-ca-file)\b/.test(line))
    .map((line) =>
      line
        .replace(/^--listen-client-urls=.*$/, `--listen-client-urls=https://127.0.0.1:${clientPort}`)
        .replace(/^(--advertise-client-urls=https:\/\/\$\{DEFAULT_INTERFACE_IP_ADDR\}):\d+$/, `$1:${clientPort}`),
    );
  if (lines[lines.length - 1] === '') lines.pop();
  lines.push(`--listen-peer-urls=${peer}`, `--initial-advertise-peer-urls=${peer}`, `--initial-cluster=default=${peer}`, '--auto-tls', '');
  return lines.join('\n');
}

const SUPERVISOR = `#!/usr/bin/env bash
# Plays systemd for one unit: Restart=always (RestartSec=__DELAY__), restart on request, state in the unit file.
set -u
run=__RUN__; units=__UNITS__; unit=__UNIT__; wrapper=__WRAPPER__; owner=__OWNER__; delay=__DELAY__
child=0; restarts=0; starts=0
exec 9<>"$run/requests"
note() { printf 'supervisor: %s\\n' "$*" >> "$run/journal"; }
write_state() { # write_state ACTIVE PID
  printf 'ActiveState=%s\\nMainPID=%s\\nNRestarts=%s\\n' "$1" "$2" "$restarts" > "$units/$unit.supervisor"
  mv -f "$units/$unit.supervisor" "$units/$unit"
}
start_child() {
  "$wrapper" >> "$run/journal" 2>&1 &
  child=$!
  write_state active "$child"
  starts=$((starts + 1)); echo "$starts" > "$run/starts.tmp"; mv -f "$run/starts.tmp" "$run/starts"
  note "started $child (start $starts, NRestarts=$restarts)"
}
stop_child() { # SIGTERM, then SIGKILL after 10 s, as systemd's stop does
  [ "$child" -gt 0 ] || return 0
  write_state deactivating "$child"
  kill -TERM "$child" 2>/dev/null
  for ((i = 0; i < 200; i++)); do kill -0 "$child" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$child" 2>/dev/null
  wait "$child" 2>/dev/null
  note "stopped $child"
  child=0
}
trap 'stop_child; write_state inactive 0; exit 0' TERM INT
echo $$ > "$run/supervisor.pid"
start_child
while :; do
  kill -0 "$owner" 2>/dev/null || { note "the test process is gone"; stop_child; exit 0; }
  if read -t 0.1 -u 9 request; then
    note "restart requested"
    stop_child; restarts=0; start_child
    continue
  fi
  if [ "$child" -gt 0 ] && ! kill -0 "$child" 2>/dev/null; then
    wait "$child"; status=$?
    note "$child exited with status $status; restarting in \${delay}s"
    child=0; write_state activating 0
    if read -t "$delay" -u 9 request; then restarts=0; else restarts=$((restarts + 1)); fi
    start_child
  fi
done
`;

/** The snap stand-in's restart hook: ask the supervisor for a restart and wait until it has started etcd again. */
const RESTART_HOOK = `[ "$UNIT" = __UNIT__ ] || exit 0
run=__RUN__
before=$(cat "$run/starts")
kill -0 "$(cat "$run/supervisor.pid")" 2>/dev/null || { echo "stand-in snap: the etcd supervisor is not running" >&2; exit 1; }
exec 8<>"$run/requests"; echo restart >&8; exec 8>&-
for ((i = 0; i < 400; i++)); do
  [ "$(cat "$run/starts")" -gt "$before" ] && exit 0
  sleep 0.05
done
echo "stand-in snap: etcd was not started again within 20s" >&2
exit 1
`;

/** What a node leaves until it is closed: the supervisor's process group (etcd is in it) and its directories. */
interface Leftovers {
  group: number | null;
  readonly dirs: readonly string[];
}

const unclosed = new Set<Leftovers>();

function killGroup(group: number | null): void {
  if (group === null) return;
  try {
    process.kill(-group, 'SIGKILL');
  } catch {
    // the group is gone already
  }
}

// A test that threw before close(), or a runner that exits early: leave no etcd (and no 64 MiB WAL) behind.
process.on('exit', () => {
  for (const leftovers of unclosed) {
    killGroup(leftovers.group);
    for (const dir of leftovers.dirs) rmSync(dir, { recursive: true, force: true });
  }
});

async function cleanUp(leftovers: Leftovers, node: LiveNode): Promise<void> {
  killGroup(leftovers.group);
  leftovers.group = null;
  unclosed.delete(leftovers);
  await node.close();
  for (const dir of leftovers.dirs) await fs.rm(dir, { recursive: true, force: true });
}

export async function makeEtcdNode(): Promise<EtcdNode> {
  etcdBinary();
  const certs = await testCerts();
  const node = await makeLiveNode({ version: '1.18' });
  const leftovers: Leftovers = { group: null, dirs: [node.root, node.standIns.dir] };
  unclosed.add(leftovers);
  try {
    const [clientPort, peerPort] = [await freePort(), await freePort()];
    const argsFile = node.args('etcd');
    await fs.writeFile(argsFile, openEtcdArgs(await fs.readFile(argsFile, 'utf8'), clientPort, peerPort));
    // The API server reaches etcd where it now listens (the datastore stays "etcd on this node").
    const apiserverArgs = node.args('kube-apiserver');
    const apiserver = await fs.readFile(apiserverArgs, 'utf8');
    await fs.writeFile(apiserverArgs, apiserver.replace(/^--etcd-servers=.*$/m, `--etcd-servers='https://127.0.0.1:${clientPort}'`));

    const snap = path.join(node.root, 'snap/microk8s', node.revision);
    const wrapper = path.join(snap, 'run-etcd-with-args');
    await fs.writeFile(
      wrapper,
      `#!/bin/bash
# As MicroK8s' run-etcd-with-args: the snap's variables, then the args file read by bash.
set -e
export SNAP=${quote(snap)}
export SNAP_DATA=${quote(node.dataDir)}
export SNAP_COMMON=${quote(path.join(node.root, 'var/snap/microk8s/common'))}
export DEFAULT_INTERFACE_IP_ADDR=127.0.0.1
declare -a args="($(cat "$SNAP_DATA/args/etcd"))"
exec etcd "\${args[@]}"
`,
      { mode: 0o755 },
    );

    const run = path.join(node.standIns.dir, 'etcd');
    await fs.mkdir(run);
    execFileSync('mkfifo', [path.join(run, 'requests')]);
    await fs.writeFile(path.join(run, 'starts'), '0\n');
    await fs.writeFile(path.join(run, 'journal'), '');
    const fill = (script: string) =>
      script
        .replaceAll('__RUN__', quote(run))
        .replaceAll('__UNITS__', quote(path.join(node.standIns.dir, 'units')))
        .replaceAll('__UNIT__', ETCD_UNIT)
        .replaceAll('__WRAPPER__', quote(wrapper))
        .replaceAll('__OWNER__', String(process.pid))
        .replaceAll('__DELAY__', '0.5');
    await fs.writeFile(path.join(run, 'supervisor'), fill(SUPERVISOR), { mode: 0o755 });
    await setRestartHook(node.standIns, fill(RESTART_HOOK));

    // Its own process group (detached), so that one kill reaches the supervisor and etcd.
    const started = spawn(path.join(run, 'supervisor'), [], { detached: true, stdio: 'ignore' });
    leftovers.group = started.pid ?? null;
    started.unref();
    const exited = new Promise<void>((resolve) => started.once('exit', () => resolve()));

    const journal = () => fs.readFile(path.join(run, 'journal'), 'utf8');
    const etcdNode: EtcdNode = {
      live: node,
      root: node.root,
      env: node.env,
      clientPort,
      peerPort,
      supervisorPid: started.pid!,
      argsFile,
      async unitState() {
        const state = await readUnitState(node.standIns, ETCD_UNIT);
        if (state === null) throw new Error(`no state recorded for ${ETCD_UNIT}`);
        return state;
      },
      journal,
      async waitHealthy(timeoutMs = 15_000) {
        const deadline = Date.now() + timeoutMs;
        let last = '';
        while (Date.now() < deadline) {
          try {
            const answer = await etcdGet(clientPort, '/health', { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey });
            if (answer.status === 200) return;
            last = `HTTP ${answer.status}: ${answer.body}`;
          } catch (error) {
            last = String(error);
          }
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        throw new Error(`etcd did not become healthy within ${timeoutMs / 1000}s (${last}); its journal:\n${await journal()}`);
      },
      async close() {
        if (started.exitCode === null && started.signalCode === null) {
          started.kill('SIGTERM');
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([exited, new Promise((resolve) => { timer = setTimeout(resolve, 12_000); })]);
          clearTimeout(timer);
        }
        await cleanUp(leftovers, node);
      },
    };
    await etcdNode.waitHealthy();
    return etcdNode;
  } catch (error) {
    await cleanUp(leftovers, node);
    throw error;
  }
}
