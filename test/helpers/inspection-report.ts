// Builds `microk8s inspect` reports as scripts/inspect.sh lays them out (store_args, store_sys, store_network,
// check_service): with Debian's real `tar` and `gzip`, as the script runs them, or in process (ustar blocks
// written here, gzipped with zlib), which also makes the hostile archives a real tar would not.
import { spawnSync } from 'node:child_process';
import { promises as fs, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { fixturesDir } from './paths.js';

export type FixtureVersion = '1.13' | '1.18' | '1.20' | '1.21' | '1.26' | '1.28' | '1.36';
export const FIXTURE_VERSIONS: readonly FixtureVersion[] = ['1.13', '1.18', '1.20', '1.21', '1.26', '1.28', '1.36'];

/** `ss`: the current script (network/ss, sys/snap-list); `netstat`: before December 2021; `strict`: neither. */
export type Layout = 'ss' | 'netstat' | 'strict';

export interface ReportOptions {
  readonly version: FixtureVersion;
  readonly layout?: Layout;
  readonly revision?: string;
  /** Lines in every service's journal.log. */
  readonly journalLines?: number;
  /** Services whose log says disabled and inactive (`etcd`). */
  readonly disabled?: readonly string[];
  /** Replaces or adds args files (`null` removes one). */
  readonly args?: Readonly<Record<string, string | null>>;
  /** `address:port` rows of `ss -pln` / `netstat -pln` (TCP LISTEN); the node's defaults when absent. */
  readonly listening?: readonly string[];
}

export interface ReportFile {
  readonly name: string;
  readonly content: string | Buffer;
}

const REVISIONS: Record<FixtureVersion, string> = { '1.13': '1110', '1.18': '1503', '1.20': '1910', '1.21': '2128', '1.26': '4595', '1.28': '6089', '1.36': '8201' };
const PATCH: Record<FixtureVersion, string> = { '1.13': 'v1.13.12', '1.18': 'v1.18.20', '1.20': 'v1.20.15', '1.21': 'v1.21.14', '1.26': 'v1.26.15', '1.28': 'v1.28.15', '1.36': 'v1.36.0' };

/** What listens on a default node of that version, as `ss` prints the local address. */
function defaultListening(version: FixtureVersion): string[] {
  const minor = Number(version.split('.')[1]);
  const rows = ['*:16443', '*:10250', '127.0.0.1:10248', '127.0.0.1:10249', '127.0.0.1:10256', '*:10257', '*:10259', '127.0.0.1:1338'];
  if (minor < 24) rows.push('*:10255');
  if (minor >= 16) rows.push('0.0.0.0:25000');
  if (minor >= 19) rows.push('10.0.0.5:19001');
  if (minor < 19) rows.push('127.0.0.1:12379');
  return rows;
}

/** The services the script checked, by the layout's script and the node's version. */
function servicesOf(version: FixtureVersion, layout: Layout): string[] {
  const minor = Number(version.split('.')[1]);
  const ha = minor >= 19;
  if (layout === 'netstat') {
    const kube = minor >= 21 ? ['kubelite'] : ['apiserver', 'proxy', 'kubelet', 'scheduler', 'controller-manager', 'control-plane-kicker'];
    return ['cluster-agent', 'containerd', 'k8s-dqlite', ...kube, ...(ha ? [] : ['flanneld', 'etcd']), 'traefik', 'apiserver-kicker'];
  }
  return ['cluster-agent', 'containerd', 'kubelite', ...(ha ? ['k8s-dqlite'] : ['flanneld', 'etcd']), 'apiserver-kicker'];
}

function systemctlLog(unit: string, running: boolean, disabled: boolean): string {
  return [
    `${running ? '●' : '○'} ${unit}.service - Service for snap application ${unit.replace(/^snap\./, '')}`,
    `     Loaded: loaded (/etc/systemd/system/${unit}.service; ${disabled ? 'disabled' : 'enabled'}; vendor preset: enabled)`,
    `     Active: ${running ? 'active (running) since Mon 2026-11-30 10:10:10 UTC; 1 day ago' : 'inactive (dead)'}`,
    running ? '   Main PID: 1234 (bash)' : '',
    '',
  ].join('\n');
}

function snapctlLog(unit: string, running: boolean, disabled: boolean): string {
  return `Service${' '.repeat(28)}Startup   Current   Notes\n${unit.padEnd(35)}${(disabled ? 'disabled' : 'enabled').padEnd(10)}${(running ? 'active' : 'inactive').padEnd(10)}-\n`;
}

function journal(unit: string, lines: number): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i += 1) out.push(`Dec 01 10:10:${String(i % 60).padStart(2, '0')} node-1 microk8s.${unit}[1234]: I1201 10:10:10.${String(i).padStart(6, '0')} 1234 reflector.go:351] Caches populated for *v1.Pod from k8s.io/client-go/informers/factory.go:160`);
  return `${out.join('\n')}\n`;
}

/** The files of `inspection-report/`, in the order tar would meet them is irrelevant: names are relative to its parent. */
export function reportFiles(options: ReportOptions): ReportFile[] {
  const layout = options.layout ?? 'ss';
  const strict = layout === 'strict';
  const files: ReportFile[] = [];
  const add = (name: string, content: string | Buffer) => files.push({ name: `inspection-report/${name}`, content });
  // store_args: cp -r ${SNAP_DATA}/args
  const argsDir = path.join(fixturesDir, options.version, 'args');
  const args = new Map<string, string | Buffer>();
  const walk = (dir: string, prefix: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walk(full, `${prefix}${name}/`);
      else args.set(`${prefix}${name}`, readFileSync(full));
    }
  };
  walk(argsDir, '');
  for (const [name, content] of Object.entries(options.args ?? {})) {
    if (content === null) args.delete(name);
    else args.set(name, content);
  }
  for (const [name, content] of args) add(`args/${name}`, content);
  // check_service, for each service the script checked
  for (const daemon of servicesOf(options.version, layout)) {
    const unit = `${strict ? '' : 'snap.'}microk8s.daemon-${daemon}`;
    const disabled = (options.disabled ?? []).includes(daemon);
    add(`${unit}/journal.log`, journal(unit, options.journalLines ?? 20));
    add(`${unit}/${strict ? 'snapctl.log' : 'systemctl.log'}`, strict ? snapctlLog(unit, !disabled, disabled) : systemctlLog(unit, !disabled, disabled));
  }
  // store_sys
  add('sys/ps', 'UID          PID    PPID  C STIME TTY          TIME CMD\nroot           1       0  0 Nov30 ?        00:00:09 /sbin/init\n');
  add('sys/uptime', ' 10:10:10 up 1 day,  2:02,  1 user,  load average: 0.31, 0.40, 0.45\n');
  if (!strict) {
    add('sys/snap-version', 'snap    2.61.2\nsnapd   2.61.2\nseries  16\nubuntu  22.04\nkernel  5.15.0-91-generic\n');
    const rev = options.revision ?? REVISIONS[options.version];
    add('sys/snap-list', `Name      Version   Rev    Tracking       Publisher   Notes\ncore20    20231123  2105   latest/stable  canonical✓  base\nmicrok8s  ${PATCH[options.version].padEnd(9)} ${rev.padEnd(6)} ${options.version}/stable    canonical✓  classic\nsnapd     2.61.2    21759  latest/stable  canonical✓  snapd\n`);
  }
  // store_network
  add('network/iptables', 'Chain PREROUTING (policy ACCEPT 0 packets, 0 bytes)\n');
  const listening = options.listening ?? defaultListening(options.version);
  if (layout === 'ss') {
    const rows = listening.map((local) => `tcp   LISTEN 0      4096   ${local.padEnd(22)} ${local.startsWith('*') ? '*:*' : local.includes('[') ? '[::]:*' : '0.0.0.0:*'}    users:(("kubelite",pid=1234,fd=7))`);
    add('network/ss', `Netid State  Recv-Q Send-Q Local Address:Port     Peer Address:Port Process\nu_str LISTEN 0      4096   /var/snap/microk8s/common/run/containerd.sock 23456 * 0 users:(("containerd",pid=900,fd=9))\nudp   UNCONN 0      0      127.0.0.53%lo:53     0.0.0.0:*    users:(("systemd-resolve",pid=600,fd=13))\n${rows.join('\n')}\n`);
  } else if (layout === 'netstat') {
    const rows = listening.map((local) => {
      const six = local.startsWith('*') || local.startsWith('[');
      const address = local.startsWith('*') ? `:::${local.slice(2)}` : local.replace(/^\[(.*)\]:/, '$1:');
      return `${six ? 'tcp6' : 'tcp '}       0      0 ${address.padEnd(23)} ${six ? ':::*' : '0.0.0.0:*'}               LISTEN      1234/kubelite`;
    });
    add('network/netstat', `Active Internet connections (only servers)\nProto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name\n${rows.join('\n')}\nActive UNIX domain sockets (only servers)\nProto RefCnt Flags       Type       State         I-Node   PID/Program name     Path\n`);
  }
  // store_dqlite_info, on a node in an HA cluster
  if (Number(options.version.split('.')[1]) >= 19) {
    add('dqlite/cluster.yaml', '- Address: 10.0.0.5:19001\n  ID: 3297041220608546238\n  Role: 0\n');
    add('dqlite/info.yaml', 'Address: 10.0.0.5:19001\nID: 3297041220608546238\nRole: 0\n');
  }
  // store_kubernetes_info
  add('k8s/version', `Client Version: ${PATCH[options.version]}\nServer Version: ${PATCH[options.version]}\n`);
  return files;
}

/** A report made as the script makes it: the files in a directory, `tar -C <dir> -cf x.tar inspection-report`, gzip. */
export async function writeReportWithTar(dir: string, name: string, files: readonly ReportFile[]): Promise<string> {
  const work = await fs.mkdtemp(path.join(dir, '.build-'));
  for (const file of files) {
    await fs.mkdir(path.dirname(path.join(work, file.name)), { recursive: true });
    await fs.writeFile(path.join(work, file.name), file.content);
  }
  const tarFile = path.join(dir, name.replace(/\.gz$/, ''));
  const tar = spawnSync('tar', ['-C', work, '-cf', tarFile, 'inspection-report'], { encoding: 'utf8' });
  if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr}`);
  const gzip = spawnSync('gzip', ['-f', tarFile], { encoding: 'utf8' });
  if (gzip.status !== 0) throw new Error(`gzip failed: ${gzip.stderr}`);
  await fs.rm(work, { recursive: true, force: true });
  return path.join(dir, name);
}

/** One member of an archive made in process: any name, type and size field, for hostile archives too. */
export interface RawMember {
  readonly name: string;
  /** '0' regular (default), '5' directory, '1' hard link, '2' symlink, '6' FIFO, 'L' GNU long name… */
  readonly type?: string;
  readonly content?: string | Buffer;
  readonly linkName?: string;
  /** The size field, when it lies about the content. */
  readonly size?: number;
  readonly mode?: number;
}

function header(member: RawMember, size: number): Buffer {
  const block = Buffer.alloc(512);
  block.write(member.name.slice(0, 100), 0, 'utf8');
  block.write(`${(member.mode ?? 0o644).toString(8).padStart(7, '0')}\0`, 100, 'latin1');
  block.write('0000000\0', 108, 'latin1');
  block.write('0000000\0', 116, 'latin1');
  block.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  block.write(`${Math.floor(Date.UTC(2026, 11, 1) / 1000).toString(8).padStart(11, '0')}\0`, 136, 'latin1');
  block.write('        ', 148, 'latin1');
  block.write(member.type ?? '0', 156, 'latin1');
  if (member.linkName) block.write(member.linkName, 157, 'utf8');
  block.write('ustar  \0', 257, 'latin1');
  block.write('root', 265, 'latin1');
  block.write('root', 297, 'latin1');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return block;
}

/** A tar archive of these members (GNU long names for names over 100 bytes), uncompressed. */
export function tarBytes(members: readonly RawMember[], { end = true }: { end?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  const dirs = new Set<string>();
  for (const member of members) {
    const content = Buffer.from(member.content ?? '');
    if (Buffer.byteLength(member.name) > 100) {
      const long = Buffer.from(`${member.name}\0`);
      parts.push(header({ name: '././@LongLink', type: 'L' }, long.length), long, Buffer.alloc((512 - (long.length % 512)) % 512));
    }
    parts.push(header(member, member.size ?? content.length), content, Buffer.alloc((512 - (content.length % 512)) % 512));
    dirs.add(member.name);
  }
  if (end) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** A report made in process: directories first, as tar lists them, then the files. */
export function reportBytes(files: readonly ReportFile[], extra: readonly RawMember[] = []): Buffer {
  const dirs = new Set<string>();
  for (const file of files) {
    const parts = file.name.split('/');
    for (let i = 1; i < parts.length; i += 1) dirs.add(`${parts.slice(0, i).join('/')}/`);
  }
  const members: RawMember[] = [...[...dirs].sort().map((name) => ({ name, type: '5', mode: 0o755 })), ...files.map((file) => ({ name: file.name, content: file.content })), ...extra];
  return gzipSync(tarBytes(members));
}

export async function writeReport(dir: string, name: string, bytes: Buffer): Promise<string> {
  const file = path.join(dir, name);
  await fs.writeFile(file, bytes);
  return file;
}
