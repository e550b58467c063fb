// List flags that MicroK8s edits too: harden's rules on them and MicroK8s' own edits must not fight.
//
// MicroK8s changes list flags behind harden's back: its configure hook (every refresh and `snap set`) appends
// `ListFromCacheSnapshot=false,…` to kube-apiserver's --feature-gates on kine (dqlite) nodes, or adds the line,
// and deletes a gates line that starts with RemoveSelfLink; the cis-hardening addon merges its admission
// plugins into --enable-admission-plugins as a set (so in any order) and adds --tls-cipher-suites when the
// file does not mention it. Each test runs the real flow on a fixture node: `harden apply --yes --no-restart`,
// MicroK8s' edit by real bash (the same grep, sed and echo on the node's args file), apply again, the edit
// again, apply again, with the exact bytes after every step. A list rule adds or removes only its own items,
// so the second apply keeps what MicroK8s added where MicroK8s put it, MicroK8s' second pass finds nothing to
// do, and the last apply plans nothing: one round and the file is a fixed point.
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Plan } from '../../src/core/plan.js';
import { runInProcessWith } from '../helpers/cli.js';
import { makeNode, makeTempDir } from '../helpers/node-root.js';
import { fixtureArgsDir, type FixtureVersion } from '../helpers/paths.js';

/**
 * The configure hook's edits of kube-apiserver's --feature-gates (canonical/microk8s snap/hooks/configure,
 * 1.34 and on; the RemoveSelfLink part since 1.20), in the hook's order, with the hook's own patterns: a line
 * containing `feature-gates=RemoveSelfLink` goes whole; on kine each of the three gates the file does not
 * mention anywhere is appended to every line starting `--feature-gates=`, or, with no line starting
 * `--feature-gates`, one line with all three is appended to the file.
 */
const CONFIGURE_HOOK_GATES = String.raw`
set -eu
args="$SNAP_DATA/args/kube-apiserver"
if grep -q -e 'feature-gates=RemoveSelfLink' "$args"; then
  sed -i '/feature-gates=RemoveSelfLink/d' "$args"
fi
if grep -q -e '^\-\-etcd\-servers=.*kine.sock:12379' "$args"; then
  if grep -q -e '^\-\-feature\-gates' "$args"; then
    for gate in ListFromCacheSnapshot SizeBasedListCostEstimate DetectCacheInconsistency; do
      if ! grep -q -e "$gate" "$args"; then
        sed -i '/^--feature-gates=/ s/$/,'"$gate"'=false/' "$args"
      fi
    done
  else
    echo '--feature-gates=ListFromCacheSnapshot=false,SizeBasedListCostEstimate=false,DetectCacheInconsistency=false' >> "$args"
  fi
fi
`;

/**
 * What `microk8s enable cis-hardening` does to these list flags (canonical/microk8s-core-addons
 * addons/cis-hardening/enable): the first line starting `--enable-admission-plugins` is rewritten in place as
 * `--enable-admission-plugins=` and the union of its plugins (the text after the line's last space and last
 * `=`) with EventRateLimit, AlwaysPullImages and NodeRestriction, or that line is appended. The addon builds the
 * union as a Python set, whose order is arbitrary; here it is sorted, so that it differs from harden's and is
 * the same on every run. --tls-cipher-suites is appended to kube-apiserver and kubelet only when the file does
 * not contain the text `--tls-cipher-suites` anywhere.
 */
const CIS_ADDON_LISTS = `
set -eu
args="$SNAP_DATA/args/kube-apiserver"
plugins=EventRateLimit,AlwaysPullImages,NodeRestriction
first=$(grep -n -m1 -e '^--enable-admission-plugins' "$args" || true)
if [ -n "$first" ]; then
  number=\${first%%:*}
  current=\${first#*:}
  current=\${current##* }
  current=\${current##*=}
  union=$(printf '%s\\n' \${plugins//,/ } \${current//,/ } | sort -u | paste -sd, -)
  awk -v n="$number" -v line="--enable-admission-plugins=$union" 'NR == n { print line; next } { print }' "$args" > "$args.addon"
  cat "$args.addon" > "$args"
  rm "$args.addon"
else
  echo "--enable-admission-plugins=$plugins" >> "$args"
fi
grep -q -F -e '--tls-cipher-suites' "$args" || echo "--tls-cipher-suites=$API_SUITES" >> "$args"
grep -q -F -e '--tls-cipher-suites' "$SNAP_DATA/args/kubelet" || echo "--tls-cipher-suites=$KUBELET_SUITES" >> "$SNAP_DATA/args/kubelet"
`;

// The addon's cipher lists (its README and enable script), for the case it adds them.
const ADDON_API_SUITES = 'TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384,TLS_CHACHA20_POLY1305_SHA256,TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA,TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,TLS_RSA_WITH_3DES_EDE_CBC_SHA,TLS_RSA_WITH_AES_128_CBC_SHA,TLS_RSA_WITH_AES_128_GCM_SHA256,TLS_RSA_WITH_AES_256_CBC_SHA,TLS_RSA_WITH_AES_256_GCM_SHA384';
const ADDON_KUBELET_SUITES = 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_RSA_WITH_AES_256_GCM_SHA384,TLS_RSA_WITH_AES_128_GCM_SHA256';

/** What the cis profile writes to kube-apiserver's --tls-cipher-suites when the flag is missing (profiles/cis.yaml). */
const HARDEN_API_SUITES = 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,TLS_RSA_WITH_AES_128_GCM_SHA256,TLS_RSA_WITH_AES_256_GCM_SHA384,TLS_RSA_WITH_AES_128_CBC_SHA,TLS_RSA_WITH_AES_256_CBC_SHA';

const KINE_GATES = 'ListFromCacheSnapshot=false,SizeBasedListCostEstimate=false,DetectCacheInconsistency=false';

/** No shipped rule edits kube-apiserver's --feature-gates: a profile of one list rule on it. */
const GATES_PROFILE = `apiVersion: harden/v1
kind: Profile
name: gates
title: One list rule on kube-apiserver's feature gates
rules:
  - id: apiserver.feature-gates.watch-list-off
    title: Keep WatchList off
    rationale: A list rule on the flag MicroK8s' configure hook appends to.
    severity: low
    component: kube-apiserver
    operation: include-items
    flag: --feature-gates
    items: [WatchList=false]
`;

/** The list rules of the cis profile on the flags the addon edits. */
const CIS_LIST_RULES = [
  'apiserver.admission.no-deny-service-external-ips',
  'apiserver.admission.event-rate-limit',
  'apiserver.admission.no-always-admit',
  'apiserver.admission.always-pull-images',
  'apiserver.admission.node-restriction',
  'apiserver.tls-cipher-suites',
  'kubelet.tls-cipher-suites',
];

interface Node {
  readonly root: string;
  readonly snapData: string;
  readonly file: (name: string) => string;
}

async function fixtureNode(version: FixtureVersion): Promise<Node> {
  const root = await makeNode({ version });
  await fs.mkdir(path.join(root, 'var/lib'), { recursive: true });
  const snapData = path.join(root, 'var/snap/microk8s/current');
  return { root, snapData, file: (name) => path.join(snapData, 'args', name) };
}

const read = (file: string) => fs.readFile(file, 'utf8');
const fixture = (version: FixtureVersion, name: string) => fs.readFile(path.join(fixtureArgsDir(version), name), 'utf8');

/** Runs a MicroK8s edit with real bash on the node (no startup files: stdin is not a terminal nor a socket). */
function microk8sEdit(script: string, n: Node): void {
  const run = spawnSync('bash', ['--norc', '--noprofile', '-c', script], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SNAP_DATA: n.snapData, API_SUITES: ADDON_API_SUITES, KUBELET_SUITES: ADDON_KUBELET_SUITES },
  });
  assert.is(run.status, 0, run.stderr);
  assert.is(run.stderr, '');
}

async function apply(n: Node, profile: string): Promise<string> {
  const run = await runInProcessWith(['apply', '--root', n.root, '--profile', profile, '--yes', '--no-restart']);
  assert.is(run.status, 0, run.stderr);
  return run.stdout;
}

async function planOf(n: Node, profile: string): Promise<Plan> {
  const run = await runInProcessWith(['plan', '--root', n.root, '--profile', profile, '--json']);
  assert.is(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as Plan;
}

/** `harden check` on these rules: exit 0 and every one PASS. */
async function assertPasses(n: Node, profile: string, ruleIds: readonly string[], when: string): Promise<void> {
  const run = await runInProcessWith(['check', '--root', n.root, '--profile', profile, '--only', ruleIds.join(','), '--json']);
  assert.is(run.status, 0, `${when}: ${run.stdout}${run.stderr}`);
  const statuses = Object.fromEntries((JSON.parse(run.stdout).results as { id: string; status: string }[]).map((r) => [r.id, r.status]));
  assert.equal(statuses, Object.fromEntries(ruleIds.map((id) => [id, 'PASS'])), when);
}

/** A plan with nothing in it: no file, no companion, no mode, no restart, all counts 0. */
function assertPlansNothing(plan: Plan, when: string): void {
  assert.equal(
    { files: plan.files, companions: plan.companions, modes: plan.modes, restarts: plan.restarts, add: plan.summary.add, change: plan.summary.change, remove: plan.summary.remove },
    { files: [], companions: [], modes: [], restarts: [], add: 0, change: 0, remove: 0 },
    when,
  );
}

// ---- --feature-gates and the configure hook ---------------------------------------------------------

interface GatesCase {
  readonly name: string;
  readonly version: FixtureVersion;
  /** The node's kube-apiserver before the first apply, from the fixture's. */
  readonly start: (fixtureText: string) => string;
  /** After harden's first apply, and after the hook's first pass. */
  readonly applied: (start: string) => string;
  readonly hooked: (start: string) => string;
}

const KINE_LINE = `--feature-gates=${KINE_GATES}\n`;
const withoutKineLine = (text: string) => {
  assert.ok(text.includes(KINE_LINE));
  return text.replace(KINE_LINE, '');
};

const GATES_CASES: GatesCase[] = [
  {
    // No gates line: harden appends one, the hook appends its three gates to harden's line. (The hook adds them
    // from 1.34 on; the 1.28 file stands for any node without a gates line.)
    name: '1.28 defaults (no --feature-gates)',
    version: '1.28',
    start: (text) => text,
    applied: (start) => `${start}--feature-gates=WatchList=false\n`,
    hooked: (start) => `${start}--feature-gates=WatchList=false,${KINE_GATES}\n`,
  },
  {
    // The hook's line is there: harden appends its gate to it, the hook finds its gates and does nothing.
    name: '1.36 defaults (the hook’s gates line)',
    version: '1.36',
    start: (text) => text,
    applied: (start) => start.replace(KINE_LINE, `--feature-gates=${KINE_GATES},WatchList=false\n`),
    hooked: (start) => start.replace(KINE_LINE, `--feature-gates=${KINE_GATES},WatchList=false\n`),
  },
  {
    // A 1.36 node whose gates line went (a person removed it): as on 1.28, the hook appends to harden's line.
    name: '1.36 without its gates line',
    version: '1.36',
    start: withoutKineLine,
    applied: (start) => `${start}--feature-gates=WatchList=false\n`,
    hooked: (start) => `${start}--feature-gates=WatchList=false,${KINE_GATES}\n`,
  },
];

for (const c of GATES_CASES) {
  test(`--feature-gates, ${c.name}: apply, the configure hook, apply, the hook, apply; the hook's gates stay and the last apply plans nothing`, async () => {
    const n = await fixtureNode(c.version);
    const dir = await makeTempDir('harden-gates-');
    const profile = path.join(dir, 'gates.yaml');
    await fs.writeFile(profile, GATES_PROFILE);
    const apiserver = n.file('kube-apiserver');
    const start = c.start(await fixture(c.version, 'kube-apiserver'));
    await fs.writeFile(apiserver, start);
    const rule = ['apiserver.feature-gates.watch-list-off'];
    const others = async () => Promise.all(['kube-controller-manager', 'kubelet', 'kubelite'].map((name) => read(n.file(name))));
    const othersBefore = await others();

    await apply(n, profile);
    assert.is(await read(apiserver), c.applied(start), 'after the first apply');

    microk8sEdit(CONFIGURE_HOOK_GATES, n);
    const hooked = c.hooked(start);
    assert.is(await read(apiserver), hooked, 'after the hook');

    const second = await apply(n, profile);
    assert.ok(second.includes('\nNo changes. The node complies with profile gates.yaml "gates".\n'), second);
    assert.is(await read(apiserver), hooked, 'the second apply keeps the hook’s gates, in place');
    await assertPasses(n, profile, rule, 'after the second apply');

    microk8sEdit(CONFIGURE_HOOK_GATES, n);
    assert.is(await read(apiserver), hooked, 'the hook’s second pass changes nothing');

    assertPlansNothing(await planOf(n, profile), 'the third apply’s plan');
    const third = await apply(n, profile);
    assert.ok(third.includes('\nNo changes. The node complies with profile gates.yaml "gates".\n'), third);
    assert.is(await read(apiserver), hooked, 'after the third apply');
    await assertPasses(n, profile, rule, 'after the third apply');
    assert.equal(await others(), othersBefore, 'no other file of the gates touched');
  });
}

// ---- --enable-admission-plugins and --tls-cipher-suites and the cis-hardening addon -----------------------

for (const version of ['1.28', '1.36'] as const) {
  test(`--enable-admission-plugins and --tls-cipher-suites on ${version} (kube-apiserver without --tls-cipher-suites): apply cis, the addon, apply, the addon, apply; the addon's order stays and the last apply plans nothing`, async () => {
    const n = await fixtureNode(version);
    const apiserver = n.file('kube-apiserver');
    const kubelet = n.file('kubelet');
    // As on a node installed before 1.28, whose defaults had no --tls-cipher-suites: harden writes it.
    const original = await fixture(version, 'kube-apiserver');
    const suitesLine = original.split('\n').find((line) => line.startsWith('--tls-cipher-suites='))!;
    await fs.writeFile(apiserver, original.replace(`${suitesLine}\n`, ''));

    const planned = await planOf(n, 'cis');
    const plannedText = (name: string) => planned.files.find((file) => file.path === `/var/snap/microk8s/current/args/${name}`)!.after;
    await apply(n, 'cis');
    const applied = await read(apiserver);
    assert.is(applied, plannedText('kube-apiserver'), 'the first apply writes what it planned');
    const appliedLines = applied.split('\n');
    assert.equal(appliedLines.filter((line) => line.startsWith('--enable-admission-plugins')), ['--enable-admission-plugins=EventRateLimit,AlwaysPullImages,NodeRestriction']);
    assert.equal(appliedLines.filter((line) => line.startsWith('--tls-cipher-suites')), [`--tls-cipher-suites=${HARDEN_API_SUITES}`]);
    const kubeletApplied = await read(kubelet);
    assert.equal(kubeletApplied.split('\n').filter((line) => line.startsWith('--tls-cipher-suites')).length, 1);

    // The addon: the same three plugins as a set (here sorted), in place; its cipher lists not added (present).
    microk8sEdit(CIS_ADDON_LISTS, n);
    const merged = applied.replace(
      '--enable-admission-plugins=EventRateLimit,AlwaysPullImages,NodeRestriction\n',
      '--enable-admission-plugins=AlwaysPullImages,EventRateLimit,NodeRestriction\n',
    );
    assert.is.not(merged, applied);
    assert.is(await read(apiserver), merged, 'after the addon');
    assert.is(await read(kubelet), kubeletApplied, 'the addon leaves the kubelet’s suites alone');

    const second = await apply(n, 'cis');
    assert.ok(second.includes('\nNo changes. '), second);
    assert.is(await read(apiserver), merged, 'the second apply keeps the addon’s order');
    assert.is(await read(kubelet), kubeletApplied);
    await assertPasses(n, 'cis', CIS_LIST_RULES, 'after the second apply');

    microk8sEdit(CIS_ADDON_LISTS, n);
    assert.is(await read(apiserver), merged, 'the addon’s second pass changes nothing');

    assertPlansNothing(await planOf(n, 'cis'), 'the third apply’s plan');
    const third = await apply(n, 'cis');
    assert.ok(third.includes('\nNo changes. '), third);
    assert.is(await read(apiserver), merged, 'after the third apply');
    assert.is(await read(kubelet), kubeletApplied);
    await assertPasses(n, 'cis', CIS_LIST_RULES, 'after the third apply');
  });
}

test.run();
