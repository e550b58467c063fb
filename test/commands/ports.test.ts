// `harden ports`: the port table of a node from its args files and what really listens (<root>/proc/net), its
// probe rules in `check`, and apply's confirmation that the ports a change closes are closed. Real sockets on
// loopback for `--root /`; captured-format /proc/net tables laid into node roots for the rest.
import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBinAsync, runInProcess } from '../helpers/cli.js';
import { makeLiveNode, type LiveNode } from '../helpers/live-node.js';
import { makeNode } from '../helpers/node-root.js';
import { fixtureVersions, repoRoot } from '../helpers/paths.js';
import { writeProcNet } from '../helpers/proc-net.js';
import { setRestartHook } from '../helpers/stand-ins.js';

interface PortsDoc {
  configuration: string;
  listeners: string;
  ports: { port: number | null; id: string | null; what: string; bind: string | null; listening: { address: string; port: number }[] | null; verdict: string; reason: string }[];
  others: { address: string; port: number }[];
}

async function ports(root: string): Promise<PortsDoc> {
  const run = await runInProcess(['ports', '--root', root, '--json']);
  assert.is(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as PortsDoc;
}

const verdicts = (doc: PortsDoc) => Object.fromEntries(doc.ports.filter((p) => p.port !== null && p.id !== null).map((p) => [p.id, p.verdict]));
const exposed = (doc: PortsDoc) => doc.ports.filter((p) => p.verdict !== 'fine').map((p) => `${p.port} ${p.verdict}`);

test('every fixture version, offline: the verdicts MicroK8s documentation implies for its defaults', async () => {
  // ports.md: 1.13 binds the insecure 8080 on every interface and leaves the kubelet open (anonymous, AlwaysAllow),
  // the read-only 10255 is open until the args close it, and the old insecure scheduler/controller ports listen.
  const expected: Record<string, string[]> = {
    '1.13': ['8080 exposed', '10250 exposed', '10255 exposed', '10256 exposed', '10251 exposed', '10252 exposed'],
    '1.18': ['10255 exposed'],
    '1.20': ['10255 exposed'],
    '1.21': ['10255 exposed'],
    '1.26': [],
    '1.28': [],
    '1.36': [],
  };
  for (const version of fixtureVersions) {
    const doc = await ports(await makeNode({ version }));
    assert.is(doc.configuration, 'known', version);
    assert.is(doc.listeners, 'unavailable', version);
    assert.equal(exposed(doc), expected[version], version);
    assert.ok(doc.ports.every((p) => p.listening === null || p.port === null), `${version}: nothing is said to listen without proc/net`);
  }
});

test('the example node: the table, with every setting from its args files or the version default', async () => {
  const run = await runInProcess(['ports', '--root', path.join(repoRoot, 'examples/node-1.28')]);
  assert.is(run.status, 0, run.stderr);
  const lines = run.stdout.split('\n');
  assert.is(lines[0], `Ports of ${path.join(repoRoot, 'examples/node-1.28')} (MicroK8s 1.28.15, kubelite era, control-plane)`);
  assert.ok(lines.includes('No proc/net/tcp in this root (an offline copy): what listens cannot be seen; verdicts follow the configuration.'));
  const row = (port: string, what: string) => lines.find((line) => line.startsWith(`${port.padEnd(5)}  ${what}`))?.replace(/\s+/g, ' ');
  assert.is(row('16443', 'API server'), '16443 API server kubelite 0.0.0.0 unknown TLS + authn fine');
  assert.is(row('10255', 'kubelet read-only port'), '10255 kubelet read-only port kubelite off unknown none fine');
  assert.is(row('10259', 'scheduler'), '10259 scheduler kubelite 0.0.0.0 (default) unknown TLS + authn fine');
  assert.is(row('25000', 'cluster agent'), '25000 cluster agent cluster-agent 0.0.0.0 unknown token fine');
});

test('a node with proc/net: IPv4 and IPv6 listeners matched to ports, exposed and unexpected ones named, probes fail', async () => {
  const root = await makeNode({ version: '1.21' });
  const args = path.join(root, 'var/snap/microk8s/current/args');
  await fs.appendFile(path.join(args, 'kube-scheduler'), '--bind-address=127.0.0.1\n');
  await writeProcNet(root, [
    { address: '0.0.0.0', port: 16443 },
    { address: '0.0.0.0', port: 10255 }, // the read-only port the 1.21 defaults leave open
    { address: '127.0.0.1', port: 10248 },
    { address: '127.0.0.1', port: 10249 },
    { address: '0.0.0.0', port: 25000 },
    { address: '127.0.0.1', port: 5432 }, // not MicroK8s'
    { address: '::', port: 10250 },
    { address: '::', port: 10259 }, // the scheduler, although its args keep it on localhost
    { address: '::ffff:127.0.0.1', port: 10257 },
    { address: '::1', port: 19001 },
  ]);
  const doc = await ports(root);
  assert.is(doc.listeners, 'available');
  const byId = (id: string) => doc.ports.find((p) => p.id === id)!;
  assert.equal(byId('apiserver').listening, [{ family: 4, address: '0.0.0.0', port: 16443 }]);
  assert.equal(byId('kubelet').listening, [{ family: 6, address: '::', port: 10250 }]);
  assert.equal(byId('controller-manager').listening, [{ family: 6, address: '::ffff:127.0.0.1', port: 10257 }]);
  const v = verdicts(doc);
  assert.is(v['kubelet-read-only'], 'exposed');
  assert.is(byId('kubelet-read-only').reason, 'listening on 0.0.0.0:10255 with plain HTTP, no authentication or authorization');
  assert.is(v.scheduler, 'unexpected');
  assert.is(byId('scheduler').reason, 'listening on [::]:10259 although configured on 127.0.0.1 only');
  assert.is(v.kubelet, 'fine');
  assert.is(v['kubelet-healthz'], 'fine');
  assert.is(v['controller-manager'], 'fine');
  assert.equal(doc.others, [{ family: 4, address: '127.0.0.1', port: 5432 }]);

  const check = await runInProcess(['check', '--root', root, '--json']);
  assert.is(check.status, 2);
  const results = Object.fromEntries((JSON.parse(check.stdout).results as { id: string; status: string; reason: string }[]).map((r) => [r.id, r]));
  assert.is(results['kubelet.exposure'].status, 'FAIL');
  assert.match(results['kubelet.exposure'].reason, /^10255 kubelet read-only port .*: listening on 0\.0\.0\.0:10255 with plain HTTP/);
  assert.is(results['kube-scheduler.exposure'].status, 'FAIL');
  assert.is(results['apiserver.exposure'].status, 'PASS');
  assert.is(results['k8s-dqlite.exposure'].status, 'PASS');

  // Without proc/net the probes cannot be judged: NOT APPLICABLE, and every other verdict as before.
  await fs.rm(path.join(root, 'proc'), { recursive: true });
  const offline = await runInProcess(['check', '--root', root, '--json']);
  const again = Object.fromEntries((JSON.parse(offline.stdout).results as { id: string; status: string }[]).map((r) => [r.id, r.status]));
  assert.is(again['kubelet.exposure'], 'NOT APPLICABLE');
  assert.is(again['kube-scheduler.exposure'], 'NOT APPLICABLE');
});

test('--root / with real sockets on loopback and the wildcards: seen with the right address; the configuration is unknown', async () => {
  const servers: net.Server[] = [];
  const listen = (port: number, host: string) =>
    new Promise<net.Server>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen({ port, host, ipv6Only: host === '::' }, () => resolve(server));
    });
  try {
    servers.push(await listen(10255, '0.0.0.0'));
    servers.push(await listen(10249, '127.0.0.1'));
    servers.push(await listen(10250, '::'));
    servers.push(await listen(16443, '::1'));
    const doc = await ports('/');
    assert.is(doc.configuration, 'unknown');
    assert.is(doc.listeners, 'available');
    const seen = (port: number) => doc.ports.find((p) => p.port === port);
    assert.equal(seen(10255)?.listening, [{ family: 4, address: '0.0.0.0', port: 10255 }]);
    assert.is(seen(10255)?.verdict, 'unknown');
    assert.equal(seen(10249)?.listening, [{ family: 4, address: '127.0.0.1', port: 10249 }]);
    assert.is(seen(10249)?.verdict, 'fine');
    assert.equal(seen(10250)?.listening, [{ family: 6, address: '::', port: 10250 }]);
    assert.equal(seen(16443)?.listening, [{ family: 6, address: '::1', port: 16443 }]);

    const text = await runInProcess(['ports', '--root', '/']);
    assert.match(text.stdout, /^The configuration is unknown: \/var\/snap\/microk8s\/current not found: MicroK8s is not installed in this root$/m);
    assert.match(text.stdout, /^unknown: 10255 kubelet read-only port: listening on 0\.0\.0\.0:10255; the configuration is unknown, so its access restriction is too$/m);
  } finally {
    for (const server of servers) await new Promise((resolve) => server.close(resolve));
  }
});

test('neither a configuration nor listeners: the error that explains why, exit 1, nothing on stdout', async () => {
  const missing = await runInProcess(['ports', '--root', '/nonexistent-root']);
  assert.is(missing.status, 1);
  assert.is(missing.stdout, '');
  assert.match(missing.stderr, /^error: node root \/nonexistent-root is not a directory\nhint: /);
  const empty = await makeNode({ version: '1.28' });
  await fs.rm(path.join(empty, 'var'), { recursive: true });
  const bare = await runInProcess(['ports', '--root', empty]);
  assert.is(bare.status, 1);
  assert.is(bare.stdout, '');
  assert.match(bare.stderr, /^error: \/var\/snap\/microk8s\/current not found: MicroK8s is not installed in this root\nhint: /);
});

const nodes: LiveNode[] = [];
test.after(async () => {
  for (const node of nodes.splice(0)) await node.close();
});

/** A live 1.21 node whose kubelite restart re-lists the listeners from args/kubelet, as a real kubelet would. */
async function liveNodeWithListeners(kubeletReadsItsFile: boolean): Promise<LiveNode> {
  const node = await makeLiveNode({ version: '1.21' });
  nodes.push(node);
  const listeners = (readOnlyOpen: boolean) => [
    { address: '0.0.0.0', port: node.ports.apiserver },
    { address: '127.0.0.1', port: node.ports.kubelet },
    ...(readOnlyOpen ? [{ address: '0.0.0.0', port: 10255 }] : []),
  ];
  await writeProcNet(node.root, listeners(true));
  const script = path.join(node.standIns.dir, 'relist.mjs');
  const scriptText = `import { writeProcNet } from ${JSON.stringify(path.join(repoRoot, 'dist/test/helpers/proc-net.js'))};
import { readFileSync } from 'node:fs';
const closed = ${kubeletReadsItsFile} && /^--read-only-port=0$/m.test(readFileSync(${JSON.stringify(node.args('kubelet'))}, 'utf8'));
await writeProcNet(${JSON.stringify(node.root)}, ${JSON.stringify(listeners(false))}.concat(closed ? [] : [{ address: '0.0.0.0', port: 10255 }]));
`;
  await fs.writeFile(script, scriptText);
  await setRestartHook(node.standIns, `[ "$UNIT" = snap.microk8s.daemon-kubelite ] && exec ${JSON.stringify(process.execPath)} ${JSON.stringify(script)}\nexit 0\n`);
  return node;
}

test('apply confirms that the port a change closes is closed, or says plainly that it is still open', async () => {
  const good = await liveNodeWithListeners(true);
  const run = await runBinAsync(['apply', '--root', good.root, '--only', 'kubelet.read-only-port', '--yes', '--health-timeout', '10', '--health-window', '1'], good.env);
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stdout, /^Ports closed as planned: 10255 \(kubelet read-only port \(plain HTTP: pods, node stats\)\)\.$/m);
  assert.not.match(run.stderr, /still listening/);

  const stuck = await liveNodeWithListeners(false);
  const again = await runBinAsync(['apply', '--root', stuck.root, '--only', 'kubelet.read-only-port', '--yes', '--health-timeout', '10', '--health-window', '1'], stuck.env);
  assert.is(again.status, 0, again.stderr);
  assert.not.match(again.stdout, /Ports closed as planned/);
  assert.match(
    again.stderr,
    /^warning: port 10255 \(kubelet read-only port \(plain HTTP: pods, node stats\)\) is still listening on 0\.0\.0\.0:10255 although the change turns it off: check that snap\.microk8s\.daemon-kubelite restarted on the new files \(journalctl -u snap\.microk8s\.daemon-kubelite\)$/m,
  );
});

test.run();
