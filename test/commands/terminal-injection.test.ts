// Names and values from a node never reach a terminal raw: a file name with a newline cannot print a fake
// `error:` line, an escape sequence cannot clear the screen, retitle the window or recolour what follows, and a
// bidi override cannot reorder a line. Every byte of the real bin's stdout and stderr is scanned.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runBin, type Run } from '../helpers/cli.js';
import { makeNode } from '../helpers/node-root.js';

const ARGS = 'var/snap/microk8s/current/args';
/** A file name that would print a line of its own, set the window title and clear the screen. */
const HOSTILE_NAME = 'x\nerror: fake\u001b]0;title\u0007\u001b[2J';
const HOSTILE_NAME_SHOWN = 'x\\nerror: fake\\x1b]0;title\\x07\\x1b[2J';

/** Any character a terminal acts on, other than newline (and, with colour, harden's own SGR codes). */
function rawControls(text: string, colour = false): string[] {
  const scanned = colour ? text.replace(/\u001b\[[0-9;]*m/g, '') : text;
  return [...scanned].filter((c) => /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/.test(c)).map((c) => `U+${c.codePointAt(0)!.toString(16).padStart(4, '0')}`);
}

function assertClean(run: Run, what: string, colour = false): void {
  assert.equal(rawControls(run.stdout, colour), [], `${what}: stdout`);
  assert.equal(rawControls(run.stderr, colour), [], `${what}: stderr`);
  for (const line of run.stdout.split('\n')) assert.not.match(line, /^(error|hint|warning):/, `${what}: a line of stdout posing as a diagnostic`);
}

const lines = (text: string) => text.split('\n');

/** A 1.28 node (kubelite) with a hostile args-dir entry, and hostile values and a comment in kube-scheduler. */
async function kubeliteNode(): Promise<string> {
  const root = await makeNode({ version: '1.28' });
  const args = path.join(root, ARGS);
  await fs.writeFile(path.join(args, HOSTILE_NAME), '--a=b\n');
  const scheduler = path.join(args, 'kube-scheduler');
  const text = (await fs.readFile(scheduler, 'utf8'))
    .replace('--profiling=false', '# set by \u001b[31mops\u001b[0m \u202eevil\u202c\n--profiling=true\u2028');
  await fs.writeFile(scheduler, `${text}--bind-address=0.0.0.0\u001b[2J\n`);
  return root;
}

/** A 1.18 node (bash reads the args): a quoted value that spans lines. */
async function bashNode(): Promise<string> {
  const root = await makeNode({ version: '1.18' });
  await fs.appendFile(path.join(root, ARGS, 'kube-scheduler'), '--bind-address="0.0.0.0\nerror: fake\u001b[2J\u2028"\n');
  return root;
}

test('inspect: a file name with a newline and escape sequences is one escaped table cell, not a fake error line', async () => {
  const root = await kubeliteNode();
  const run = runBin(['--root', root, 'inspect']);
  assert.is(run.status, 0, run.stderr);
  assert.is(run.stderr, '');
  assertClean(run, 'inspect');
  const row = lines(run.stdout).filter((line) => line.includes('no known consumer'));
  assert.equal(row, [`  ${HOSTILE_NAME_SHOWN}  flags      none      - (flag file with no known consumer)             0644  root:root      -`]);
  assert.ok(
    lines(run.stdout).includes('  kube-scheduler:5  warning  readers-differ: bash reads ["--profiling=true\\u2028"] but kubelite reads ["--profiling=true"]: the line is read differently'),
    run.stdout,
  );
  // The JSON view is JSON: the name as it is once parsed, and no raw control or separator in the text.
  const json = runBin(['--root', root, 'inspect', '--json']);
  assert.is(json.status, 0, json.stderr);
  assert.equal(rawControls(json.stdout.replace(/\n/g, '')), []);
  assert.ok(JSON.parse(json.stdout).files.some((f: { name: string }) => f.name === HOSTILE_NAME));
});

test('inspect with colour: the only escape sequences are harden’s own colours', async () => {
  const root = await kubeliteNode();
  const run = runBin(['--root', root, 'inspect'], { FORCE_COLOR: '1' });
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stdout, /\u001b\[1m/);
  assertClean(run, 'inspect (colour)', true);
  assert.ok(run.stdout.includes(HOSTILE_NAME_SHOWN));
});

test('check: found values and reasons with control characters are escaped, on one line each', async () => {
  const root = await kubeliteNode();
  const run = runBin(['--root', root, 'check']);
  assert.is(run.status, 2, run.stderr);
  assertClean(run, 'check');
  const out = lines(run.stdout);
  const at = out.indexOf('[FAIL]           medium    kube-scheduler.bind-address [CIS 1.4.2]');
  assert.ok(at >= 0, run.stdout);
  assert.equal(out.slice(at, at + 3), [
    '[FAIL]           medium    kube-scheduler.bind-address [CIS 1.4.2]',
    '                           Serve the scheduler only on localhost',
    '                           found: --bind-address=0.0.0.0\\x1b[2J (line 6); --bind-address must be 127.0.0.1, found 0.0.0.0\\x1b[2J',
  ]);
});

test('check: a quoted value that spans lines (bash) is shown on one line', async () => {
  const root = await bashNode();
  const run = runBin(['--root', root, 'check']);
  assert.is(run.status, 2, run.stderr);
  assertClean(run, 'check');
  const out = lines(run.stdout);
  const at = out.indexOf('[FAIL]           medium    kube-scheduler.bind-address [CIS 1.4.2]');
  assert.ok(at >= 0, run.stdout);
  assert.is(out[at + 2], '                           found: --bind-address=0.0.0.0\\nerror: fake\\x1b[2J\\u2028 (line 3); --bind-address must be 127.0.0.1, found 0.0.0.0\\nerror: fake\\x1b[2J\\u2028');
});

test('check --format junit and sarif: well-formed, with no character XML 1.0 forbids', async () => {
  const root = await bashNode();
  const junit = runBin(['--root', root, 'check', '--format', 'junit']);
  assert.is(junit.status, 2, junit.stderr);
  assert.not.match(junit.stdout, /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]/);
  assert.ok(junit.stdout.includes('found 0.0.0.0\\nerror: fake\\x1b[2J\\u2028'), junit.stdout);
  const sarif = runBin(['--root', root, 'check', '--format', 'sarif']);
  assert.is(sarif.status, 2, sarif.stderr);
  assert.equal(rawControls(sarif.stdout.replace(/\n/g, '')), []);
  const messages = JSON.parse(sarif.stdout).runs[0].results.map((r: { message: { text: string } }) => r.message.text);
  assert.ok(messages.some((m: string) => m.includes('found 0.0.0.0\nerror: fake\u001b[2J\u2028')), messages.join('\n'));
});

test('plan: diff lines and reasons with control characters are escaped; JSON stays the same plan', async () => {
  const root = await kubeliteNode();
  const run = runBin(['--root', root, 'plan']);
  assert.is(run.status, 0, run.stderr);
  assertClean(run, 'plan');
  const out = lines(run.stdout);
  const at = out.indexOf('~ /var/snap/microk8s/current/args/kube-scheduler (snap.microk8s.daemon-kubelite)');
  assert.ok(at >= 0, run.stdout);
  assert.equal(out.slice(at, out.indexOf('', at)), [
    '~ /var/snap/microk8s/current/args/kube-scheduler (snap.microk8s.daemon-kubelite)',
    '    @@ -2,5 +2,5 @@',
    '      --leader-elect-lease-duration=60s',
    '      --leader-elect-renew-deadline=30s',
    '      # set by \\x1b[31mops\\x1b[0m \\u202eevil\\u202c',
    '    - --profiling=true\\u2028',
    '    - --bind-address=0.0.0.0\\x1b[2J',
    '    + --profiling=false',
    '    # kube-scheduler.profiling: --profiling must be false, found true',
    '    + --bind-address=127.0.0.1',
    '    # kube-scheduler.bind-address: --bind-address must be 127.0.0.1, found 0.0.0.0\\x1b[2J',
  ]);
  const json = runBin(['--root', root, 'plan', '--json']);
  assert.is(json.status, 0, json.stderr);
  assert.equal(rawControls(json.stdout.replace(/\n/g, '')), []);
  const file = JSON.parse(json.stdout).files.find((f: { path: string }) => f.path.endsWith('/kube-scheduler'));
  assert.ok(file.before.includes('# set by \u001b[31mops\u001b[0m \u202eevil\u202c\n--profiling=true\u2028\n'));
});

test('plan: a refusal quoting a value that spans lines prints one escaped line per problem', async () => {
  const root = await bashNode();
  const run = runBin(['--root', root, 'plan']);
  assert.is(run.status, 1);
  assert.is(run.stdout, '');
  assertClean(run, 'plan refused');
  const errors = lines(run.stderr).filter(Boolean);
  assert.ok(errors.every((line) => /^(error|hint): /.test(line)), run.stderr);
  assert.ok(
    errors.includes('error: plan refused: rules kube-scheduler.bind-address, kube-scheduler.profiling: /var/snap/microk8s/current/args/kube-scheduler: quote-state: line 4 was inside a quoted string, construct or line continuation that begins on line 3; after the edit bash would read it as words of its own, and run any $(...) in it'),
    run.stderr,
  );
});

test('ports: a bind address with an escape sequence is one escaped table cell', async () => {
  const root = await kubeliteNode();
  const run = runBin(['--root', root, 'ports']);
  assert.is(run.status, 0, run.stderr);
  assertClean(run, 'ports');
  assert.ok(lines(run.stdout).includes('10259  scheduler                kubelite         0.0.0.0\\x1b[2J       unknown    TLS + authn        fine'), run.stdout);
});

test('snapshots diff and rollback: file lines with colour codes and escapes are shown escaped', async () => {
  const root = await kubeliteNode();
  const apply = runBin(['--root', root, 'apply', '--only', 'kube-scheduler.bind-address', '--yes', '--no-restart']);
  assert.is(apply.status, 0, apply.stderr);
  const [{ id }] = JSON.parse(runBin(['--root', root, 'snapshots', 'list', '--json']).stdout);
  const diff = runBin(['--root', root, 'snapshots', 'diff', id]);
  assert.is(diff.status, 0, diff.stderr);
  assertClean(diff, 'snapshots diff');
  assert.equal(lines(diff.stdout), [
    `Changes since snapshot ${id} on ${root} (apply, profile baseline, MicroK8s 1.28.0)`,
    '',
    'Symbols: + add, ~ change, - remove',
    '',
    '~ /var/snap/microk8s/current/args/kube-scheduler (snap.microk8s.daemon-kubelite)',
    '    @@ -3,4 +3,4 @@',
    '      --leader-elect-renew-deadline=30s',
    '      # set by \\x1b[31mops\\x1b[0m \\u202eevil\\u202c',
    '      --profiling=true\\u2028',
    '    - --bind-address=0.0.0.0\\x1b[2J',
    '    + --bind-address=127.0.0.1',
    '    # kube-scheduler.bind-address',
    '',
    'Changed: 1 file since the snapshot, 0 as it holds them.',
    '',
  ]);
  const rollback = runBin(['--root', root, 'rollback', id, '--yes', '--no-restart']);
  assert.is(rollback.status, 0, rollback.stderr);
  assertClean(rollback, 'rollback');
  assert.ok(lines(rollback.stdout).includes('    + --bind-address=0.0.0.0\\x1b[2J'), rollback.stdout);
});

test('plan: a list flag whose value spans lines is refused plainly, not an internal error', async () => {
  const root = await makeNode({ version: '1.18' });
  const apiserver = path.join(root, ARGS, 'kube-apiserver');
  const text = await fs.readFile(apiserver, 'utf8');
  await fs.writeFile(apiserver, text.replace(/--authorization-mode=.*/, '--authorization-mode="AlwaysAllow\nerror: fake \u001b[31mred\u2028x"'));
  const run = runBin(['--root', root, 'plan']);
  assert.is(run.status, 1);
  assert.is(run.stdout, '');
  assert.is(
    run.stderr,
    'error: plan refused: rule apiserver.authorization-mode.node-rbac: harden will not write --authorization-mode="AlwaysAllow\\nerror: fake \\x1b[31mred\\u2028x,Node,RBAC": it holds U+000A (a line feed) at character 12; a value may hold only ASCII letters, digits and ! # % * + , - . / : = ? @ [ ] ^ _ ~, and $ only in ${SNAP}, ${SNAP_DATA} or ${SNAP_COMMON}\n' +
      'hint: nothing was written; fix what is named, or leave a rule out with --skip RULE (apiserver.authorization-mode.node-rbac)\n',
  );
});

test('an error quoting a hostile path is one escaped line', async () => {
  const root = await makeNode({ version: '1.28' });
  const args = path.join(root, ARGS);
  // An args file symlinked out of the args dir: the error names the link and its target.
  await fs.symlink('/etc/passwd\nerror: fake\u001b[2J', path.join(args, 'kube\u001b[31mlet\u2028'));
  const run = runBin(['--root', root, 'inspect']);
  assert.is(run.status, 1);
  assertClean(run, 'error');
  assert.is(
    run.stderr,
    'error: /var/snap/microk8s/current/args/kube\\x1b[31mlet\\u2028 is a symlink to /etc/passwd\\nerror: fake\\x1b[2J, which leads outside the args dir\n' +
      'hint: replace the link with a regular file; harden never follows an args file out of the args dir\n',
  );
});

test.run();
