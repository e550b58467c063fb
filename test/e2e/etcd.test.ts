// `harden apply` against the real etcd daemon (Debian's etcd-server, 3.4 like MicroK8s 1.18's), supervised
// like a snap service (test/helpers/etcd-node.ts): the bin is spawned with the snap/systemctl stand-ins on
// PATH, and everything else is real: etcd reading its args through bash, TLS, client certificates, restarts.
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { describeNode } from '../../src/core/node.js';
import type { Plan } from '../../src/core/plan.js';
import { realFileSystem } from '../../src/effects/file-system.js';
import { healthProbes } from '../../src/effects/health.js';
import { readNodeFacts, RootedReader } from '../../src/effects/node-reader.js';
import { runBinAsync } from '../helpers/cli.js';
import { ETCD_UNIT, etcdBinary, etcdGet, makeEtcdNode, type EtcdNode } from '../helpers/etcd-node.js';
import { readLog } from '../helpers/stand-ins.js';
import { testCerts } from '../helpers/test-certs.js';

const ARGS = '/var/snap/microk8s/current/args/etcd';
const HEALTHY = { status: 200, body: '{"health":"true"}' };

const nodes: EtcdNode[] = [];
async function etcdNode(): Promise<EtcdNode> {
  const node = await makeEtcdNode();
  nodes.push(node);
  return node;
}

// Each test's etcd is stopped as soon as the test ends, passed or failed.
test.after.each(async () => {
  for (const node of nodes.splice(0)) await node.close();
});

const harden = (n: EtcdNode, command: string, ...args: string[]) => runBinAsync([command, '--root', n.root, ...args], n.env);

async function planOf(n: EtcdNode, ...selection: string[]): Promise<Plan> {
  const run = await harden(n, 'plan', '--json', ...selection);
  assert.is(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as Plan;
}

/** The error a TLS client gets, as `code: message`. */
async function refusal(request: Promise<unknown>): Promise<string> {
  try {
    await request;
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    return `${err.code}: ${err.message}`;
  }
  return 'answered';
}

/** The command name of the process with this pid, or null when none runs. */
function processName(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}

test('etcd is installed (CI installs etcd-server; without it this suite fails, never skips)', () => {
  assert.match(etcdBinary(), /\/etcd$/);
});

const HARDENING = ['--profile', 'cis', '--only', 'etcd.client-cert-auth,etcd.trusted-ca-file,etcd.auto-tls'];

test('apply closes etcd to clients without a certificate: one real restart, the gate passes over real TLS', async () => {
  const n = await etcdNode();
  const c = await testCerts();
  const original = await fs.readFile(n.argsFile, 'utf8');

  // The door is open: no --client-cert-auth and no --trusted-ca-file, so etcd asks no client for a certificate.
  assert.equal(await etcdGet(n.clientPort, '/health', { ca: c.ca }), HEALTHY);

  const plan = await planOf(n, ...HARDENING);
  assert.equal(plan.files.map((f) => f.path), [ARGS]);
  assert.is(plan.files[0].before, original);
  // The plan's bytes, stated independently: --auto-tls turned off in place, the two flags appended.
  assert.is(plan.files[0].after, `${original.replace(/^--auto-tls$/m, '--auto-tls=false')}--client-cert-auth=true\n--trusted-ca-file=\${SNAP_DATA}/certs/ca.crt\n`);
  assert.equal(plan.restarts, [ETCD_UNIT]);

  const before = await n.unitState();
  assert.is(processName(before.mainPid), 'etcd');
  const run = await harden(n, 'apply', '--yes', ...HARDENING, '--health-timeout', '30', '--health-window', '2');
  assert.is(run.status, 0, `${run.stderr}\n${await n.journal()}`);
  assert.match(run.stdout, /^Wrote 1 file\.\nRestarting snap\.microk8s\.daemon-etcd\nApplied and verified: 3 rules now pass\.\nUndo with: harden --root \S+ rollback \S+\n$/m);
  assert.is(await fs.readFile(n.argsFile, 'utf8'), plan.files[0].after);
  assert.equal((await readLog(n.live.standIns, 'snap')).filter((line) => line !== 'snap version'), ['snap restart microk8s.daemon-etcd']);

  // etcd really restarted, with the new file: a new process, the old one gone, and etcd says so.
  const after = await n.unitState();
  assert.equal({ ...after, mainPid: 0 }, { activeState: 'active', mainPid: 0, restarts: 0 });
  assert.is.not(after.mainPid, before.mainPid);
  assert.is(processName(after.mainPid), 'etcd');
  assert.is(processName(before.mainPid), null);
  const tls = [...(await n.journal()).matchAll(/embed: ClientTLS: (.*)$/gm)].map((m) => m[1]);
  const certs = `${n.live.dataDir}/certs`;
  assert.equal(tls, [
    `cert = ${certs}/server.crt, key = ${certs}/server.key, trusted-ca = , client-cert-auth = false, crl-file = `,
    `cert = ${certs}/server.crt, key = ${certs}/server.key, trusted-ca = ${certs}/ca.crt, client-cert-auth = true, crl-file = `,
  ]);

  // The gate's probe (etcd's own server pair as the client pair, the API server's --etcd-cafile as CA) passes
  // against the hardened etcd; that is what let apply finish.
  const model = describeNode(await readNodeFacts(realFileSystem, { root: n.root }));
  const reader = new RootedReader(realFileSystem, n.root);
  const probes = healthProbes({ root: n.root, model, services: [ETCD_UNIT] }, (p) => reader.readText(p));
  assert.equal(probes.map((p) => p.name), ['etcd /health']);
  assert.equal(await probes[0].check(), { ok: true, detail: 'HTTP 200: {"health":"true"}' });

  // The door is closed: no certificate, no TLS session; the CA-signed client pair is served.
  assert.match(await refusal(etcdGet(n.clientPort, '/health', { ca: c.ca })), /^ERR_SSL_(SSLV3_ALERT_BAD_CERTIFICATE|TLSV13_ALERT_CERTIFICATE_REQUIRED): /);
  assert.equal(await etcdGet(n.clientPort, '/health', { ca: c.ca, cert: c.clientCert, key: c.clientKey }), HEALTHY);
});

// A change etcd refuses at start-up. The user's profile points --trusted-ca-file at the CA's key instead of its
// certificate (they sit side by side in certs/): harden accepts it (a path under ${SNAP_DATA} to a file that
// exists, and --trusted-ca-file is in the catalogue for every etcd MicroK8s ships), but etcd 3.4 parses the file
// as certificates when it sets up client TLS and exits with "x509: malformed tbs certificate" (checked by hand
// with etcd 3.4.23). The supervisor restarts it every half second; the gate sees no /health and puts the file back.
const WRONG_CA_PROFILE = `apiVersion: harden/v1
kind: Profile
name: etcd-wrong-ca
title: The cis profile with etcd trusting the wrong file
extends: cis
rules:
  - id: etcd.trusted-ca-file
    title: Verify etcd clients against the CA
    rationale: A slip - the CA's key where its certificate belongs.
    severity: medium
    component: etcd
    requires:
      - { fact: file-exists, path: "\${SNAP_DATA}/certs/ca.key" }
    operation: set-flag
    flag: --trusted-ca-file
    value: \${SNAP_DATA}/certs/ca.key
`;

test('a change real etcd refuses at start-up fails the gate: exit 3, file put back byte for byte, etcd healthy again', async () => {
  const n = await etcdNode();
  const c = await testCerts();
  const profile = path.join(n.live.standIns.dir, 'etcd-wrong-ca.yaml');
  await fs.writeFile(profile, WRONG_CA_PROFILE);
  const original = await fs.readFile(n.argsFile);
  const mode = (await fs.stat(n.argsFile)).mode & 0o7777;
  assert.is(mode, 0o660);
  const before = await n.unitState();

  // apply validates the profile (an invalid one is exit 1, nothing written) and takes the rule as a fix.
  const run = await harden(n, 'apply', '--yes', '--profile', profile, '--only', 'etcd.client-cert-auth,etcd.trusted-ca-file', '--health-timeout', '6', '--health-window', '1');
  assert.is(run.status, 3, `${run.stdout}\n${run.stderr}`);
  // etcd dies while it sets up client TLS, so the probe meets a closed port or a connection cut short.
  assert.match(run.stderr, /^error: the change failed its health gate: etcd \/health: (connection refused|connection reset by the server); snap\.microk8s\.daemon-etcd restarted (once|\d+ times) in the window$/m);
  assert.match(run.stderr, /^Put back: \/var\/snap\/microk8s\/current\/args\/etcd restored; snap\.microk8s\.daemon-etcd restarted and healthy again\.$/m);

  // What etcd said, and that the supervisor restarted it as systemd would.
  const journal = await n.journal();
  assert.match(journal, /etcdmain: x509: malformed tbs certificate/);
  assert.match(journal, /exited with status 1; restarting in 0\.5s/);

  assert.equal(await fs.readFile(n.argsFile), original);
  assert.is((await fs.stat(n.argsFile)).mode & 0o7777, mode);
  assert.equal((await readLog(n.live.standIns, 'snap')).filter((line) => line !== 'snap version'), ['snap restart microk8s.daemon-etcd', 'snap restart microk8s.daemon-etcd']);

  // Running and healthy on the original file, as a new process.
  await n.waitHealthy(5000);
  assert.equal(await etcdGet(n.clientPort, '/health', { ca: c.ca, cert: c.clientCert, key: c.clientKey }), HEALTHY);
  const after = await n.unitState();
  assert.is(after.activeState, 'active');
  assert.is.not(after.mainPid, before.mainPid);
  assert.is(processName(after.mainPid), 'etcd');

  // Teardown leaves nothing running.
  await n.close();
  assert.is(processName(after.mainPid), null);
  assert.is(processName(n.supervisorPid), null);
});

test.run();
