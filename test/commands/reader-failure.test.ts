// An args file whose reader fails, or whose component would refuse its argv, is a failure of its own in check
// (file.NAME.reader, exit 2, in every output), and plan and apply refuse to edit it (exit 1, nothing written),
// naming the line to fix by hand. The cases of issue 15: a kubelite-read file with a trailing comment, and a
// containerd file bash refuses.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBin } from '../helpers/cli.js';
import { makeNode } from '../helpers/node-root.js';

const ARGS = 'var/snap/microk8s/current/args';
const APISERVER = '/var/snap/microk8s/current/args/kube-apiserver';
const CONTAINERD = '/var/snap/microk8s/current/args/containerd';

/** A 1.28 node (kubelite era) whose args/kube-apiserver says `--authorization-mode=AlwaysAllow # set by ops`. */
async function commentedNode(): Promise<string> {
  const root = await makeNode({ version: '1.28' });
  const file = path.join(root, ARGS, 'kube-apiserver');
  const text = await fs.readFile(file, 'utf8');
  assert.ok(text.includes('\n--authorization-mode=AlwaysAllow\n'));
  await fs.writeFile(file, text.replace('\n--authorization-mode=AlwaysAllow\n', '\n--authorization-mode=AlwaysAllow # set by ops\n'));
  return root;
}

/** A 1.36 node whose args/containerd has an unbalanced quote on its last line: bash refuses the whole file. */
async function containerdNode(): Promise<string> {
  const root = await makeNode({ version: '1.36' });
  await fs.appendFile(path.join(root, ARGS, 'containerd'), '--log-level "info\n');
  return root;
}

async function lineCount(root: string, name: string): Promise<number> {
  return (await fs.readFile(path.join(root, ARGS, name), 'utf8')).split('\n').length - 1;
}

const APISERVER_REASON = `line 3: stray-argument: "#" is not a flag: kube-apiserver takes no arguments and does not start (and 3 more errors); fix line 3 of ${APISERVER} by hand, harden does not edit it`;

test('check: a trailing comment in a kubelite-read file fails file.kube-apiserver.reader, with the finding and its line; exit 2', async () => {
  const root = await commentedNode();
  const run = runBin(['--root', root, 'check', '--failed']);
  assert.is(run.status, 2, run.stderr);
  assert.is(run.stderr, '');
  const out = run.stdout.split('\n');
  const at = out.indexOf('[FAIL]           high      file.kube-apiserver.reader');
  assert.ok(at > 0, run.stdout);
  assert.equal(out.slice(at, at + 4), [
    '[FAIL]           high      file.kube-apiserver.reader',
    '                           kube-apiserver reads args/kube-apiserver and starts with it',
    `                           found: stray-argument (line 3); ${APISERVER_REASON}`,
    '                           fix: by hand, as the reason says (harden inspect lists every finding of the file)',
  ]);
  assert.match(run.stdout, '\n26 rules: 8 passed, 5 failed, 0 blocked, 0 manual, 13 not applicable\n');
});

test('check --json, --format junit and --format sarif carry file.kube-apiserver.reader as a failure', async () => {
  const root = await commentedNode();
  const json = runBin(['--root', root, 'check', '--json']);
  assert.is(json.status, 2, json.stderr);
  const result = JSON.parse(json.stdout).results.find((r: any) => r.id === 'file.kube-apiserver.reader');
  assert.equal(result, {
    id: 'file.kube-apiserver.reader',
    title: 'kube-apiserver reads args/kube-apiserver and starts with it',
    severity: 'high',
    component: 'kube-apiserver',
    cis: [],
    file: APISERVER,
    line: 3,
    status: 'FAIL',
    found: 'stray-argument (line 3)',
    reason: APISERVER_REASON,
  });

  const junit = runBin(['--root', root, 'check', '--format', 'junit']);
  assert.is(junit.status, 2, junit.stderr);
  assert.match(junit.stdout, `<testcase classname="baseline.kube-apiserver" name="file.kube-apiserver.reader"><failure message="${APISERVER_REASON.replace(/"/g, '&quot;')}">`);

  const sarif = runBin(['--root', root, 'check', '--format', 'sarif']);
  assert.is(sarif.status, 2, sarif.stderr);
  const run = JSON.parse(sarif.stdout).runs[0];
  assert.ok(run.tool.driver.rules.some((r: any) => r.id === 'file.kube-apiserver.reader'));
  const found = run.results.find((r: any) => r.ruleId === 'file.kube-apiserver.reader');
  assert.equal(found.locations, [{ physicalLocation: { artifactLocation: { uri: APISERVER }, region: { startLine: 3 } } }]);
  assert.is(found.level, 'error');
  assert.is(found.properties.status, 'FAIL');
});

test('plan and apply refuse to edit the commented file: exit 1, the line to fix by hand, nothing written', async () => {
  const root = await commentedNode();
  const before = await fs.readFile(path.join(root, ARGS, 'kube-apiserver'), 'utf8');
  const refusal = `error: plan refused: rules apiserver.authorization-mode.no-always-allow, apiserver.authorization-mode.node-rbac: ${APISERVER}: unsafe-file: line 3: "#" is not a flag: kube-apiserver takes no arguments and does not start (and 3 more errors); harden does not edit a file that kubelite cannot read safely\n`;
  const hint = `fix line 3 of ${APISERVER} by hand (harden check lists what is wrong with it), then run harden again`;
  const plan = runBin(['--root', root, 'plan']);
  assert.is(plan.status, 1, plan.stdout);
  assert.is(plan.stdout, '');
  assert.is(plan.stderr, `${refusal}hint: nothing was written; ${hint}, or leave a rule out with --skip RULE (apiserver.authorization-mode.no-always-allow, apiserver.authorization-mode.node-rbac)\n`);
  // The tail that kubelite passes on is never kept behind a new value.
  assert.not.match(plan.stderr, '# set by ops');

  const apply = runBin(['--root', root, 'apply', '--yes', '--no-restart']);
  assert.is(apply.status, 1, apply.stdout);
  assert.is(apply.stderr, `${refusal.replace('rules apiserver.authorization-mode.no-always-allow, apiserver', 'rule apiserver.authorization-mode.no-always-allow,apiserver')}hint: nothing was written; ${hint}, or leave a rule out with --skip RULE\n`);
  assert.is(await fs.readFile(path.join(root, ARGS, 'kube-apiserver'), 'utf8'), before);
  assert.not.ok(await fs.stat(path.join(root, 'var/lib/harden/snapshots')).then(() => true, () => false), 'no snapshot taken');
});

test('containerd: a file bash refuses fails file.containerd.reader in check (exit 2) and is left out of the plan, blocked', async () => {
  const root = await containerdNode();
  const line = await lineCount(root, 'containerd');
  const reason = `line ${line}: reader-fails: unbalanced double quote: bash refuses the whole file and the daemon does not start; close the quote; fix line ${line} of ${CONTAINERD} by hand, harden does not edit it`;
  const json = runBin(['--root', root, 'check', '--json']);
  assert.is(json.status, 2, json.stderr);
  const result = JSON.parse(json.stdout).results.find((r: any) => r.id === 'file.containerd.reader');
  assert.equal([result.status, result.component, result.file, result.line, result.found, result.reason], ['FAIL', 'containerd', CONTAINERD, line, `reader-fails (line ${line})`, reason]);

  const plan = runBin(['--root', root, 'plan', '--json']);
  assert.is(plan.status, 0, plan.stderr);
  const doc = JSON.parse(plan.stdout);
  assert.equal(doc.blocked.filter((note: any) => note.ruleId.startsWith('file.')), [{ ruleId: 'file.containerd.reader', text: reason }]);
  assert.ok(!doc.files.some((file: any) => file.name === 'containerd'));
  assert.is(doc.summary.compliantAfter, false);
});

test('a bash-read Kubernetes file (1.20, before kubelite) with a stray argument: check fails it, plan refuses to edit it', async () => {
  const root = await makeNode({ version: '1.20' });
  const file = path.join(root, ARGS, 'kube-apiserver');
  const text = await fs.readFile(file, 'utf8');
  await fs.writeFile(file, text.replace(/\n--authorization-mode=([^\n]*)\n/, '\n--authorization-mode=$1 # set by ops\n'));
  const line = text.split('\n').findIndex((l) => l.startsWith('--authorization-mode=')) + 1;
  const json = runBin(['--root', root, 'check', '--json']);
  assert.is(json.status, 2, json.stderr);
  const result = JSON.parse(json.stdout).results.find((r: any) => r.id === 'file.kube-apiserver.reader');
  // bash reads `#` after a blank as a comment: the line is clean for bash, so nothing fails.
  assert.is(result, undefined);
  await fs.writeFile(file, text.replace(/\n--authorization-mode=([^\n]*)\n/, '\n--authorization-mode=$1 ops\n'));
  const again = JSON.parse(runBin(['--root', root, 'check', '--json']).stdout).results.find((r: any) => r.id === 'file.kube-apiserver.reader');
  assert.equal([again.status, again.line, again.found], ['FAIL', line, `stray-argument (line ${line})`]);
  const plan = runBin(['--root', root, 'plan', '--only', 'apiserver.authorization-mode.node-rbac']);
  assert.is(plan.status, 1, plan.stdout);
  assert.match(plan.stderr, `unsafe-file: line ${line}: "ops" is not a flag: kube-apiserver takes no arguments and does not start; harden does not edit a file that bash cannot read safely\n`);
});

test.run();
