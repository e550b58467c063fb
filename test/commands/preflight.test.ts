// The pre-flight of apply and rollback: what cannot change during the waits (a terminal unless --yes, snap and
// systemd answering, the credentials the health probes will use) is checked at once, before the before-gate
// and the prompt, so that a run that can never succeed fails in a moment with the real cause and nothing
// written; --force skips none of it; with --no-restart only the terminal matters.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBinAsync, type Run } from '../helpers/cli.js';
import { readTree, snapshotManifests, suiteLiveNodes, treeDiff, type LiveNode } from '../helpers/live-node.js';
import { makeTempDir } from '../helpers/node-root.js';
import { readLog } from '../helpers/stand-ins.js';
import { b64, testCerts } from '../helpers/test-certs.js';

const liveNode = suiteLiveNodes(test.after);

/** Well under the default 180 s gate, with room for a busy machine starting node. */
const AT_ONCE_MS = 3000;

async function timed(args: readonly string[], env: Record<string, string>): Promise<Run & { ms: number }> {
  const started = Date.now();
  const run = await runBinAsync(args, env);
  return { ...run, ms: Date.now() - started };
}

/** PATH with the systemctl stand-in and no snap at all. */
async function withoutSnap(n: LiveNode): Promise<Record<string, string>> {
  const bin = await makeTempDir('harden-no-snap-');
  await fs.symlink(path.join(n.standIns.bin, 'systemctl'), path.join(bin, 'systemctl'));
  return { PATH: bin, NO_COLOR: '1' };
}

const manifests = (n: LiveNode) => snapshotManifests(n.stateDir);

const NO_SNAP =
  'error: cannot run snap version: snap not found on PATH: the restarts and health gates cannot run, nothing was written\n' +
  'hint: harden restarts MicroK8s through snap; run it on the node itself, where snapd and systemd are installed; or pass --no-restart to write the files only\n';

test('no snap on PATH: apply, apply --force and rollback stop at once with the cause, exit 1, nothing written, no gate', async () => {
  const n = await liveNode();
  const env = await withoutSnap(n);
  const original = await readTree(n.root);
  for (const extra of [[], ['--force']]) {
    const run = await timed(['apply', '--root', n.root, '--yes', ...extra], env);
    assert.is(run.status, 1, run.stderr);
    assert.is(run.stderr, NO_SNAP, extra.join(' '));
    assert.is(run.stdout, '');
    assert.ok(run.ms < AT_ONCE_MS, `apply ${extra.join(' ')} took ${run.ms} ms`);
  }
  assert.equal(treeDiff(original, await readTree(n.root)), []);
  assert.is(n.readyzRequests(), 0, 'no gate ran');
  assert.equal(await readLog(n.standIns), [], 'no systemctl show: no gate ran');

  const applied = await runBinAsync(['apply', '--root', n.root, '--yes', '--no-restart'], n.env);
  assert.is(applied.status, 0, applied.stderr);
  const hardened = await readTree(n.root);
  const rollback = await timed(['rollback', '--root', n.root, '--yes'], env);
  assert.is(rollback.status, 1, rollback.stderr);
  assert.is(rollback.stderr, NO_SNAP);
  assert.ok(rollback.ms < AT_ONCE_MS, `rollback took ${rollback.ms} ms`);
  assert.equal(treeDiff(hardened, await readTree(n.root)), []);
  assert.equal((await manifests(n)).map((m) => `${m.kind} ${m.status}`), ['apply written'], 'no snapshot of the present state');
});

test('--no-restart needs no snap: applied without it, exit 0', async () => {
  const n = await liveNode();
  const run = await runBinAsync(['apply', '--root', n.root, '--yes', '--no-restart'], await withoutSnap(n));
  assert.is(run.status, 0, run.stderr);
  assert.ok((await fs.readFile(n.args('kube-apiserver'), 'utf8')).includes('--authorization-mode=Node,RBAC\n'));
  assert.equal((await manifests(n)).map((m) => `${m.kind} ${m.status}`), ['apply written']);
});

test('no terminal and no --yes (apply, and apply PLAN): exit 1 at once, before the before-gate (no probe, no systemctl)', async () => {
  const n = await liveNode();
  const original = await readTree(n.root);
  // The default gate times: the old order waited them out before asking for a terminal.
  const plan = path.join(await makeTempDir('harden-plan-'), 'plan.json');
  const saved = await runBinAsync(['plan', '--root', n.root, '--out', plan], n.env);
  assert.is(saved.status, 0, saved.stderr);
  for (const args of [[], [plan]]) {
    // stdin is /dev/null, as with `harden apply PLAN < /dev/null`.
    const run = await timed(['apply', '--root', n.root, ...args], n.env);
    assert.is(run.status, 1, run.stderr);
    assert.is(run.stderr, 'error: no terminal to confirm the changes: nothing was written\nhint: run it in a terminal, or pass --yes\n');
    assert.ok(run.ms < AT_ONCE_MS, `took ${run.ms} ms`);
  }
  assert.is(n.readyzRequests(), 0);
  assert.equal(await readLog(n.standIns), []);
  assert.equal(treeDiff(original, await readTree(n.root)), []);
});

/** Rewrites the live node's credentials/client.config with `edit`. */
async function editClientConfig(n: LiveNode, edit: (text: string) => string): Promise<void> {
  const file = path.join(n.dataDir, 'credentials/client.config');
  await fs.writeFile(file, edit(await fs.readFile(file, 'utf8')));
}

const CREDENTIALS_HINT = 'hint: fix the credentials the health probes read (credentials/client.config and the files it names), or pass --no-restart to write the files only\n';

test('a CA file that does not parse: exit 1 at once naming the file, also with --force; nothing written, no gate', async () => {
  const n = await liveNode();
  await editClientConfig(n, (text) => text.replace(/certificate-authority-data: .*/, 'certificate-authority: /var/snap/microk8s/current/certs/ca.crt'));
  await fs.writeFile(path.join(n.dataDir, 'certs/ca.crt'), 'not a certificate\n');
  const original = await readTree(n.root);
  for (const extra of [[], ['--force']]) {
    const run = await timed(['apply', '--root', n.root, '--yes', ...extra], n.env);
    assert.is(run.status, 1, run.stderr);
    assert.is(run.stderr, `error: the CA /var/snap/microk8s/current/certs/ca.crt is not a PEM X.509 certificate: the API server probe cannot pass; nothing was written\n${CREDENTIALS_HINT}`);
    assert.ok(run.ms < AT_ONCE_MS, `took ${run.ms} ms`);
  }
  assert.is(n.readyzRequests(), 0);
  assert.equal(treeDiff(original, await readTree(n.root)), []);
});

test('a client key that does not match its certificate, and a missing key file: each named, exit 1, nothing written', async () => {
  const n = await liveNode();
  const certs = await testCerts();
  await editClientConfig(n, (text) => text.replace(/client-key-data: .*/, `client-key-data: ${b64(certs.caKey)}`));
  const run = await timed(['apply', '--root', n.root, '--yes'], n.env);
  assert.is(run.status, 1, run.stderr);
  assert.is(
    run.stderr,
    `error: the client certificate credentials/client.config (client-certificate-data) does not match the key credentials/client.config (client-key-data): the API server probe cannot pass; nothing was written\n${CREDENTIALS_HINT}`,
  );

  await editClientConfig(n, (text) => text.replace(/client-key-data: .*/, 'client-key: /var/snap/microk8s/current/certs/missing-client.key'));
  const missing = await runBinAsync(['apply', '--root', n.root, '--yes'], n.env);
  assert.is(missing.status, 1, missing.stderr);
  assert.is(missing.stderr, `error: the client key /var/snap/microk8s/current/certs/missing-client.key cannot be read: the API server probe cannot pass; nothing was written\n${CREDENTIALS_HINT}`);
  assert.is(n.readyzRequests(), 0);
  assert.equal(await manifests(n), []);
});

test('credentials in order: the pre-flight passes, and snap and systemd are asked once through the stand-ins', async () => {
  const n = await liveNode();
  const run = await runBinAsync(['apply', '--root', n.root, '--yes', '--only', 'kube-scheduler.bind-address', '--health-timeout', '10', '--health-window', '1'], n.env);
  assert.is(run.status, 0, run.stderr);
  const log = await readLog(n.standIns);
  assert.equal(log.slice(0, 2), ['snap version', 'systemctl show --property=Version'], log.join('\n'));
  assert.is(log.filter((line) => line === 'snap version').length, 1);
});

test.run();
