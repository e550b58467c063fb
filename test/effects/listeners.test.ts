import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Listener } from '../../src/core/proc-net.js';
import { realFileSystem, type FileSystem } from '../../src/effects/file-system.js';
import { readListeners } from '../../src/effects/listeners.js';
import { makeTempDir } from '../helpers/node-root.js';

/** A server listening on `host`, port chosen by the kernel; null when this host lacks that address family. */
async function listen(host: string): Promise<net.Server | null> {
  const server = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port: 0 }, resolve);
    });
    return server;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT') return null;
    throw error;
  }
}

const close = (server: net.Server) => new Promise<void>((resolve) => server.close(() => resolve()));
const portOf = (server: net.Server) => (server.address() as net.AddressInfo).port;

/** The inodes of the sockets this process holds open, from /proc/self/fd/* -> socket:[inode]. */
async function ownSocketInodes(): Promise<Set<number>> {
  const inodes = new Set<number>();
  for (const fd of await fs.readdir('/proc/self/fd')) {
    const target = await fs.readlink(`/proc/self/fd/${fd}`).catch(() => '');
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match) inodes.add(Number(match[1]));
  }
  return inodes;
}

test('real sockets on 127.0.0.1, 0.0.0.0, ::1 and :: are found with their address, port, uid and inode', async () => {
  const hosts: Array<{ host: string; family: 4 | 6 }> = [
    { host: '127.0.0.1', family: 4 },
    { host: '0.0.0.0', family: 4 },
    { host: '::1', family: 6 },
    { host: '::', family: 6 },
  ];
  const servers: Array<{ host: string; family: 4 | 6; server: net.Server }> = [];
  try {
    for (const { host, family } of hosts) {
      const server = await listen(host);
      if (server) servers.push({ host, family, server });
      else console.log(`  (no ${host} on this host: not checked)`);
    }
    assert.ok(servers.length >= 2, 'IPv4 loopback and wildcard at least');
    const found = await readListeners(realFileSystem, '/');
    assert.is(found.available, true);
    assert.equal(found.problems, []);
    const ours = await ownSocketInodes();
    for (const { host, family, server } of servers) {
      const matches = found.listeners.filter((listener) => listener.port === portOf(server) && listener.family === family);
      assert.is(matches.length, 1, `${host}:${portOf(server)} listed once`);
      const [listener] = matches;
      assert.is(listener.address, host);
      assert.is(listener.uid, process.getuid!());
      assert.ok(ours.has(listener.inode), `${host}: inode ${listener.inode} is a socket this process holds`);
    }

    // Closed, it is gone (by inode: another process may take the port at once).
    const [first] = servers.splice(0, 1);
    const inode = found.listeners.find((listener) => listener.port === portOf(first.server) && listener.family === first.family)!.inode;
    await close(first.server);
    const after = await readListeners(realFileSystem, '/');
    assert.not.ok(after.listeners.some((listener) => listener.inode === inode), 'the closed socket is no longer listed');
  } finally {
    await Promise.all(servers.map(({ server }) => close(server)));
  }
});

test('a root without proc/net/tcp (an offline copy of a node) has no listener information', async () => {
  const root = await makeTempDir();
  assert.equal(await readListeners(realFileSystem, root), { available: false, listeners: [], problems: [] });
  await fs.mkdir(path.join(root, 'proc/net'), { recursive: true });
  await fs.writeFile(path.join(root, 'proc/net/tcp6'), TCP6_ROW);
  assert.equal(await readListeners(realFileSystem, root), { available: false, listeners: [], problems: [] }, 'tcp6 alone does not make it available');
});

const TCP_HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const TCP_ROW = '   0: 0100007F:3E80 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 51001 1 0000000000000000 100 0 0 10 0\n';
const TCP6_ROW = '   0: 00000000000000000000000001000000:3E81 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   998        0 51002 1 0000000000000000 100 0 0 10 0\n';

const V4: Listener = { family: 4, address: '127.0.0.1', port: 16000, inode: 51001, uid: 0 };
const V6: Listener = { family: 6, address: '::1', port: 16001, inode: 51002, uid: 998 };

/** A root laid out as a live system: proc/net -> self/net, proc/self -> 4242. */
async function procRoot(files: Record<string, string>): Promise<string> {
  const root = await makeTempDir();
  await fs.mkdir(path.join(root, 'proc/4242/net'), { recursive: true });
  await fs.symlink('4242', path.join(root, 'proc/self'));
  await fs.symlink('self/net', path.join(root, 'proc/net'));
  for (const [name, text] of Object.entries(files)) await fs.writeFile(path.join(root, 'proc/4242/net', name), text);
  return root;
}

test('proc/net is followed through its links inside the root; tcp then tcp6', async () => {
  const root = await procRoot({ tcp: TCP_HEADER + TCP_ROW, tcp6: TCP_HEADER + TCP6_ROW });
  assert.equal(await readListeners(realFileSystem, root, 'LE'), { available: true, listeners: [V4, V6], problems: [] });
});

test('no tcp6 (IPv6 disabled) is fine: IPv4 listeners only', async () => {
  const root = await procRoot({ tcp: TCP_HEADER + TCP_ROW });
  assert.equal(await readListeners(realFileSystem, root, 'LE'), { available: true, listeners: [V4], problems: [] });
});

test('malformed rows come back as problems naming the node path and line, not as a throw', async () => {
  const root = await procRoot({ tcp: `${TCP_HEADER}${TCP_ROW}   1: garbage\n` });
  assert.equal(await readListeners(realFileSystem, root, 'LE'), {
    available: true,
    listeners: [V4],
    problems: ['/proc/net/tcp:3: expected at least 10 columns, found 2: "1: garbage"'],
  });
});

/** The real filesystem, but reading `failing` fails with `code`. */
function failingReads(failing: string, code: string): FileSystem {
  return {
    ...realFileSystem,
    readRegularFile: async (file, maxBytes) => {
      if (file === failing) throw Object.assign(new Error(`${code}: ${file}`), { code });
      return realFileSystem.readRegularFile(file, maxBytes);
    },
  };
}

test('an unreadable tcp makes listeners unavailable, with the reason; an unreadable tcp6 is a problem only', async () => {
  const root = await procRoot({ tcp: TCP_HEADER + TCP_ROW, tcp6: TCP_HEADER + TCP6_ROW });
  const tcp = path.join(root, 'proc/4242/net/tcp');
  assert.equal(await readListeners(failingReads(tcp, 'EACCES'), root, 'LE'), {
    available: false,
    listeners: [],
    problems: ['cannot read /proc/net/tcp (EACCES)'],
  });
  const tcp6 = path.join(root, 'proc/4242/net/tcp6');
  assert.equal(await readListeners(failingReads(tcp6, 'EIO'), root, 'LE'), {
    available: true,
    listeners: [V4],
    problems: ['cannot read /proc/net/tcp6 (EIO)'],
  });
});

test('a symlink loop where proc/net should be is a problem, not a throw', async () => {
  const root = await makeTempDir();
  await fs.mkdir(path.join(root, 'proc'));
  await fs.symlink('net', path.join(root, 'proc/net'));
  assert.equal(await readListeners(realFileSystem, root), {
    available: false,
    listeners: [],
    problems: ['/proc/net/tcp: too many levels of symbolic links'],
  });
});

test('a FIFO where proc/net/tcp should be (an offline copy) is a problem, never waited on', async () => {
  const root = await procRoot({ tcp6: TCP_HEADER + TCP6_ROW });
  assert.is(spawnSync('mkfifo', [path.join(root, 'proc/4242/net/tcp')]).status, 0);
  assert.equal(await readListeners(realFileSystem, root, 'LE'), {
    available: false,
    listeners: [],
    problems: ['cannot read /proc/net/tcp (ENOTREGULAR)'],
  });
});

test.run();
