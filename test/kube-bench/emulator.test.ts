// The kube-bench emulator matches kube-bench's quirks, not what a careful reader of the args would
// conclude: each test here pins one behaviour of kube-bench's Go code (check/test.go, check/check.go)
// that the comparison with `harden check` depends on.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  argsFileFor,
  classifyChecks,
  compareOp,
  findFlagValue,
  indentQuotedContinuations,
  loadKubeBenchReference,
  parseControls,
  readOnMicroK8s,
  runFlagCheck,
  runKubeBench,
  unmarshalLikeGo,
  type FlagCheck,
  type FlagCheckResult,
} from '../helpers/kube-bench.js';
import { fixtureArgsDir, fixtureVersions, type FixtureVersion } from '../helpers/paths.js';

const { flagChecks, nonFlagChecks } = classifyChecks();

function flagCheck(id: string): FlagCheck {
  const check = flagChecks.find((c) => c.id === id);
  if (!check) throw new Error(`no flag check ${id}`);
  return check;
}

/** Runs one check on a file text given as lines (each ends with a newline, as in an args file). */
function run(id: string, ...lines: string[]): FlagCheckResult {
  return runFlagCheck(flagCheck(id), lines.map((line) => `${line}\n`).join(''));
}

/** The default args of a fixture version, by file name; directories (cni-network, certs.d) skipped. */
function defaultArgs(version: FixtureVersion): Record<string, string> {
  const dir = fixtureArgsDir(version);
  const files: Record<string, string> = {};
  for (const name of readdirSync(dir)) {
    if (statSync(path.join(dir, name)).isFile()) files[name] = readFileSync(path.join(dir, name), 'utf8');
  }
  return files;
}

function verdictsOf(version: FixtureVersion): Map<string, FlagCheckResult> {
  return new Map(runKubeBench(defaultArgs(version)).map((result) => [result.id, result]));
}

// --- the reference ----------------------------------------------------------------------------

test('argsFileFor maps each conf variable to the MicroK8s args file named in the addon config', () => {
  assert.is(argsFileFor('$apiserverconf'), 'kube-apiserver');
  assert.is(argsFileFor('$controllermanagerconf'), 'kube-controller-manager');
  assert.is(argsFileFor('$schedulerconf'), 'kube-scheduler');
  assert.is(argsFileFor('$kubeletconf'), 'kubelet');
  assert.is(argsFileFor('$proxyconf'), 'kube-proxy');
  // not args/etcd, as upstream kube-bench's own config.yaml has it
  assert.is(argsFileFor('$etcdconf'), 'k8s-dqlite');
  assert.throws(() => argsFileFor('$nosuchconf'));
});

test('the flag checks are the cat-an-args-file checks, in check order', () => {
  const ids = flagChecks.map((c) => c.id);
  assert.equal(ids.slice(0, 3), ['1.2.1', '1.2.2', '1.2.3']);
  assert.ok(ids.includes('2.5') && ids.includes('3.2.1') && ids.includes('4.2.13'));
  assert.is(ids.length, 53);
  assert.is(flagCheck('2.5').file, 'k8s-dqlite');
  assert.is(flagCheck('4.2.1').file, 'kubelet');
  assert.is(flagCheck('1.4.1').file, 'kube-scheduler');
  // every check is in exactly one list
  const all = [...ids, ...nonFlagChecks.map((c) => c.id)];
  assert.is(new Set(all).size, all.length);
});

test('the other checks are listed with why they are not compared', () => {
  const reason = (id: string) => nonFlagChecks.find((c) => c.id === id)?.reason ?? '';
  assert.match(reason('1.2.22'), /manual/); // it has a cat audit, but type: manual never runs it
  assert.match(reason('1.2.30'), /sed/); // reads the encryption config the args file points to
  assert.match(reason('2.1'), /ps -ef/);
  assert.match(reason('1.1.1'), /stat/);
  assert.match(reason('2.4'), /exist/);
  assert.match(reason('5.1.1'), /manual/);
});

// --- finding a flag -----------------------------------------------------------------------------

test('a commented-out flag still matches: strings.Contains on the whole text', () => {
  const result = run('4.2.1', '# --anonymous-auth=false', '--authentication-token-webhook=true');
  assert.is(result.status, 'PASS');
  assert.equal(result.items, [{ flag: '--anonymous-auth', found: true, value: 'false' }]);
});

test('the first occurrence wins over a later one', () => {
  assert.is(run('1.2.17', '--profiling=true', '--profiling=false').status, 'FAIL');
  assert.is(run('1.2.17', '--profiling=false', '--profiling=true').status, 'PASS');
});

test('--client-ca-file does not match inside --requestheader-client-ca-file (one dash there), a longer flag does', () => {
  // "--requestheader-client-ca-file" contains "-client-ca-file", not "--client-ca-file": no false match.
  const text = '--requestheader-client-ca-file=/front-proxy-ca.crt\n--client-ca-file=/ca.crt\n';
  assert.is(findFlagValue('--client-ca-file', text).value, '/ca.crt');
  const onlyOther = run('1.2.27', '--requestheader-client-ca-file=/front-proxy-ca.crt');
  assert.is(onlyOther.status, 'FAIL');
  assert.equal(onlyOther.items[0], { flag: '--client-ca-file', found: false, value: '' });
  // A flag that starts with the tested flag's whole text is matched, and the rest is read as the value.
  const longer = run('1.2.17', '--profiling-extra=1', '--profiling=false');
  assert.is(longer.status, 'FAIL');
  assert.equal(longer.items[0], { flag: '--profiling', found: true, value: '-extra=1' });
  // So is the flag's text inside another flag's value.
  assert.is(findFlagValue('--token-auth-file', '--note=--token-auth-file-is-gone').value, '-is-gone');
});

test('a bare flag reads "true"; a bare non-dash flag reads as its own name', () => {
  assert.equal(findFlagValue('--profiling', '--profiling\n--secure-port=0'), { found: true, value: 'true', error: '' });
  const result = run('1.3.3', '--use-service-account-credentials');
  assert.is(result.status, 'PASS');
  assert.is(result.items[0]!.value, 'true');
  const gate = 'RotateKubeletServerCertificate';
  assert.is(findFlagValue(gate, `x ${gate} y`).value, gate);
});

test('values: "=", ":" with spaces, no space-separated form; Go\'s \\s is narrower than JavaScript\'s', () => {
  assert.is(findFlagValue('--read-only-port', '--read-only-port: 0').value, '0');
  assert.is(findFlagValue('--read-only-port', '--read-only-port==10255').value, '10255');
  assert.is(findFlagValue('--read-only-port', '--read-only-port 10255').value, 'true'); // no "--flag value" (PR #2125 unmerged)
  assert.is(findFlagValue('--bind-address', '--bind-address=0.0.0.0\u000b# x').value, '0.0.0.0\u000b#'); // \v is not \s in Go
  assert.is(findFlagValue('--x', '--x="a b"').value, '"a');
});

// --- set, bin_op, compare ops -------------------------------------------------------------------

test('set: false passes only when the flag is absent, comments included', () => {
  assert.is(run('1.2.2', '--authorization-mode=RBAC').status, 'PASS');
  assert.is(run('1.2.2', '--token-auth-file=/tokens.csv').status, 'FAIL');
  assert.is(run('1.2.2', '# --token-auth-file=/tokens.csv').status, 'FAIL');
});

test('bin_op: or passes when one item does; and (also the default) needs all', () => {
  // 1.2.16: --secure-port gt 0 OR absent
  assert.is(run('1.2.16', '--authorization-mode=RBAC').status, 'PASS');
  assert.is(run('1.2.16', '--secure-port=16443').status, 'PASS');
  assert.is(run('1.2.16', '--secure-port=0').status, 'FAIL');
  // 1.2.4: client certificate AND key
  assert.is(run('1.2.4', '--kubelet-client-certificate=/c.crt').status, 'FAIL');
  assert.is(run('1.2.4', '--kubelet-client-certificate=/c.crt', '--kubelet-client-key=/c.key').status, 'PASS');
  // 4.2.10 has no bin_op: both items needed (and it is unscored: WARN, not FAIL)
  assert.is(run('4.2.10', '--tls-cert-file=/c.crt').status, 'WARN');
});

test('has / nothave on comma lists are substring tests', () => {
  assert.is(run('1.2.7', '--authorization-mode=RBAC,Node').status, 'PASS');
  assert.is(run('1.2.7', '--authorization-mode=AlwaysAllow').status, 'FAIL');
  assert.is(run('1.2.6', '--authorization-mode=Node,RBAC').status, 'PASS');
  assert.is(run('1.2.6', '--authorization-mode=AlwaysAllow').status, 'FAIL');
  // not list membership: "AlwaysAdmitNot" contains AlwaysAdmit
  assert.is(run('1.2.10', '--enable-admission-plugins=NodeRestriction,AlwaysAdmitNot').status, 'FAIL');
  // 1.2.6 with the flag absent: set (default true) + compare fails on absence
  assert.is(run('1.2.6', '--secure-port=16443').status, 'FAIL');
});

test('valid_elements: every listed element must be allowed; a trailing comma is dropped', () => {
  const allowed = 'TLS_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,';
  assert.is(run('4.2.13', `--tls-cipher-suites=${allowed}`).status, 'PASS');
  assert.is(run('4.2.13', '--tls-cipher-suites=TLS_RSA_WITH_AES_128_GCM_SHA256,TLS_RSA_WITH_AES_128_CBC_SHA').status, 'WARN');
  assert.ok(compareOp('valid_elements', ' a , b ', 'a,b,c'));
  assert.not.ok(compareOp('valid_elements', '', 'a,b'));
  assert.ok(compareOp('valid_elements', '', ''));
});

test('gte and friends compare decimal integers only (strconv.Atoi)', () => {
  assert.is(run('1.2.19', '--audit-log-maxage=30').status, 'PASS');
  assert.is(run('1.2.19', '--audit-log-maxage=29').status, 'FAIL');
  assert.is(run('1.2.19', '--audit-log-maxage=+45').status, 'PASS');
  assert.is(run('1.2.19', '--audit-log-maxage=30d').status, 'FAIL');
  assert.ok(compareOp('gte', '100', '100'));
  assert.not.ok(compareOp('gt', '0x20', '10'));
  assert.ok(compareOp('lte', '9223372036854775807', '9223372036854775807'));
});

test('eq lowercases only a true/false found value; bitmask is octal', () => {
  assert.is(run('1.3.2', '--profiling=FALSE').status, 'PASS');
  assert.not.ok(compareOp('eq', 'FALSE', 'False'));
  assert.ok(compareOp('noteq', 'False', 'true'));
  assert.ok(compareOp('bitmask', '600', '644'));
  assert.not.ok(compareOp('bitmask', '664', '644'));
  assert.not.ok(compareOp('no-such-op', 'a', 'a'));
});

// --- the audit pipeline and the kubelet's config fallback -----------------------------------------

test('`grep -v grep` drops any line containing "grep" before the test sees it', () => {
  assert.is(run('1.2.17', '--profiling=false # grep-able').status, 'FAIL');
  assert.is(run('1.2.17', '--profiling=false # kept').status, 'PASS');
  // the kubelet audit is a plain cat: nothing dropped
  assert.is(run('4.2.4', '--read-only-port=0 # grep-able').items[0]!.value, '0');
});

test('grep selecting no line fails the audit itself: FAIL if scored, WARN if not, even for set: false', () => {
  const dropped = run('1.2.2', '# all lines mention grep');
  assert.is(dropped.status, 'FAIL');
  assert.match(dropped.reason, /audit failed/);
  assert.is(runFlagCheck(flagCheck('1.2.1'), '').status, 'WARN');
});

test('a missing file: cat fails; `grep || true` (2.5) runs the test on cat\'s error message', () => {
  const results = new Map(runKubeBench({}).map((r) => [r.id, r]));
  assert.is(results.get('1.2.2')!.status, 'FAIL');
  assert.is(results.get('1.2.1')!.status, 'WARN');
  assert.is(results.get('4.2.6')!.status, 'FAIL');
  assert.is(results.get('4.2.4')!.status, 'WARN');
  assert.is(results.get('2.5')!.status, 'PASS');
  assert.is(runFlagCheck(flagCheck('2.5'), '--enable-tls=false\n').status, 'FAIL');
  assert.is(runFlagCheck(flagCheck('2.5'), '--storage-dir=/x\n').status, 'PASS');
});

test('kubelet checks fall back to reading the args file as YAML; a YAML error fails even set: false', () => {
  // --read-only-port absent: the set:false item passes only when the text parses as YAML
  assert.is(run('4.2.4', '--anonymous-auth=false', '# note', '--fail-swap-on=false').status, 'PASS');
  assert.is(run('4.2.4', '--anonymous-auth=false', '# note', '\t--fail-swap-on=false').status, 'WARN');
  assert.is(run('4.2.7', '--anonymous-auth=false', '--node-labels: x').status, 'FAIL');
  // a KubeletConfiguration-shaped file is read through the JSONPath
  const config = run('4.2.4', 'readOnlyPort: 0', 'authentication:', '  anonymous:', '    enabled: false');
  assert.is(config.status, 'PASS');
  assert.equal(config.items[0], { flag: '--read-only-port', found: true, value: '0' });
  assert.is(run('4.2.1', 'authentication:', '  anonymous:', '    enabled: false').status, 'PASS');
});

test('unmarshalLikeGo reads only as far as yaml.v2 does', () => {
  assert.equal(unmarshalLikeGo('--a=1\n--b=2'), { ok: true, value: '--a=1 --b=2', numbersAreFloats: false });
  assert.equal(unmarshalLikeGo('--a=1\n# c\n--b: 2'), { ok: true, value: '--a=1', numbersAreFloats: false });
  assert.not.ok(unmarshalLikeGo('--a=1\n--b: 2').ok);
  assert.not.ok(unmarshalLikeGo('--a=1 # c\n\n--b # d\n\t').ok);
  assert.not.ok(unmarshalLikeGo('- x\n--t=1').ok);
  assert.equal(unmarshalLikeGo('# only a comment'), { ok: true, value: null, numbersAreFloats: false });
});

// --- the real default args files ------------------------------------------------------------------

/** Known kube-bench verdicts on each version's default args (checked against the files by hand). */
const KNOWN: Record<FixtureVersion, Record<string, 'PASS' | 'FAIL' | 'WARN'>> = {
  // AlwaysAllow, token file, no --anonymous-auth on the kubelet, no --secure-port (absent passes)
  '1.13': {
    '1.2.6': 'FAIL', '1.2.2': 'FAIL', '1.2.16': 'PASS', '1.3.3': 'FAIL', '4.2.1': 'FAIL', '4.2.4': 'PASS', '2.5': 'PASS',
  },
  // etcd over TLS: the etcd client cert checks pass; the token file is there (twice)
  '1.18': { '1.2.25': 'PASS', '1.2.28': 'PASS', '1.2.2': 'FAIL', '4.2.1': 'PASS', '1.3.3': 'PASS' },
  // dqlite inside the apiserver: no etcd flags
  '1.20': { '1.2.25': 'WARN', '1.2.28': 'WARN', '1.2.6': 'FAIL' },
  '1.21': { '1.2.6': 'FAIL', '4.2.4': 'PASS', '4.2.2': 'FAIL', '1.2.17': 'FAIL' },
  '1.26': { '1.2.17': 'PASS', '1.4.1': 'PASS', '4.2.4': 'PASS', '1.2.2': 'FAIL', '2.5': 'PASS' },
  // hardened defaults: no token file, EventRateLimit, cipher lists; still AlwaysAllow
  '1.28': {
    '1.2.6': 'FAIL', '4.2.4': 'PASS', '1.2.2': 'PASS', '1.2.9': 'PASS', '1.2.31': 'PASS', '4.2.13': 'PASS', '4.2.6': 'FAIL',
  },
  '1.36': { '1.2.6': 'FAIL', '4.2.4': 'PASS', '1.2.5': 'PASS', '1.3.3': 'PASS', '3.2.1': 'WARN' },
};

for (const version of fixtureVersions) {
  test(`kube-bench on the ${version} default args`, () => {
    const verdicts = verdictsOf(version);
    assert.equal([...verdicts.keys()], flagChecks.map((c) => c.id));
    for (const [id, status] of Object.entries(KNOWN[version])) assert.is(verdicts.get(id)?.status, status, `${version} ${id}`);
  });
}

test('1.21: 4.2.4 passes although --read-only-port is absent (kube-bench\'s set: false branch)', () => {
  const result = verdictsOf('1.21').get('4.2.4')!;
  assert.is(result.status, 'PASS');
  assert.equal(result.items, [
    { flag: '--read-only-port', found: false, value: '' },
    { flag: '--read-only-port', found: false, value: '' },
  ]);
});

test('1.28: 1.2.6 fails on --authorization-mode=AlwaysAllow and 4.2.4 passes on --read-only-port=0', () => {
  const verdicts = verdictsOf('1.28');
  assert.equal(verdicts.get('1.2.6')!.items, [{ flag: '--authorization-mode', found: true, value: 'AlwaysAllow' }]);
  assert.equal(verdicts.get('4.2.4')!.items[0], { flag: '--read-only-port', found: true, value: '0' });
  assert.is(verdicts.get('1.2.6')!.file, 'kube-apiserver');
});

// --- cis-1.12, read on MicroK8s ------------------------------------------------------------------

const cis112 = loadKubeBenchReference('cis-1.12');
const cis112Checks = classifyChecks(cis112);

test('cis-1.12: each ps audit is read as a cat of the args file the addon maps the component to', () => {
  const byId = new Map(cis112Checks.flagChecks.map((c) => [c.id, c]));
  const seen = (id: string) => {
    const c = byId.get(id)!;
    return { file: c.file, audit: c.audit, psAudit: c.psAudit, auditConfig: c.auditConfig };
  };
  assert.equal(seen('1.2.1'), { file: 'kube-apiserver', audit: 'cat $apiserverconf', psAudit: '/bin/ps -ef | grep $apiserverbin | grep -v grep', auditConfig: '' });
  assert.equal(seen('1.3.2'), { file: 'kube-controller-manager', audit: 'cat $controllermanagerconf', psAudit: '/bin/ps -ef | grep $controllermanagerbin | grep -v grep', auditConfig: '' });
  assert.equal(seen('1.4.1'), { file: 'kube-scheduler', audit: 'cat $schedulerconf', psAudit: '/bin/ps -ef | grep $schedulerbin | grep -v grep', auditConfig: '' });
  assert.equal(seen('2.1'), { file: 'k8s-dqlite', audit: 'cat $etcdconf', psAudit: '/bin/ps -ef | /bin/grep $etcdbin | /bin/grep -v grep', auditConfig: '' });
  assert.equal(seen('3.2.1'), { file: 'kube-apiserver', audit: 'cat $apiserverconf', psAudit: '/bin/ps -ef | grep $apiserverbin | grep -v grep', auditConfig: '' });
  // the kubelet's and kube-proxy's JSONPath config reads are dropped, item paths included
  assert.equal(seen('4.2.1'), { file: 'kubelet', audit: 'cat $kubeletconf', psAudit: '/bin/ps -fC $kubeletbin', auditConfig: '' });
  assert.equal(seen('4.3.1'), { file: 'kube-proxy', audit: 'cat $proxyconf', psAudit: '/bin/ps -fC $proxybin', auditConfig: '' });
  assert.ok(cis112Checks.flagChecks.every((c) => c.configPipeline === null && c.tests.items.every((item) => item.path === '')));
  // cis-1.24-microk8s is left as kube-bench ships it
  assert.ok(classifyChecks().flagChecks.every((c) => c.psAudit === undefined));
});

test('cis-1.12: 60 flag checks; its 4.2.6 is --make-iptables-util-chains and nothing checks --protect-kernel-defaults', () => {
  const ids = cis112Checks.flagChecks.map((c) => c.id);
  assert.is(ids.length, 60);
  assert.ok(ids.includes('1.2.30') && ids.includes('4.2.14') && ids.includes('4.3.1'));
  assert.not.ok(ids.includes('1.2.20') || ids.includes('1.2.28')); // manual; a sed script
  const iptables = cis112Checks.flagChecks.find((c) => c.id === '4.2.6')!;
  assert.equal(iptables.tests.items.map((item) => item.flag), ['--make-iptables-util-chains', '--make-iptables-util-chains']);
  const all = cis112.controls.flatMap((c) => c.checks);
  assert.not.ok(all.some((c) => c.tests?.items.some((item) => item.flag.includes('protect-kernel-defaults'))));
  const reason = (id: string) => cis112Checks.nonFlagChecks.find((c) => c.id === id)?.reason ?? '';
  assert.match(reason('1.1.1'), /stat/);
  assert.match(reason('1.2.28'), /sed|ps -ef/);
  assert.match(reason('3.1.2'), /manual/);
});

test('readOnMicroK8s leaves stat, manual and cat audits alone', () => {
  const [stat, manual] = parseControls(`id: 1
type: master
groups:
  - id: 1.1
    checks:
      - id: 1.1.1
        audit: "stat -c %a $apiserverconf"
        tests: { test_items: [ { flag: "644" } ] }
      - id: 1.2.20
        type: manual
        audit: "/bin/ps -ef | grep $apiserverbin | grep -v grep"
`).checks;
  assert.equal(readOnMicroK8s(stat!), stat);
  assert.equal(readOnMicroK8s(manual!), manual);
});

test('a double-quoted scalar continued at its key\'s indentation reads as yaml.v2 reads it (cis-1.12 etcd 2.4)', () => {
  const check = cis112.controls.flatMap((c) => c.checks).find((c) => c.id === '2.4')!;
  assert.is(check.text, 'Ensure that the --peer-cert-file and --peer-key-file arguments are set as appropriate (Automated)');
  assert.is(indentQuotedContinuations('a: "x\nb\\"c"\nd: 1'), 'a: "x\n  b\\"c"\nd: 1');
  assert.is(indentQuotedContinuations('a: "x"\nb: 1'), 'a: "x"\nb: 1');
});

/** Known cis-1.12 verdicts on default args, read on MicroK8s. */
const KNOWN_1_12: Partial<Record<FixtureVersion, Record<string, 'PASS' | 'FAIL' | 'WARN'>>> = {
  // etcd era: $etcdconf is args/k8s-dqlite, which is not there: every etcd audit fails
  '1.18': { '1.2.2': 'FAIL', '1.2.30': 'FAIL', '2.1': 'FAIL', '2.3': 'FAIL', '2.7': 'WARN', '4.2.4': 'PASS' },
  // 1.28's cipher lists include CBC and RSA key exchange, which 1.12 no longer allows (unscored: WARN)
  '1.28': { '1.2.1': 'WARN', '1.2.3': 'WARN', '1.2.29': 'WARN', '4.2.12': 'WARN', '4.2.6': 'PASS', '4.3.1': 'PASS', '2.3': 'PASS', '2.5': 'FAIL' },
  '1.36': { '1.2.6': 'FAIL', '1.2.9': 'PASS', '4.2.8': 'PASS', '4.2.13': 'WARN', '4.2.14': 'WARN' },
};

for (const [version, known] of Object.entries(KNOWN_1_12) as Array<[FixtureVersion, Record<string, string>]>) {
  test(`kube-bench cis-1.12 on the ${version} default args`, () => {
    const verdicts = new Map(runKubeBench(defaultArgs(version), cis112).map((result) => [result.id, result]));
    assert.equal([...verdicts.keys()], cis112Checks.flagChecks.map((c) => c.id));
    for (const [id, status] of Object.entries(known)) assert.is(verdicts.get(id)?.status, status, `${version} ${id}`);
  });
}

test.run();
