import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { flagSupport, parseFlagCatalogue, type FlagQuery, type SupportStatus } from '../../src/core/flag-catalogue.js';
import { repoRoot } from '../helpers/paths.js';

const shippedTsv = readFileSync(path.join(repoRoot, 'profiles', 'flag-catalogue.tsv'), 'utf8');
const catalogue = parseFlagCatalogue(shippedTsv);

/** The MicroK8s versions the rules are checked at. */
const VERSIONS = [13, 18, 20, 21, 24, 26, 27, 28, 36] as const;

const v = (minor: number, patch: number | null = null) => ({ major: 1, minor, patch });

function status(component: string, flag: string, minor: number | null, value: string | null = null, etcdVersion: string | null = null): SupportStatus {
  return flagSupport(catalogue, { component, flag, value, version: minor === null ? null : v(minor), etcdVersion }).status;
}

/** `S` supported, `N` not yet, `R` removed, `U` uncertain: one letter per version of VERSIONS. */
const LETTER: Record<string, SupportStatus> = { S: 'supported', N: 'not-yet', R: 'removed', U: 'uncertain' };

function expectAcross(component: string, flag: string, letters: string, value: string | null = null): void {
  const expected = [...letters.replace(/ /g, '')].map((letter) => LETTER[letter]);
  const actual = VERSIONS.map((minor) => status(component, flag, minor, value));
  const label = `${component} ${flag}${value === null ? '' : `=${value}`} at ${VERSIONS.map((minor) => `1.${minor}`).join(' ')}`;
  assert.equal(actual, expected, label);
}

const HEADER = 'component\tflag\tvalue\tadded_in\tdeprecated_in\tremoved_in\tnotes\tsource';

// ------------------------------------------------------------------------------------------------
// The shipped catalogue

test('the shipped catalogue parses: 299 rows, one per line after the header', () => {
  assert.is(catalogue.rows.length, 299);
  assert.is(shippedTsv.split('\n')[0], HEADER);
  assert.equal(catalogue.rows.map((row) => row.line), catalogue.rows.map((_, i) => i + 2));
});

test('every added_in and removed_in of the shipped catalogue is in a recognised form', () => {
  const forms = [/^\d+\.\d+$/, /^<=\d+\.\d+$/, /^~\d+\.\d+$/, /^\d+\.\d+\(pre-release\)$/, /^mk8s-\d+\.\d+$/, /^etcd-\d+\.\d+\.\d+$/, /^etcd<=\d+\.\d+\.\d+$/, /^k8s-dqlite-v\d+\.\d+\.\d+$/];
  for (const row of catalogue.rows) {
    assert.ok(forms.some((form) => form.test(row.addedIn)), `line ${row.line}: added_in ${row.addedIn}`);
    assert.ok(row.removedIn === 'still present' || forms.some((form) => form.test(row.removedIn)), `line ${row.line}: removed_in ${row.removedIn}`);
    assert.is(row.added.text, row.addedIn);
    assert.is(row.removed === null, row.removedIn === 'still present', `line ${row.line}`);
  }
});

test('every row of the shipped catalogue names its sources', () => {
  for (const row of catalogue.rows) assert.ok(row.source.trim().length > 0, `line ${row.line}`);
});

test('every row can be judged at every MicroK8s version, and none is supported before it was added', () => {
  for (const row of catalogue.rows) {
    for (let minor = 12; minor <= 38; minor += 1) {
      const result = flagSupport(catalogue, { component: row.component, flag: row.flag, value: row.value, version: v(minor) });
      assert.ok(['supported', 'not-yet', 'removed', 'uncertain'].includes(result.status), `line ${row.line} at 1.${minor}: ${result.status}`);
      assert.ok(result.reason.length > 0 && !result.reason.includes('undefined'), result.reason);
      if (row.added.scale === 'kubernetes' && result.status === 'supported') {
        assert.ok(minor >= row.added.version[1], `line ${row.line} supported at 1.${minor}`);
      }
    }
  }
});

// ------------------------------------------------------------------------------------------------
// kube-apiserver                                                          13 18 20 21 24 26 27 28 36

test('kube-apiserver: the insecure-serving flags die in 1.24', () => {
  expectAcross('kube-apiserver', '--insecure-port', '                  S  S  S  S  R  R  R  R  R');
  expectAcross('kube-apiserver', '--insecure-bind-address', '          S  S  S  S  R  R  R  R  R');
});

test('kube-apiserver: --basic-auth-file dies in 1.19', () => {
  expectAcross('kube-apiserver', '--basic-auth-file', '                S  S  R  R  R  R  R  R  R');
});

test('kube-apiserver: the flags CIS tightens are known everywhere', () => {
  for (const flag of ['--token-auth-file', '--anonymous-auth', '--authorization-mode', '--profiling', '--enable-admission-plugins']) {
    expectAcross('kube-apiserver', flag, 'S S S S S S S S S');
  }
});

test('kube-apiserver: admission plugins are judged by their own rows', () => {
  expectAcross('kube-apiserver', '--enable-admission-plugins', '       S  S  S  S  S  R  R  R  R', 'PodSecurityPolicy');
  expectAcross('kube-apiserver', '--enable-admission-plugins', '       N  N  N  S  S  S  S  S  S', 'DenyServiceExternalIPs');
  expectAcross('kube-apiserver', '--enable-admission-plugins', '       S  S  S  S  S  S  S  S  S', 'NodeRestriction');
  // One registry decides all three admission flags.
  assert.is(status('kube-apiserver', '--disable-admission-plugins', 26, 'PodSecurityPolicy'), 'removed');
});

test('kube-apiserver: a list value is judged item by item, worst item first', () => {
  assert.is(status('kube-apiserver', '--authorization-mode', 13, 'Node,RBAC'), 'supported');
  const mixed = flagSupport(catalogue, { component: 'kube-apiserver', flag: '--enable-admission-plugins', value: 'NodeRestriction,PodSecurityPolicy', version: v(26) });
  assert.is(mixed.status, 'removed');
  assert.match(mixed.reason, 'PodSecurityPolicy');
  assert.is(status('kube-apiserver', '--enable-admission-plugins', 24, 'NodeRestriction, NoSuchPlugin'), 'unlisted');
});

test('kube-apiserver: the reason names the flag, the component and the version', () => {
  const result = flagSupport(catalogue, { component: 'kube-apiserver', flag: '--insecure-port', version: v(24, 3) });
  assert.is(result.status, 'removed');
  assert.ok(result.reason.startsWith('--insecure-port was removed from kube-apiserver in 1.24'), result.reason);
  assert.is(result.row?.flag, '--insecure-port');
  assert.is(result.row?.value, null);
});

// ------------------------------------------------------------------------------------------------
// kubelet                                                                 13 18 20 21 24 26 27 28 36

test('kubelet: the flags CIS tightens are known everywhere', () => {
  for (const flag of ['--read-only-port', '--anonymous-auth', '--authorization-mode', '--protect-kernel-defaults']) {
    expectAcross('kubelet', flag, 'S S S S S S S S S');
  }
});

test('kubelet: --container-runtime dies in 1.27, --network-plugin with dockershim in 1.24', () => {
  expectAcross('kubelet', '--container-runtime', '                 S  S  S  S  S  S  R  R  R');
  expectAcross('kubelet', '--network-plugin', '                    S  S  S  S  R  R  R  R  R');
  expectAcross('kubelet', '--network-plugin', '                    S  S  S  S  R  R  R  R  R', 'kubenet');
});

test('kubelet: --seccomp-default arrives in 1.22', () => {
  expectAcross('kubelet', '--seccomp-default', '                   N  N  N  N  S  S  S  S  S');
});

test('kubelet: --cni-cache-dir arrives in 1.16 (corrected row) and leaves with dockershim', () => {
  expectAcross('kubelet', '--cni-cache-dir', '                     N  S  S  S  R  R  R  R  R');
});

// ------------------------------------------------------------------------------------------------
// kube-proxy, kube-scheduler, kube-controller-manager                     13 18 20 21 24 26 27 28 36

test('kube-proxy: --proxy-mode=userspace dies in the version the catalogue gives', () => {
  const row = flagSupport(catalogue, { component: 'kube-proxy', flag: '--proxy-mode', value: 'userspace', version: v(26) }).row!;
  assert.is(row.value, 'userspace');
  assert.is(row.removedIn, '1.26');
  expectAcross('kube-proxy', '--proxy-mode', '                        S  S  S  S  S  R  R  R  R', 'userspace');
  expectAcross('kube-proxy', '--proxy-mode', '                        S  S  S  S  S  S  S  S  S', 'iptables');
  expectAcross('kube-proxy', '--proxy-mode', '                        N  N  N  N  N  N  N  N  S', 'nftables');
  expectAcross('kube-proxy', '--profiling', '                         S  S  S  S  S  S  S  S  S');
});

test('kube-scheduler and kube-controller-manager: insecure --address and --port die in 1.24', () => {
  for (const component of ['kube-scheduler', 'kube-controller-manager']) {
    expectAcross(component, '--address', '                         S  S  S  S  R  R  R  R  R');
    expectAcross(component, '--port', '                            S  S  S  S  R  R  R  R  R');
    expectAcross(component, '--bind-address', '                    S  S  S  S  S  S  S  S  S');
    expectAcross(component, '--profiling', '                       S  S  S  S  S  S  S  S  S');
  }
});

// ------------------------------------------------------------------------------------------------
// etcd                                                                    13 18 20 21 24 26 27 28 36

test('etcd: the CIS flags are known in every etcd MicroK8s ships', () => {
  expectAcross('etcd', '--client-cert-auth', 'S S S S S S S S S');
  expectAcross('etcd', '--auto-tls', 'S S S S S S S S S');
});

test('etcd: --enable-v2 follows the etcd of each MicroK8s release', () => {
  expectAcross('etcd', '--enable-v2', '                             S  S  S  S  S  S  S  S  R');
  assert.is(status('etcd', '--enable-v2', 33), 'supported'); // etcd 3.5.17
  assert.is(status('etcd', '--enable-v2', 34), 'removed'); // etcd 3.6.4
  const mapped = flagSupport(catalogue, { component: 'etcd', flag: '--enable-v2', version: v(34) });
  assert.match(mapped.reason, 'MicroK8s 1.34');
  assert.match(mapped.reason, '3.6.4');
});

test('etcd: a given etcd version wins over the MicroK8s version', () => {
  assert.is(status('etcd', '--enable-v2', 36, null, '3.5.17'), 'supported');
  assert.is(status('etcd', '--enable-v2', 26, null, 'v3.6.0'), 'removed');
  assert.is(status('etcd', '--enable-v2', null, null, '3.5'), 'supported');
  assert.is(status('etcd', '--tls-min-version', null, null, '3.5'), 'uncertain'); // added in 3.5.8
  assert.is(status('etcd', '--tls-min-version', null, null, '3.5.8'), 'supported');
  assert.is(status('etcd', '--enable-v2', 26, null, 'not a version'), 'supported'); // falls back to 1.26's 3.5.5
});

test('etcd: a MicroK8s branch that moved etcd mid-life cannot decide a flag that arrived in between', () => {
  assert.is(status('etcd', '--cipher-suites', 13), 'not-yet'); // 3.3.4
  assert.is(status('etcd', '--cipher-suites', 16), 'uncertain'); // 3.3.4, later 3.3.7
  assert.is(status('etcd', '--cipher-suites', 16, null, '3.3.7'), 'supported');
  assert.is(status('etcd', '--cipher-suites', 18), 'supported');
  assert.is(status('etcd', '--tls-min-version', 31), 'not-yet'); // 3.5.5
  assert.is(status('etcd', '--tls-min-version', 32), 'supported'); // 3.5.17
});

test('etcd: without an etcd version, a MicroK8s release the table does not know is uncertain', () => {
  assert.is(status('etcd', '--client-cert-auth', 37), 'uncertain');
  assert.is(status('etcd', '--client-cert-auth', 12), 'uncertain');
  assert.is(status('etcd', '--client-cert-auth', null), 'version-unknown');
  assert.is(status('etcd', '--client-cert-auth', 37, null, '3.6.10'), 'supported');
  assert.is(status('etcd', '--client-cert-auth', null, null, '3.9.0'), 'uncertain'); // newer than researched
});

// ------------------------------------------------------------------------------------------------
// Uncertain rows

test('an inferred removal is uncertain from that version on', () => {
  expectAcross('kubelet', '--docker', '                            S  S  S  S  U  U  U  U  U');
  expectAcross('kubelet', '--docker-env-metadata-whitelist', '     S  S  S  S  U  U  U  U  U');
});

test('a removal known only from pre-release notes is uncertain from that version on', () => {
  assert.is(status('kubelet', '--containerd', 36), 'supported');
  const result = flagSupport(catalogue, { component: 'kubelet', flag: '--containerd', version: v(37) });
  assert.is(result.status, 'uncertain');
  assert.match(result.reason, 'pre-release');
});

test('an approximate (~) addition vouches for no version before the removal', () => {
  expectAcross('kubelet', '--one-output', '                        U  U  U  U  U  R  R  R  R');
  expectAcross('kube-apiserver', '--add-dir-header', '            U  U  U  U  U  R  R  R  R');
});

test('a first version the notes call not verified is uncertain at that version only', () => {
  assert.is(status('kubelet', '--pod-max-pids', 13), 'uncertain');
  assert.is(status('kubelet', '--pod-max-pids', 14), 'supported');
});

test('a deprecation that is "not pinned" does not make a flag uncertain', () => {
  expectAcross('kube-apiserver', '--enable-admission-plugins', '       S  S  S  S  S  S  S  S  S', 'AlwaysAdmit');
  expectAcross('kube-scheduler', '--profiling', '                    S  S  S  S  S  S  S  S  S');
  expectAcross('kubelet', '--non-masquerade-cidr', '               S  S  S  S  R  R  R  R  R');
});

test('versions outside what the catalogue researched are uncertain, except for what was already removed', () => {
  assert.is(status('kubelet', '--read-only-port', 37), 'uncertain');
  assert.is(status('kubelet', '--read-only-port', 12), 'uncertain');
  assert.is(status('kube-apiserver', '--insecure-port', 40), 'removed');
  assert.is(status('kubelet', '--seccomp-default', 12), 'not-yet');
});

// ------------------------------------------------------------------------------------------------
// Values, patched flags, k8s-dqlite

test('a feature gate is judged by its exact setting, else by its name, never by --feature-gates alone', () => {
  assert.is(status('kube-apiserver', '--feature-gates', 24, 'RemoveSelfLink=false'), 'removed');
  assert.is(status('kube-apiserver', '--feature-gates', 24, 'RemoveSelfLink=true'), 'supported');
  assert.is(status('kube-apiserver', '--feature-gates', 30, 'RemoveSelfLink=true'), 'removed');
  assert.is(status('kubelet', '--feature-gates', 28, 'RotateKubeletServerCertificate=true'), 'supported');
  assert.is(status('kubelet', '--feature-gates', 22, 'SeccompDefault=true'), 'supported');
  assert.is(status('kubelet', '--feature-gates', 29, 'SeccompDefault=true'), 'removed');
  assert.is(status('kubelet', '--feature-gates', 22, 'SeccompDefault=true,RotateKubeletServerCertificate=true'), 'supported');
  assert.is(status('kube-controller-manager', '--feature-gates', 28), 'supported');
  assert.is(status('kube-controller-manager', '--feature-gates', 28, 'NoSuchGate=true'), 'unlisted');
  assert.is(status('kube-apiserver', '--feature-gates', 28, 'RotateKubeletServerCertificate=true'), 'unlisted'); // catalogued for other components only
});

test('a free-form value falls back to the flag row; a checked value without a row is unlisted', () => {
  const port = flagSupport(catalogue, { component: 'kubelet', flag: '--read-only-port', value: '0', version: v(28) });
  assert.is(port.status, 'supported');
  assert.is(port.row?.value, null);
  assert.is(status('kubelet', '--authorization-mode', 28, 'Webhook'), 'supported'); // no kubelet value rows
  assert.is(status('kube-apiserver', '--enable-admission-plugins', 28, 'NoSuchPlugin'), 'unlisted');
  assert.is(status('kube-apiserver', '--tls-cipher-suites', 18, 'TLS_AES_128_GCM_SHA256'), 'not-yet');
  assert.is(status('kube-apiserver', '--tls-cipher-suites', 19, 'TLS_AES_128_GCM_SHA256'), 'supported');
  assert.is(status('kube-apiserver', '--tls-cipher-suites', 19, 'TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384,TLS_CHACHA20_POLY1305_SHA256'), 'supported');
  assert.is(status('kubelet', '--tls-min-version', 13, 'VersionTLS13'), 'not-yet');
});

test('MicroK8s-patched flags are judged on the same minor versions', () => {
  expectAcross('kube-apiserver', '--storage-backend', '            N  N  S  S  R  R  R  R  R', 'dqlite');
  expectAcross('kube-apiserver', '--storage-backend', '            S  S  S  S  S  S  S  S  S', 'etcd3');
  assert.match(flagSupport(catalogue, { component: 'kube-apiserver', flag: '--storage-dir', version: v(20) }).reason, "MicroK8s' patched kube-apiserver");
});

test('k8s-dqlite flags apply from MicroK8s 1.23', () => {
  expectAcross('k8s-dqlite', '--enable-tls', '                         N  N  N  N  S  S  S  S  S');
});

test('version null is version-unknown; an unknown flag or component is unlisted', () => {
  const unknown = flagSupport(catalogue, { component: 'kube-apiserver', flag: '--profiling', version: null });
  assert.is(unknown.status, 'version-unknown');
  assert.is(unknown.row?.flag, '--profiling');
  const unlisted = flagSupport(catalogue, { component: 'kube-apiserver', flag: '--no-such-flag', version: v(28) });
  assert.equal([unlisted.status, unlisted.row], ['unlisted', null]);
  assert.match(unlisted.reason, '--no-such-flag');
  assert.is(status('kube-apiserver', '--no-such-flag', null), 'unlisted');
  assert.is(status('kubelite', '--scheduler-args-file', 28), 'unlisted');
  assert.is(status('containerd', '--config', 28), 'unlisted');
});

test('an empty value asks about the flag itself', () => {
  const query: FlagQuery = { component: 'kube-proxy', flag: '--proxy-mode', value: ' ', version: v(28) };
  assert.is(flagSupport(catalogue, query).row?.value, null);
});

// ------------------------------------------------------------------------------------------------
// Parse errors

const row = (...fields: string[]): string => fields.join('\t');
const GOOD = row('kubelet', '--read-only-port', '', '<=1.13', '1.10(soft)', 'still present', 'notes', 'src');

test('a row with too few columns names its line', () => {
  const tsv = [HEADER, GOOD, row('kubelet', '--anonymous-auth', '', '<=1.13')].join('\n');
  assert.throws(() => parseFlagCatalogue(tsv), (error: unknown) => error instanceof Error && /line 3: expected 8 tab-separated columns, found 4/.test(error.message));
});

test('a row with too many columns names its line', () => {
  assert.throws(() => parseFlagCatalogue([HEADER, `${GOOD}\textra`].join('\n')), /line 2: expected 8/);
});

test('a missing or different header is an error on line 1', () => {
  assert.throws(() => parseFlagCatalogue(GOOD), /line 1: expected the header/);
  assert.throws(() => parseFlagCatalogue(''), /line 1/);
});

test('unrecognised versions, components, flags and empty sources name their line', () => {
  const bad = (fields: string[]): string => [HEADER, GOOD, row(...fields)].join('\n');
  assert.throws(() => parseFlagCatalogue(bad(['kubelet', '--x', '', 'v1.13', '-', 'still present', '', 'src'])), /line 3: added_in "v1.13"/);
  assert.throws(() => parseFlagCatalogue(bad(['kubelet', '--x', '', '1.13', '-', 'gone', '', 'src'])), /line 3: removed_in "gone"/);
  assert.throws(() => parseFlagCatalogue(bad(['kubelet', '--x', '', '1.13', 'maybe', '1.20', '', 'src'])), /line 3: deprecated_in "maybe"/);
  assert.throws(() => parseFlagCatalogue(bad(['kubelet', '--x', '', '1.20', '-', '1.20', '', 'src'])), /line 3: removed_in 1.20 is not after added_in 1.20/);
  assert.throws(() => parseFlagCatalogue(bad(['etcd', '--x', '', '1.13', '-', 'still present', '', 'src'])), /line 3: etcd versions are counted on the etcd scale/);
  assert.throws(() => parseFlagCatalogue(bad(['kubelete', '--x', '', '1.13', '-', 'still present', '', 'src'])), /line 3: unknown component/);
  assert.throws(() => parseFlagCatalogue(bad(['kubelet', 'x', '', '1.13', '-', 'still present', '', 'src'])), /line 3: "x" is not a flag name/);
  assert.throws(() => parseFlagCatalogue(bad(['kubelet', '--x', '', '1.13', '-', 'still present', '', ' '])), /line 3: the source column is empty/);
});

test('a repeated component, flag and value names both lines', () => {
  assert.throws(() => parseFlagCatalogue([HEADER, GOOD, GOOD].join('\n')), /line 3: repeats the row on line 2/);
});

test('CRLF line ends and blank lines are accepted', () => {
  const parsed = parseFlagCatalogue([HEADER, GOOD, '', ''].join('\r\n'));
  assert.is(parsed.rows.length, 1);
  assert.equal([parsed.rows[0].line, parsed.rows[0].value, parsed.rows[0].removed], [2, null, null]);
});

test.run();
