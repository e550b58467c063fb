import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runInProcessWith } from '../helpers/cli.js';
import { layOutNode, makeNode, makeTempDir } from '../helpers/node-root.js';

/** The clock the waivers are judged by: noon UTC on 7 December 2026. */
const NOW = new Date('2026-12-07T12:00:00Z');

/** Two failing kubelet rules, the second needing the first, and one that passes. */
const PROFILE = `apiVersion: harden/v1
kind: Profile
name: mine
title: A test profile
rules:
  - id: kubelet.ro
    title: Read-only port one
    rationale: R
    severity: high
    component: kubelet
    operation: set-flag
    flag: --read-only-port
    value: "1"
  - id: kubelet.anon
    title: Anonymous auth on
    rationale: R
    severity: low
    component: kubelet
    operation: set-flag
    flag: --anonymous-auth
    value: "true"
    requires:
      - rule: kubelet.ro
  - id: kubelet.webhook
    title: Token webhook
    rationale: R
    severity: medium
    component: kubelet
    operation: set-flag
    flag: --authentication-token-webhook
    value: "true"
`;

const HEAD = 'apiVersion: harden/v1\nkind: Waivers\nwaivers:\n';
const RO = '  - rule: kubelet.ro\n    justification: the port is firewalled\n    owner: ops@example.com\n    expires: 2026-12-07\n';
const ANON = '  - rule: "kubelet.an*"\n    justification: lab node\n';

interface Setup {
  readonly root: string;
  readonly dir: string;
  readonly profile: string;
  /** Writes a waiver file in the temp dir; returns its path. */
  waivers(text: string, name?: string): Promise<string>;
  run(args: readonly string[], now?: Date): Promise<{ status: number | null; stdout: string; stderr: string }>;
}

async function setup(): Promise<Setup> {
  const root = await makeNode({ version: '1.28' });
  const dir = await makeTempDir();
  const profile = path.join(dir, 'mine.yaml');
  await fs.writeFile(profile, PROFILE);
  const placeholders = (text: string) => text.split(dir).join('<tmp>').split(root).join('<root>');
  return {
    root,
    dir,
    profile,
    async waivers(text, name = 'waivers.yaml') {
      const file = path.join(dir, name);
      await fs.writeFile(file, text);
      return file;
    },
    async run(args, now = NOW) {
      const run = await runInProcessWith(['--root', root, ...args], { change: { now: () => now } });
      return { status: run.status, stdout: placeholders(run.stdout), stderr: placeholders(run.stderr) };
    },
  };
}

test('check: the waived failures are WAIVED with their justification, and with nothing else failing the run exits 0', async () => {
  const s = await setup();
  const file = await s.waivers(`${HEAD}${RO}${ANON}`);
  const run = await s.run(['check', '--profile', s.profile, '--waivers', file]);
  assert.is(run.stderr, '');
  assert.is(run.stdout, `Profile mine.yaml "mine" on <root> (MicroK8s 1.28.0)
[WAIVED]         high      kubelet.ro
                           Read-only port one
                           found: --read-only-port=0 (line 12); --read-only-port must be 1, found 0
                           waived by ops@example.com until 2026-12-07 (<tmp>/waivers.yaml line 4): the port is firewalled
[WAIVED]         low       kubelet.anon
                           Anonymous auth on
                           found: --anonymous-auth=false (line 4); --anonymous-auth must be true, found false
                           waived (<tmp>/waivers.yaml line 8): lab node
[PASS]           medium    kubelet.webhook
                           Token webhook
                           found: --authentication-token-webhook=true (line 11); --authentication-token-webhook is true

3 rules: 1 passed, 0 failed, 0 blocked, 2 waived, 0 manual, 0 not applicable — complies with profile mine.yaml "mine"
Score: medium 1/1 (100%)
`);
  assert.is(run.status, 0);
});

test('check: a waived rule meets no requirement: the rule that needs it is BLOCKED, and the run exits 2', async () => {
  const s = await setup();
  const file = await s.waivers(`${HEAD}${RO}`);
  const run = await s.run(['check', '--profile', s.profile, '--waivers', file, '--json']);
  const doc = JSON.parse(run.stdout);
  const anon = doc.results.find((r: { id: string }) => r.id === 'kubelet.anon');
  assert.equal([anon.status, anon.reason], ['BLOCKED', '--anonymous-auth must be true, found false; blocked: needs rule kubelet.ro, which is WAIVED']);
  assert.is(run.status, 2);
});

test('check: a waiver expired at the end of its day (UTC) leaves the rule failing and says so; exit 2', async () => {
  const s = await setup();
  const file = await s.waivers(`${HEAD}${RO}${ANON}`);
  const run = await s.run(['check', '--profile', s.profile, '--waivers', file, '--only', 'kubelet.ro'], new Date('2026-12-08T00:00:00Z'));
  assert.is(run.stdout, `Profile mine.yaml "mine" on <root> (MicroK8s 1.28.0)
[FAIL]           high      kubelet.ro
                           Read-only port one
                           found: --read-only-port=0 (line 12); --read-only-port must be 1, found 0
                           waiver expired on 2026-12-07 (<tmp>/waivers.yaml line 4 by ops@example.com): the port is firewalled
                           fix: harden --root <root> plan --profile <tmp>/mine.yaml --only kubelet.ro

1 rule: 0 passed, 1 failed, 0 blocked, 0 manual, 0 not applicable
Score: high 0/1 (0%)
`);
  assert.is(run.stderr, 'warning: <tmp>/waivers.yaml:8: waiver for kubelet.an* matches no failing rule\n');
  assert.is(run.status, 2);
  // A second before midnight it still held.
  const before = await s.run(['check', '--profile', s.profile, '--waivers', file, '--only', 'kubelet.ro'], new Date('2026-12-07T23:59:59Z'));
  assert.is(before.status, 0, before.stdout);
});

test('check: waivers that excuse nothing are unused (stderr, and in --json), one naming no rule of the profile warned about once', async () => {
  const s = await setup();
  const file = await s.waivers(`${HEAD}${RO}  - rule: kubelet.webhook\n    justification: passes anyway\n  - rule: kubelet.typo\n    justification: misspelt\n`);
  const run = await s.run(['check', '--profile', s.profile, '--waivers', file, '--json']);
  assert.is(run.stderr, 'warning: <tmp>/waivers.yaml:10: waiver 3: rule "kubelet.typo" names no rule of profile mine\nwarning: <tmp>/waivers.yaml:8: waiver for kubelet.webhook matches no failing rule\n');
  const doc = JSON.parse(run.stdout);
  assert.is(doc.schema, 'harden.check/v1');
  assert.equal(doc.waivers.files, [path.join('<tmp>', 'waivers.yaml')]);
  assert.match(doc.waivers.sha256, /^sha256:[0-9a-f]{64}$/);
  assert.equal(doc.waivers.unused, [
    { file: '<tmp>/waivers.yaml', line: 8, rule: 'kubelet.webhook', nodes: null, justification: 'passes anyway', owner: null, expires: null },
    { file: '<tmp>/waivers.yaml', line: 10, rule: 'kubelet.typo', nodes: null, justification: 'misspelt', owner: null, expires: null },
  ]);
  const ro = doc.results.find((r: { id: string }) => r.id === 'kubelet.ro');
  assert.equal(ro.waiver, { justification: 'the port is firewalled', owner: 'ops@example.com', expires: '2026-12-07', file: '<tmp>/waivers.yaml', line: 4, status: 'FAIL', expired: false });
  assert.equal(doc.summary.counts, { PASS: 1, FAIL: 0, MANUAL: 0, BLOCKED: 1, 'NOT APPLICABLE': 0, WAIVED: 1, 'NOT ASSESSED': 0 });
  // Without --waivers the document is as before: no `waivers` field.
  assert.is('waivers' in JSON.parse((await s.run(['check', '--profile', s.profile, '--json'])).stdout), false);
});

test('check: JUnit skips a waived rule with the waiver; SARIF suppresses it with the justification', async () => {
  const s = await setup();
  const file = await s.waivers(`${HEAD}${RO}${ANON}`);
  const junit = await s.run(['check', '--profile', s.profile, '--waivers', file, '--format', 'junit']);
  assert.ok(junit.stdout.includes('<testcase classname="mine.kubelet" name="kubelet.ro"><skipped message="WAIVED: waived by ops@example.com until 2026-12-07 (<tmp>/waivers.yaml line 4): the port is firewalled"/></testcase>'), junit.stdout);
  const sarif = JSON.parse((await s.run(['check', '--profile', s.profile, '--waivers', file, '--format', 'sarif'])).stdout);
  const ro = sarif.runs[0].results.find((r: { ruleId: string }) => r.ruleId === 'kubelet.ro');
  assert.equal(ro.suppressions, [{ kind: 'external', status: 'accepted', justification: 'the port is firewalled', location: { physicalLocation: { artifactLocation: { uri: '<tmp>/waivers.yaml' }, region: { startLine: 4 } } }, properties: { owner: 'ops@example.com', expires: '2026-12-07' } }]);
});

test('check --roots: a waiver with nodes holds only on the nodes its globs name; --waivers repeats', async () => {
  const fleet = await makeTempDir();
  for (const name of ['cp-1', 'w-1']) {
    await fs.mkdir(path.join(fleet, name));
    await layOutNode(path.join(fleet, name), { version: '1.28' });
  }
  const s = await setup();
  const first = await s.waivers(`${HEAD}  - rule: kubelet.ro\n    nodes: ["*/cp-*"]\n    justification: firewalled on the control planes\n`, 'a.yaml');
  const second = await s.waivers(`${HEAD}${ANON}`, 'b.yaml');
  const run = await runInProcessWith(['check', '--roots', fleet, '--profile', s.profile, '--waivers', first, '--waivers', second, '--json'], { change: { now: () => NOW } });
  const doc = JSON.parse(run.stdout);
  assert.equal(Object.keys(doc), [path.join(fleet, 'cp-1'), path.join(fleet, 'w-1')], run.stderr);
  const status = (node: string, id: string) => doc[path.join(fleet, node)].results.find((r: { id: string }) => r.id === id).status;
  assert.equal([status('cp-1', 'kubelet.ro'), status('cp-1', 'kubelet.anon'), status('w-1', 'kubelet.ro'), status('w-1', 'kubelet.anon')], ['WAIVED', 'WAIVED', 'FAIL', 'WAIVED']);
  assert.is(run.stderr, '');
  assert.is(run.status, 2);
});

test('a malformed waiver file stops check, plan and apply: one line per problem, a hint, exit 1, nothing written', async () => {
  const s = await setup();
  const file = await s.waivers(`${HEAD}  - rule: kubelet.ro\n    justifcation: x\n    expires: 2026-13-01\n`);
  const expected = `error: <tmp>/waivers.yaml:4: waiver 1: missing field "justification"
error: <tmp>/waivers.yaml:5: waiver 1: unknown field "justifcation"; did you mean "justification"?
hint: fix the waiver file; README.md (Waivers) describes the format
`;
  for (const args of [['check'], ['plan', '--out', path.join(s.dir, 'plan.json')], ['apply', '--yes', '--no-restart']]) {
    const run = await s.run([...args, '--profile', s.profile, '--waivers', file]);
    assert.equal([run.status, run.stdout, run.stderr], [1, '', expected], args.join(' '));
  }
  assert.is(await fs.stat(path.join(s.dir, 'plan.json')).then(() => true, () => false), false);
  assert.is(await fs.readFile(path.join(s.root, 'var/snap/microk8s/current/args/kubelet'), 'utf8').then((text) => text.includes('--read-only-port=0')), true);
  const invalidDate = await s.waivers(`${HEAD}  - rule: kubelet.ro\n    justification: x\n    expires: 2026-11-31\n`, 'date.yaml');
  assert.is((await s.run(['check', '--waivers', invalidDate])).stderr, 'error: <tmp>/date.yaml:6: waiver 1: expires: 2026-11-31 is not a real date\nhint: fix the waiver file; README.md (Waivers) describes the format\n');
  assert.is((await s.run(['check', '--waivers', path.join(s.dir, 'none.yaml')])).stderr, 'error: cannot read the waiver file <tmp>/none.yaml: no such file\nhint: check the path given to --waivers\n');
});

test('plan: waived rules are not planned and are shown under Waived; a saved plan records the waivers', async () => {
  const s = await setup();
  const file = await s.waivers(`${HEAD}${RO}`);
  const out = path.join(s.dir, 'plan.json');
  const run = await s.run(['plan', '--profile', s.profile, '--waivers', file, '--out', out]);
  assert.ok(run.stdout.includes(`Blocked (harden will not change these until what they need is in place):
  kubelet.anon: --anonymous-auth must be true, found false; blocked: needs rule kubelet.ro, which is WAIVED

Waived (left alone: a waiver excuses them):
  kubelet.ro: by ops@example.com until 2026-12-07 (<tmp>/waivers.yaml line 4): the port is firewalled
`), run.stdout);
  assert.ok(run.stdout.includes(`No changes. Still in the way: 1 rule blocked, 0 manual.

Saved the plan to <tmp>/plan.json: apply it with harden --root <root> apply <tmp>/plan.json --waivers <tmp>/waivers.yaml
`), run.stdout);
  const saved = JSON.parse(await fs.readFile(out, 'utf8'));
  assert.equal(saved.waivers.waived, [{ ruleId: 'kubelet.ro', justification: 'the port is firewalled', owner: 'ops@example.com', expires: '2026-12-07', file, line: 4 }]);
  assert.is((await s.run(['plan', '--in', out])).stdout.includes('Waived (left alone: a waiver excuses them):\n  kubelet.ro: by ops@example.com'), true);
  assert.equal(await s.run(['plan', '--in', out, '--waivers', file]), { status: 1, stdout: '', stderr: 'error: --in shows a saved plan and does not take --waivers\nhint: the plan file already says what it changes; to make a new plan, leave out --in\n' });
});

test('apply PLAN: refused without the waivers it was made with, with others, and with some when it was made without', async () => {
  const s = await setup();
  const file = await s.waivers(`${HEAD}${ANON}`);
  const other = await s.waivers(`${HEAD}${ANON}  - rule: kubelet.webhook\n    justification: x\n`, 'other.yaml');
  const withWaivers = path.join(s.dir, 'with.json');
  const without = path.join(s.dir, 'without.json');
  assert.is((await s.run(['plan', '--profile', s.profile, '--waivers', file, '--out', withWaivers])).status, 0);
  assert.is((await s.run(['plan', '--profile', s.profile, '--out', without])).status, 0);
  const short = JSON.parse(await fs.readFile(withWaivers, 'utf8')).waivers.sha256.slice(7, 23);
  assert.equal(await s.run(['apply', withWaivers, '--yes', '--no-restart']), {
    status: 1, stdout: '', stderr: `error: <tmp>/with.json was made with the waivers <tmp>/waivers.yaml (sha256 ${short}…)\nhint: apply it with --waivers <tmp>/waivers.yaml\n`,
  });
  assert.equal(await s.run(['apply', withWaivers, '--yes', '--no-restart', '--waivers', other]), {
    status: 1, stdout: '', stderr: `error: the waivers given are not those <tmp>/with.json was made with (<tmp>/waivers.yaml, sha256 ${short}…)\nhint: apply it with the waivers it was made with, or make a new plan with these: harden plan --waivers FILE --out\n`,
  });
  assert.equal(await s.run(['apply', without, '--yes', '--no-restart', '--waivers', file]), {
    status: 1, stdout: '', stderr: 'error: <tmp>/without.json was made without waivers, and --waivers was given\nhint: apply it without --waivers, or make a new plan with harden plan --waivers FILE --out\n',
  });
  const kubelet = path.join(s.root, 'var/snap/microk8s/current/args/kubelet');
  const before = await fs.readFile(kubelet, 'utf8');
  // With the same waivers it is applied: the waived rule's flag is left alone, the other written.
  const applied = await s.run(['apply', withWaivers, '--yes', '--no-restart', '--waivers', file]);
  assert.is(applied.status, 0, applied.stderr);
  const after = await fs.readFile(kubelet, 'utf8');
  assert.is(after, before.replace('--read-only-port=0', '--read-only-port=1'));
});

test('apply PLAN: refused when a rule it leaves alone as waived is no longer waived (its waiver expired since)', async () => {
  const s = await setup();
  const file = await s.waivers(`${HEAD}${RO}${ANON}`);
  const saved = path.join(s.dir, 'plan.json');
  assert.is((await s.run(['plan', '--profile', s.profile, '--waivers', file, '--out', saved])).status, 0);
  const run = await s.run(['apply', saved, '--yes', '--no-restart', '--waivers', file], new Date('2026-12-08T00:00:00Z'));
  assert.equal(run, {
    status: 1,
    stdout: '',
    stderr: 'error: <tmp>/plan.json leaves kubelet.ro (its waiver expired on 2026-12-07) alone as waived, and it fails now\nhint: renew the waiver, or make a new plan with harden plan --out, review it, and apply that\n',
  });
});

test.run();
