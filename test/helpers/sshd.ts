// A real sshd of the test's own on 127.0.0.1 and a free port (`sshd -f <tmp>/sshd_config`, its own host key,
// a client key in its own authorized_keys, root login by key only), and an Ansible inventory whose hosts all
// reach it over `ansible_connection=ssh`, each with its own node root (`harden_root`) and PATH (`harden_path`).
// The known_hosts the inventory names holds the host key, so StrictHostKeyChecking=yes is satisfied.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { makeTempDir } from './node-root.js';

export const SSHD = '/usr/sbin/sshd';

export interface Sshd {
  readonly dir: string;
  readonly port: number;
  readonly clientKey: string;
  readonly knownHosts: string;
  /** `ansible_ssh_common_args` for every host: this known_hosts, strict checking, no other config. */
  readonly sshArgs: string;
  stop(): Promise<void>;
}

export interface InventoryHost {
  readonly name: string;
  /** Extra host vars, written as `key=value` (values quoted for the INI inventory). */
  readonly vars: Readonly<Record<string, string>>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function keygen(file: string): void {
  const made = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'harden-test', '-f', file], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`ssh-keygen failed: ${made.stderr}`);
}

/** Connects until sshd answers with its banner (or throws after `ms`). */
async function waitForBanner(port: number, child: ChildProcess, stderr: () => string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sshd exited ${child.exitCode}: ${stderr()}`);
    const banner = await new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.setEncoding('utf8');
      socket.once('data', (data: string) => { socket.destroy(); resolve(data); });
      socket.once('error', () => resolve(''));
    });
    if (banner.startsWith('SSH-')) return;
    if (Date.now() > until) throw new Error(`sshd did not answer on 127.0.0.1:${port}: ${stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function startSshd(): Promise<Sshd> {
  const dir = await makeTempDir('harden-sshd-');
  const hostKey = path.join(dir, 'host_ed25519');
  const clientKey = path.join(dir, 'client_ed25519');
  keygen(hostKey);
  keygen(clientKey);
  await fs.copyFile(`${clientKey}.pub`, path.join(dir, 'authorized_keys'));
  // sshd's privilege separation needs this directory (the package's service makes it at boot).
  if (!existsSync('/run/sshd')) await fs.mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${hostKey}`,
    `PidFile ${path.join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    // The temp dir is the test's, not a home dir: its modes are not sshd's business.
    'StrictModes no',
    // Ansible opens a session per task and host, several hosts at once over one ControlMaster each.
    'MaxSessions 100',
    'MaxStartups 100:30:200',
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    'LogLevel ERROR',
    '',
  ].join('\n');
  const configFile = path.join(dir, 'sshd_config');
  await fs.writeFile(configFile, config, { mode: 0o600 });
  const child = spawn(SSHD, ['-D', '-e', '-f', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
  await waitForBanner(port, child, () => stderr);
  const hostPublic = (await fs.readFile(`${hostKey}.pub`, 'utf8')).trim().split(' ').slice(0, 2).join(' ');
  const knownHosts = path.join(dir, 'known_hosts');
  await fs.writeFile(knownHosts, `[127.0.0.1]:${port} ${hostPublic}\n`);
  const sshArgs = `-F /dev/null -o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes`;
  let stopped = false;
  return {
    dir,
    port,
    clientKey,
    knownHosts,
    sshArgs,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null) {
        // The sessions first (sshd's children, kept open by Ansible's ControlPersist), then the listener.
        for (const pid of await childPids(child.pid!)) {
          try { process.kill(pid, 'SIGTERM'); } catch { /* already gone */ }
        }
        const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        await gone;
      }
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** The processes whose parent is `parent` (from /proc). */
async function childPids(parent: number): Promise<number[]> {
  const out: number[] = [];
  for (const name of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await fs.readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === parent) out.push(Number(name));
  }
  return out;
}

const iniValue = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * An INI inventory: each group with its hosts, every host reaching `sshd` as root over ssh with the client key,
 * plus its own vars; `all:vars` adds vars for every host.
 */
export function inventoryText(sshd: Sshd, groups: Readonly<Record<string, readonly InventoryHost[]>>, allVars: Readonly<Record<string, string>> = {}): string {
  const connection = {
    ansible_connection: 'ssh',
    ansible_host: '127.0.0.1',
    ansible_port: String(sshd.port),
    ansible_user: 'root',
    ansible_ssh_private_key_file: sshd.clientKey,
    ansible_ssh_common_args: sshd.sshArgs,
  };
  const line = (name: string, vars: Readonly<Record<string, string>>) => [name, ...Object.entries(vars).map(([k, v]) => `${k}=${iniValue(v)}`)].join(' ');
  const out: string[] = [];
  for (const [group, hosts] of Object.entries(groups)) {
    out.push(`[${group}]`, ...hosts.map((host) => line(host.name, host.vars)), '');
  }
  out.push('[all:vars]', ...Object.entries({ ...connection, ...allVars }).map(([k, v]) => `${k}=${iniValue(v)}`), '');
  return out.join('\n');
}
