// `harden check --format html`: the page the renderer writes (exact bytes of its body, escaping of every node
// string), and the command: each failing rule's fix as `harden plan --only ID` prints it, a fleet's matrix and
// per-node verdicts as --format json says them, with --roots and with --cluster.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RuleResult } from '../../src/core/evaluate.js';
import type { Rule } from '../../src/core/profile.js';
import { checkHtml, type ReportedNode } from '../../src/ui/check-html.js';
import { shown } from '../../src/ui/terminal-text.js';
import { runBin, runInProcessWith } from '../helpers/cli.js';
import { layOutNode, makeNode, makeTempDir } from '../helpers/node-root.js';

const result = (over: Partial<RuleResult>): RuleResult => ({
  id: 'kubelet.read-only-port', title: 'Close the read-only port', severity: 'high', component: 'kubelet', status: 'PASS',
  found: '--read-only-port=0 (line 12)', reason: '--read-only-port is 0', cis: ['4.2.4'], file: '/var/snap/microk8s/current/args/kubelet', line: 12, ...over,
});

const RULES = [
  { id: 'kubelet.read-only-port', title: 'Close the read-only port', rationale: 'It serves pod data without authentication.', severity: 'high', component: 'kubelet', operation: 'flag', references: [{ cis: '4.2.4', benchmark: 'cis-1.24-microk8s' }, { doc: 'https://microk8s.io/docs/services-and-ports', title: 'Services and ports' }] },
] as unknown as Rule[];

const node = (over: Partial<ReportedNode> = {}): ReportedNode => ({ root: '/srv/n1', profile: { name: 'cis', source: 'profiles/cis.yaml' }, version: '1.28.15', results: [], ...over });

const bodyOf = (page: string) => page.slice(page.indexOf('<body>\n') + 7, page.indexOf('\n</body>'));

test('one node: facts, verdict, counts of all seven statuses, score, then the rules, what needs work first, with the fix and the waiver', () => {
  const page = checkHtml({
    nodes: [node({
      results: [
        result({}),
        result({ id: 'apiserver.profiling', title: 'No profiling', severity: 'medium', component: 'kube-apiserver', status: 'FAIL', found: 'absent (default true)', reason: 'profiling is on by default', cis: [], file: null, line: null }),
        result({ id: 'kubelet.anonymous-auth', status: 'WAIVED', found: '--anonymous-auth=true (line 4)', reason: '--anonymous-auth is true', cis: ['4.2.1'], line: 4, waiver: { justification: 'lab node', owner: 'sec@example.com', expires: '2026-12-31', file: 'waivers.yaml', line: 3, status: 'FAIL', expired: false } }),
      ],
      fixes: { 'apiserver.profiling': '~ /args/kube-apiserver (snap.microk8s.daemon-kubelite)\n    @@ -1,1 +1,2 @@\n      --secure-port=16443\n    + --profiling=false\n\nPlan: 1 to add, 0 to change, 0 to remove in 1 file.\n' },
    })],
    rules: RULES,
    toolVersion: '0.1.0',
  });
  assert.ok(page.startsWith('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'));
  assert.ok(page.includes(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">\n<title>harden check: profile cis on /srv/n1</title>\n<style>`));
  assert.ok(page.includes('@media print{'));
  assert.ok(page.endsWith('\n</body>\n</html>\n'));
  assert.is(bodyOf(page), [
    '<header><h1>harden check: profile cis on /srv/n1</h1><p class="meta">harden 0.1.0 · profile cis (profiles/cis.yaml)</p></header>',
    '<section id="summary"><h2>Summary</h2>',
    '<table class="facts"><tr><th scope="row">Root</th><td>/srv/n1</td></tr><tr><th scope="row">MicroK8s</th><td>1.28.15</td></tr><tr><th scope="row">Profile</th><td>cis (profiles/cis.yaml)</td></tr><tr><th scope="row">Verdict</th><td><strong class="bad">does not comply</strong><br>3 rules: 1 passed, 1 failed, 0 blocked, 1 waived, 0 manual, 0 not applicable</td></tr></table>',
    '<div class="tables"><table class="counts"><caption>Rules per status</caption><thead><tr><th>Status</th><th>Rules</th></tr></thead><tbody><tr><td><span class="st pass">PASS</span></td><td class="n">1</td></tr><tr><td><span class="st fail">FAIL</span></td><td class="n">1</td></tr><tr><td><span class="st blocked">BLOCKED</span></td><td class="n">0</td></tr><tr><td><span class="st waived">WAIVED</span></td><td class="n">1</td></tr><tr><td><span class="st manual">MANUAL</span></td><td class="n">0</td></tr><tr><td><span class="st not-assessed">NOT ASSESSED</span></td><td class="n">0</td></tr><tr><td><span class="st not-applicable">NOT APPLICABLE</span></td><td class="n">0</td></tr></tbody></table><table class="score"><caption>Score per severity</caption><thead><tr><th>Severity</th><th>Passed</th><th>Score</th></tr></thead><tbody><tr><th scope="row">critical</th><td class="n">—</td><td>nothing scored</td></tr><tr><th scope="row">high</th><td class="n">1/1</td><td>100%</td></tr><tr><th scope="row">medium</th><td class="n">0/1</td><td>0%</td></tr><tr><th scope="row">low</th><td class="n">—</td><td>nothing scored</td></tr></tbody></table></div></section>',
    '<section id="rules"><h2>Rules</h2>',
    '<p class="meta">What needs work first: failed, blocked, not assessed, waived, manual, passed, then not applicable.</p>',
    '<section class="rule fail" id="rule-apiserver.profiling"><h3><span class="st fail">FAIL</span> <code>apiserver.profiling</code></h3>',
    '<p class="title">No profiling <span class="meta">medium · kube-apiserver</span></p>',
    '<dl class="found"><dt>Found</dt><dd><code>absent (default true)</code></dd><dt>Why</dt><dd>profiling is on by default</dd><dt>Fix</dt><dd>what <code>harden plan</code> changes for this rule:<pre class="diff">~ /args/kube-apiserver (snap.microk8s.daemon-kubelite)\n<span class="hunk">    @@ -1,1 +1,2 @@</span>\n      --secure-port=16443\n<ins>    + --profiling=false</ins>\n\nPlan: 1 to add, 0 to change, 0 to remove in 1 file.</pre></dd></dl></section>',
    '<section class="rule waived" id="rule-kubelet.anonymous-auth"><h3><span class="st waived">WAIVED</span> <code>kubelet.anonymous-auth</code></h3>',
    '<p class="title">Close the read-only port <span class="meta">high · kubelet · CIS 4.2.1</span></p>',
    '<dl class="found"><dt>Found</dt><dd><code>--anonymous-auth=true (line 4)</code> in <code>/var/snap/microk8s/current/args/kubelet</code> line 4</dd><dt>Why</dt><dd>--anonymous-auth is true</dd><dt>Waiver</dt><dd class="">waived by sec@example.com until 2026-12-31 (waivers.yaml line 3): lab node</dd></dl></section>',
    '<section class="rule pass" id="rule-kubelet.read-only-port"><h3><span class="st pass">PASS</span> <code>kubelet.read-only-port</code></h3>',
    '<p class="title">Close the read-only port <span class="meta">high · kubelet · CIS 4.2.4</span></p>',
    '<p><strong>Rationale.</strong> It serves pod data without authentication.</p>',
    '<p><strong>References.</strong></p><ul class="refs"><li>CIS 4.2.4 (cis-1.24-microk8s)</li><li>Services and ports: <a href="https://microk8s.io/docs/services-and-ports">https://microk8s.io/docs/services-and-ports</a></li></ul>',
    '<dl class="found"><dt>Found</dt><dd><code>--read-only-port=0 (line 12)</code> in <code>/var/snap/microk8s/current/args/kubelet</code> line 12</dd><dt>Why</dt><dd>--read-only-port is 0</dd></dl></section>',
    '</section>',
  ].join('\n'));
});

test('node strings are escaped everywhere: no markup of theirs reaches the page (<script>, </style>, quotes, control characters)', () => {
  const evil = `x</style><script>alert(1)</script><img src=x onerror="alert(2)">'\u001b[31m`;
  const page = checkHtml({
    nodes: [
      node({ root: `/srv/${evil}`, version: evil, profile: { name: evil, source: evil, label: evil }, results: [result({ id: `kubelet.${evil}`, title: evil, found: evil, reason: evil, cis: [evil], file: evil, status: 'FAIL', waiver: { justification: evil, owner: evil, expires: evil, file: evil, line: 1, status: 'FAIL', expired: true } })], fixes: { [`kubelet.${evil}`]: `    + ${shown(evil)}\n` } }),
      node({ root: evil, error: { message: evil, hint: evil } }),
    ],
    rules: [{ ...RULES[0], id: `kubelet.${evil}`, rationale: evil, references: [{ doc: `javascript:${evil}`, title: evil }, { cis: evil, benchmark: evil }] }] as unknown as Rule[],
    toolVersion: evil,
    cluster: evil,
  });
  assert.is(page.match(/<script/gi), null);
  assert.is(page.match(/<img/gi), null);
  assert.is(page.match(/<\/style>/g)!.length, 1, 'only the page\'s own style element ends');
  assert.is(page.match(/<style>/g)!.length, 1);
  assert.is(page.match(/\u001b/g), null);
  assert.is(page.match(/href="javascript/g), null, 'only web addresses are links');
  assert.ok(page.includes('x&lt;/style&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&quot;alert(2)&quot;&gt;&#39;\\x1b[31m'));
});

test('a fleet: a row per node, the rules × nodes matrix, each rule once with the nodes that found the same thing together', () => {
  const pass = result({});
  const fail = result({ status: 'FAIL', found: 'absent (default 10255)', reason: '--read-only-port is absent', line: null });
  const page = checkHtml({
    nodes: [node({ root: '/a', results: [pass] }), node({ root: '/b', results: [fail] }), node({ root: '/c', results: [pass] }), node({ root: '/d', results: [pass] }), node({ root: '/e', version: null, error: { message: 'cannot read /e', hint: null } })],
    rules: RULES,
    toolVersion: '0.1.0',
  });
  assert.ok(page.includes('<title>harden check: profile cis on 5 nodes</title>'));
  assert.ok(page.includes('<p><strong>5 nodes: 3 comply, 1 do not, 1 could not be checked</strong></p>'));
  assert.ok(page.includes('<tr id="n5"><td class="n">5</td><td>/e</td><td>unknown</td><td colspan="9"><span class="st fail">not checked</span> error: cannot read /e</td></tr>'));
  assert.ok(page.includes('<tr><th>Rule</th><th title="/a"><a href="#n1">1</a></th><th title="/b"><a href="#n2">2</a></th><th title="/c"><a href="#n3">3</a></th><th title="/d"><a href="#n4">4</a></th><th title="/e"><a href="#n5">5</a></th></tr>'));
  assert.ok(page.includes('<tr><th scope="row"><a href="#rule-kubelet.read-only-port">kubelet.read-only-port</a></th><td class="pass">PASS</td><td class="fail">FAIL</td><td class="pass">PASS</td><td class="pass">PASS</td><td class="none">not checked</td></tr>'));
  assert.ok(page.includes('<section class="rule mixed" id="rule-kubelet.read-only-port"><h3><span class="st pass">PASS</span> on 3 nodes, <span class="st fail">FAIL</span> on 1 node <code>kubelet.read-only-port</code></h3>'));
  assert.ok(page.includes('<dl class="found"><dt><span class="st pass">PASS</span></dt><dd>nodes <a href="#n1">1</a>, <a href="#n3">3</a>–<a href="#n4">4</a></dd>'));
  assert.ok(page.includes('<dl class="found"><dt><span class="st fail">FAIL</span></dt><dd>node <a href="#n2">2</a></dd><dt>Found</dt><dd><code>absent (default 10255)</code> in <code>/var/snap/microk8s/current/args/kubelet</code></dd>'));
});

test('a value with a newline, ESC and U+2028 in an args file: shown escaped in the page (found, reason and the fix), no raw control character', async () => {
  const root = await makeNode({ version: '1.18' });
  await fs.appendFile(path.join(root, 'var/snap/microk8s/current/args/kube-scheduler'), '--bind-address="0.0.0.0\nerror: fake\u001b[2J\u2028"\n');
  const run = runBin(['--root', root, 'check', '--format', 'html']);
  assert.is(run.status, 2, run.stderr);
  assert.equal([...run.stdout.replace(/\n/g, '')].filter((c) => /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/.test(c)), []);
  assert.ok(run.stdout.includes('<dt>Found</dt><dd><code>--bind-address=0.0.0.0\\nerror: fake\\x1b[2J\\u2028 (line 3)</code>'), 'found, escaped');
  // The fix of another rule of that file shows the line as context, each of its lines escaped as plan shows it.
  assert.ok(run.stdout.includes('      --bind-address=&quot;0.0.0.0\n      error: fake\\x1b[2J\\u2028&quot;\n<ins>    + --profiling=false</ins>\n'), 'the fix, escaped');
});

/** Each FAIL section's fix, markup taken off and unescaped, by rule id. */
function fixesOf(page: string): Map<string, string> {
  const fixes = new Map<string, string>();
  for (const match of page.matchAll(/<section class="rule [^"]*" id="[^"]*"><h3>.*?<code>([^<]*)<\/code><\/h3>[\s\S]*?<\/section>/g)) {
    const pre = /<pre class="diff">([\s\S]*?)<\/pre>/.exec(match[0]);
    if (pre) fixes.set(unescape(match[1]), unescape(pre[1].replace(/<[^>]+>/g, '')));
  }
  return fixes;
}
const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

test('the example node against cis: exit 2 as ever, and every failing rule\'s fix is what harden plan --only ID prints (or, for a rule that needs another, what plan does for it)', async () => {
  const html = runBin(['--root', 'examples/node-1.28', 'check', '--profile', 'cis', '--format', 'html']);
  const json = runBin(['--root', 'examples/node-1.28', 'check', '--profile', 'cis', '--format', 'json']);
  assert.is(html.status, 2, html.stderr);
  assert.is(html.stderr, '');
  const failing = (JSON.parse(json.stdout).results as RuleResult[]).filter((r) => r.status === 'FAIL' && !r.id.startsWith('reader.')).map((r) => r.id);
  const fixes = fixesOf(html.stdout);
  assert.equal([...fixes.keys()].sort(), [...failing].sort());
  assert.ok(failing.length >= 10, `${failing.length} failing rules`);
  let same = 0;
  for (const id of failing) {
    const plan = runBin(['--root', 'examples/node-1.28', 'plan', '--profile', 'cis', '--only', id]);
    assert.is(plan.status, 0, plan.stderr);
    // Alone, a rule that needs another rule of the profile is blocked by it: the report shows its change.
    if (plan.stdout.includes('which is not selected')) {
      assert.ok(fixes.get(id)!.includes(`# ${id}`), id);
      continue;
    }
    assert.is(fixes.get(id), plan.stdout.slice(plan.stdout.indexOf('\n\n') + 2).replace(/\n$/, ''), id);
    same += 1;
  }
  assert.ok(same >= 10, `${same} of ${failing.length} as plan --only prints them`);
});

/** Each node's status per rule from the page's matrix, by root (the column headers' titles). */
function matrixOf(page: string): Record<string, Record<string, string>> {
  const roots = [...page.matchAll(/<th title="([^"]*)"><a href="#n\d+">/g)].map((m) => unescape(m[1]));
  const out: Record<string, Record<string, string>> = Object.fromEntries(roots.map((root) => [root, {}]));
  for (const row of page.matchAll(/<tr><th scope="row"><a href="#[^"]*">([^<]*)<\/a><\/th>(.*?)<\/tr>/g)) {
    const cells = [...row[2].matchAll(/<td class="[^"]*">([^<]*)<\/td>/g)].map((m) => m[1]);
    cells.forEach((status, index) => { if (status !== '—') out[roots[index]][unescape(row[1])] = status; });
  }
  return out;
}
const jsonStatuses = (stdout: string) => Object.fromEntries(Object.entries(JSON.parse(stdout) as Record<string, { results: RuleResult[] }>).map(([root, doc]) => [root, Object.fromEntries(doc.results.map((r) => [r.id, r.status]))]));

test('--roots: the matrix holds every node\'s verdict per rule exactly as --format json, and the same exit code', async () => {
  const dir = await makeTempDir('harden-fleet-');
  for (const [name, version] of [['node-a', '1.28'], ['node-b', '1.21'], ['node-c', '1.13']] as const) {
    await fs.mkdir(path.join(dir, name));
    await layOutNode(path.join(dir, name), { version });
  }
  const html = runBin(['check', '--roots', dir, '--profile', 'cis', '--format', 'html']);
  const json = runBin(['check', '--roots', dir, '--profile', 'cis', '--format', 'json']);
  assert.is(html.status, json.status);
  assert.is(html.stderr, json.stderr);
  assert.equal(matrixOf(html.stdout), jsonStatuses(json.stdout));
  assert.ok(html.stdout.includes('<p><strong>3 nodes: 0 comply, 3 do not</strong></p>'));
});

test('--cluster: the settings control planes must agree on are rules of the matrix too, as in --format json', async () => {
  const [cp1, cp2] = await Promise.all([makeNode({ version: '1.28' }), makeNode({ version: '1.28' })]);
  const args = path.join(cp2, 'var/snap/microk8s/current/args/kube-apiserver');
  await fs.writeFile(args, `${await fs.readFile(args, 'utf8')}--profiling=false\n`);
  const dir = await makeTempDir();
  const files: string[] = [];
  for (const [name, root] of [['cp-1', cp1], ['cp-2', cp2]] as const) {
    const facts = await runInProcessWith(['--root', root, 'facts', '--node-name', name]);
    assert.is(facts.status, 0, facts.stderr);
    files.push(path.join(dir, `${name}.json`));
    await fs.writeFile(files.at(-1)!, facts.stdout);
  }
  const cluster = path.join(dir, 'cluster.json');
  assert.is((await runInProcessWith(['cluster', 'facts', ...files, '--out', cluster])).status, 0);
  const html = await runInProcessWith(['--root', cp1, '--root', cp2, 'check', '--cluster', cluster, '--format', 'html']);
  const json = await runInProcessWith(['--root', cp1, '--root', cp2, 'check', '--cluster', cluster, '--format', 'json']);
  assert.is(html.status, json.status, html.stderr);
  const matrix = matrixOf(html.stdout);
  assert.equal(matrix, jsonStatuses(json.stdout));
  assert.ok(Object.keys(matrix[cp1]).some((id) => id.startsWith('cluster.agree.')), 'agreement rules are in the matrix');
  assert.ok(html.stdout.includes(` · cluster facts ${cluster}</p>`));
});

test.run();
