// harden check --report: microk8s inspect tarballs audited in memory, as inspect.sh lays them out.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runInProcess } from '../helpers/cli.js';
import { FIXTURE_VERSIONS, reportBytes, reportFiles, tarBytes, writeReport, writeReportWithTar, type Layout } from '../helpers/inspection-report.js';
import { makeTempDir } from '../helpers/node-root.js';

const NAME = 'inspection-report-20261201_101010.tar.gz';
const HINT = 'hint: make the report again with `sudo microk8s inspect` on the node, or audit the node itself with --root\n';
const byStatus = (doc: any) => {
  const out: Record<string, string[]> = {};
  for (const result of doc.results) (out[result.status] ??= []).push(result.id);
  return out;
};

const BASELINE_1_28 = {
  PASS: ['kubelet.read-only-port', 'kubelet.anonymous-auth', 'kubelet.client-ca-file', 'apiserver.kubelet-client-certificate', 'apiserver.kubelet-client-key', 'kube-proxy.no-userspace-mode', 'kube-scheduler.profiling', 'kube-controller-manager.profiling', 'apiserver.exposure', 'kubelet.exposure', 'kube-proxy.exposure', 'kube-scheduler.exposure', 'kube-controller-manager.exposure', 'k8s-dqlite.exposure'],
  FAIL: ['apiserver.authorization-mode.no-always-allow', 'apiserver.authorization-mode.node-rbac', 'kube-scheduler.bind-address', 'kube-controller-manager.bind-address'],
  'NOT APPLICABLE': ['kube-scheduler.insecure-address', 'kube-controller-manager.insecure-address', 'etcd.client-cert-auth', 'etcd.trusted-ca-file', 'apiserver.insecure-port', 'apiserver.insecure-bind-localhost', 'etcd.exposure'],
};

test('the 1.28 report made with Debian tar under baseline: the args and the sockets decide, named by the tarball; exit 2', async () => {
  const dir = await makeTempDir();
  const file = await writeReportWithTar(dir, NAME, reportFiles({ version: '1.28' }));
  const run = await runInProcess(['check', '--report', file, '--json']);
  assert.is(run.status, 2, run.stderr);
  assert.is(run.stderr, '');
  const doc = JSON.parse(run.stdout);
  assert.is(doc.root, NAME);
  assert.is(doc.version, '1.28.15');
  assert.equal(byStatus(doc), BASELINE_1_28);
});

test('the same report built in process reads the same', async () => {
  const dir = await makeTempDir();
  const file = await writeReport(dir, NAME, reportBytes(reportFiles({ version: '1.28' })));
  const doc = JSON.parse((await runInProcess(['check', '--report', file, '--json'])).stdout);
  assert.equal(byStatus(doc), BASELINE_1_28);
});

test('cis on the 1.28 report: modes, owners, directories, kernel parameters and files outside args are NOT ASSESSED, with the reason', async () => {
  const dir = await makeTempDir();
  const file = await writeReportWithTar(dir, NAME, reportFiles({ version: '1.28' }));
  const run = await runInProcess(['check', '--report', file, '--json', '--profile', 'cis']);
  assert.is(run.status, 2);
  const doc = JSON.parse(run.stdout);
  assert.equal(doc.summary.counts, { PASS: 42, FAIL: 19, MANUAL: 8, BLOCKED: 0, 'NOT APPLICABLE': 17, WAIVED: 0, 'NOT ASSESSED': 22 });
  const reason = (id: string) => doc.results.find((r: any) => r.id === id).reason;
  const status = (id: string) => doc.results.find((r: any) => r.id === id).status;
  assert.is(reason('files.apiserver-args'), 'a microk8s inspect tarball holds no file modes or owners');
  assert.is(reason('files.audit-log-dir'), 'a microk8s inspect tarball holds no directories of the node, nor their modes and owners');
  assert.is(reason('kubelet.kernel-parameters'), 'a microk8s inspect tarball holds no kernel parameters');
  assert.is(reason('files.cis-hardening-lock'), 'a microk8s inspect tarball holds no files outside the args dir (/var/snap/microk8s/6089/var/lock/cis-hardening)');
  // A companion file in the args dir is in the tarball: it is decided.
  assert.is(status('files.admission-control-config-file'), 'PASS');
  assert.is(status('files.audit-policy'), 'FAIL');
});

test('every fixture version, in each layout (ss, netstat before December 2021, strict confinement), is audited', async () => {
  const dir = await makeTempDir();
  const layouts: Layout[] = ['ss', 'netstat', 'strict'];
  const files: string[] = [];
  for (const version of FIXTURE_VERSIONS) {
    for (const layout of layouts) {
      files.push(await writeReport(dir, `inspection-report-${version}-${layout}.tar.gz`, reportBytes(reportFiles({ version, layout }))));
      const tarDir = path.join(dir, 'tar');
      await fs.mkdir(tarDir, { recursive: true });
      files.push(await writeReportWithTar(tarDir, `inspection-report-${version}-${layout}-tar.tar.gz`, reportFiles({ version, layout })));
    }
  }
  const run = await runInProcess(['check', '--report', ...files, '--json']);
  assert.is(run.stderr, '');
  assert.is(run.status, 2);
  const docs = JSON.parse(run.stdout);
  for (const version of FIXTURE_VERSIONS) {
    for (const layout of layouts) {
      const doc = docs[`inspection-report-${version}-${layout}.tar.gz`];
      assert.ok(doc, `${version} ${layout}`);
      // Debian's tar and the in-process archive read alike.
      assert.equal(docs[`inspection-report-${version}-${layout}-tar.tar.gz`].results, doc.results, `${version} ${layout}: tar`);
      assert.is(doc.error, undefined);
      assert.is(doc.version?.split('.').slice(0, 2).join('.'), version, `${version} ${layout}`);
      const probes = doc.results.filter((r: any) => r.id.endsWith('.exposure') && r.status !== 'NOT APPLICABLE');
      // Strict confinement: no network/ss, so what listens is not assessed; otherwise the table decides.
      assert.ok(probes.length > 0);
      for (const probe of probes) assert.is(probe.status === 'NOT ASSESSED', layout === 'strict', `${version} ${layout} ${probe.id} ${probe.status}`);
      assert.is(doc.results.some((r: any) => r.status === 'BLOCKED'), false, `${version} ${layout}`);
    }
  }
  const strict = docs['inspection-report-1.36-strict.tar.gz'].results.find((r: any) => r.id === 'kubelet.exposure');
  assert.is(strict.reason, 'a microk8s inspect tarball made under strict confinement holds no network/ss: what listens cannot be seen');
});

test('a daemon disabled in its log, and one the script left out in an HA cluster, do not apply; with the evidence', async () => {
  const dir = await makeTempDir();
  const file = await writeReport(dir, NAME, reportBytes(reportFiles({ version: '1.18', layout: 'netstat', disabled: ['etcd'] })));
  const doc = JSON.parse((await runInProcess(['check', '--report', file, '--json'])).stdout);
  const etcd = doc.results.find((r: any) => r.id === 'etcd.client-cert-auth');
  assert.equal([etcd.status, etcd.reason], ['NOT APPLICABLE', 'snap.microk8s.daemon-etcd is disabled on this node (inspection-report/snap.microk8s.daemon-etcd/systemctl.log: disabled and not running)']);
});

test('a journal of 100,000 lines is passed over, never kept: the verdicts are the same', async () => {
  const dir = await makeTempDir();
  const file = await writeReport(dir, NAME, reportBytes(reportFiles({ version: '1.28', journalLines: 100_000 })));
  const run = await runInProcess(['check', '--report', file, '--json']);
  assert.is(run.status, 2, run.stderr);
  assert.equal(byStatus(JSON.parse(run.stdout)), BASELINE_1_28);
});

test('text, JUnit and SARIF name the report as the node; the fix is for the node', async () => {
  const dir = await makeTempDir();
  const file = await writeReport(dir, NAME, reportBytes(reportFiles({ version: '1.28' })));
  const text = await runInProcess(['check', '--report', file, '--no-color', '--only', 'kube-scheduler.bind-address']);
  assert.is(text.stdout.split('\n')[0], `Profile baseline on ${NAME} (MicroK8s 1.28.15)`);
  assert.ok(text.stdout.includes('fix: on the node: harden plan --only kube-scheduler.bind-address\n'), text.stdout);
  const junit = await runInProcess(['check', '--report', file, '--format', 'junit']);
  assert.ok(junit.stdout.includes(`<testsuite name="baseline on ${NAME}"`), junit.stdout.slice(0, 400));
  const sarif = await runInProcess(['check', '--report', file, '--format', 'sarif']);
  assert.ok(sarif.stdout.includes(NAME));
});

// ---- damaged and hostile reports ----------------------------------------------------------------------

const files128 = () => reportFiles({ version: '1.28' });
const HOSTILE: Array<[string, () => Buffer, string]> = [
  ['not gzip', () => tarBytes([{ name: 'inspection-report/args/kubelet', content: 'x' }]), 'is not gzip-compressed: a microk8s inspect report is a .tar.gz'],
  ['a truncated gzip stream', () => { const good = reportBytes(files128()); return good.subarray(0, Math.floor(good.length / 2)); }, 'the gzip stream is damaged or truncated (unexpected end of file)'],
  ['a symlink member', () => reportBytes(files128(), [{ name: 'inspection-report/args/kubelet-link', type: '2', linkName: '/etc/shadow' }]), 'inspection-report/args/kubelet-link is a symbolic link to /etc/shadow: harden reads only regular files from an inspection report, and follows no link'],
  ['a hard link member', () => reportBytes(files128(), [{ name: 'inspection-report/args/kubelet2', type: '1', linkName: 'inspection-report/args/kubelet' }]), 'inspection-report/args/kubelet2 is a hard link to inspection-report/args/kubelet: harden reads only regular files from an inspection report, and follows no link'],
  ['a name climbing out', () => reportBytes(files128(), [{ name: 'inspection-report/../../etc/cron.d/x', content: 'x' }]), "inspection-report/../../etc/cron.d/x climbs out of the archive with '..'"],
  ['an absolute name', () => reportBytes(files128(), [{ name: '/etc/cron.d/x', content: 'x' }]), '/etc/cron.d/x is an absolute name: an inspection report holds only names inside it'],
  ['a huge args file', () => gzipSync(tarBytes([{ name: 'inspection-report/args/kube-apiserver', size: 17 * 1024 * 1024 }], { end: false })), 'inspection-report/args/kube-apiserver is 17825792 bytes, more than the 16777216 harden reads of it'],
  ['a FIFO member', () => reportBytes(files128(), [{ name: 'inspection-report/args/kubelet', type: '6' }]), 'inspection-report/args/kubelet is a FIFO: harden reads only regular files and directories from an inspection report'],
  ['a tar that stops inside a member', () => gzipSync(tarBytes([{ name: 'inspection-report/args/kubelet', content: 'x'.repeat(2000) }]).subarray(0, 1024)), 'the archive is truncated: it stops at byte 1024, inside member inspection-report/args/kubelet'],
  ['not a tar', () => gzipSync(Buffer.alloc(2048, 65)), 'not a tar archive: the header at byte 0 has a bad checksum'],
];

for (const [what, bytes, message] of HOSTILE) {
  test(`${what}: one line for that report, exit 1`, async () => {
    const dir = await makeTempDir();
    const file = await writeReport(dir, 'bad.tar.gz', bytes());
    const run = await runInProcess(['check', '--report', file]);
    assert.is(run.status, 1);
    assert.is(run.stdout, '');
    assert.is(run.stderr, `error: bad.tar.gz: ${message}\n${HINT}`);
  });
}

test('no args dir, or not a report at all', async () => {
  const dir = await makeTempDir();
  const noArgs = await writeReport(dir, 'a.tar.gz', reportBytes(files128().filter((f) => !f.name.includes('/args/'))));
  const other = await writeReport(dir, 'b.tar.gz', reportBytes([{ name: 'etc/hosts', content: 'x' }]));
  const hint = 'hint: make the report with `sudo microk8s inspect` on the node, and pass the inspection-report-*.tar.gz it names\n';
  assert.is((await runInProcess(['check', '--report', noArgs])).stderr, `error: a.tar.gz: inspection-report/args/ is missing: the report holds no args files to audit\n${hint}`);
  assert.is((await runInProcess(['check', '--report', other])).stderr, `error: b.tar.gz: inspection-report/ is missing: this is not a microk8s inspect report\n${hint}`);
});

test("a directory where a component's args file belongs is refused, as on a node", async () => {
  const dir = await makeTempDir();
  const file = await writeReport(dir, 'bad.tar.gz', reportBytes(reportFiles({ version: '1.28', args: { kubelet: null, 'kubelet/x': 'y' } })));
  const run = await runInProcess(['check', '--report', file]);
  assert.equal([run.status, run.stderr], [1, 'error: bad.tar.gz: inspection-report/args/kubelet is a directory, not an args file\nhint: kubelet reads its flags from this file: make the report again once the node\'s args dir is mended\n']);
});

test('a missing file, a directory, and --report with --root', async () => {
  const dir = await makeTempDir();
  const missing = await runInProcess(['check', '--report', path.join(dir, 'gone.tar.gz')]);
  assert.equal([missing.status, missing.stderr], [1, 'error: gone.tar.gz: does not exist\nhint: name the inspection-report-*.tar.gz that `microk8s inspect` printed\n']);
  await fs.mkdir(path.join(dir, 'd.tar.gz'));
  const directory = await runInProcess(['check', '--report', path.join(dir, 'd.tar.gz')]);
  assert.equal([directory.status, directory.stderr], [1, 'error: d.tar.gz: is not a regular file (a directory)\nhint: name the report file itself\n']);
  const rooted = await runInProcess(['--root', dir, 'check', '--report', path.join(dir, 'x.tar.gz')]);
  assert.equal([rooted.status, rooted.stderr], [1, 'error: --report reads microk8s inspect tarballs, not node roots: it does not go with --root\nhint: run one check for the tarballs and another for the roots\n']);
});

test('a hostile report among good ones: its error in its place, the others audited, exit 1', async () => {
  const dir = await makeTempDir();
  const bad = await writeReport(dir, 'inspection-report-20261201_000000.tar.gz', reportBytes(files128(), [{ name: 'inspection-report/args/x', type: '2', linkName: '/etc/shadow' }]));
  const good = await writeReport(dir, NAME, reportBytes(files128()));
  const run = await runInProcess(['check', '--report', bad, good, '--json']);
  assert.is(run.status, 1);
  assert.is(run.stderr, `error: inspection-report-20261201_000000.tar.gz: inspection-report/args/x is a symbolic link to /etc/shadow: harden reads only regular files from an inspection report, and follows no link\n${HINT}`);
  const docs = JSON.parse(run.stdout);
  assert.equal(docs['inspection-report-20261201_000000.tar.gz'].results, []);
  assert.equal(byStatus(docs[NAME]), BASELINE_1_28);
});

test('two reports of the same name in different directories are named by their paths as given', async () => {
  const dir = await makeTempDir();
  await fs.mkdir(path.join(dir, 'a'));
  await fs.mkdir(path.join(dir, 'b'));
  const bytes = reportBytes(reportFiles({ version: '1.28' }));
  await writeReport(path.join(dir, 'a'), NAME, bytes);
  await writeReport(path.join(dir, 'b'), NAME, bytes);
  const other = await writeReport(dir, 'inspection-report-20261201_121212.tar.gz', bytes);
  const run = await runInProcess(['check', '--report', path.join(dir, 'a', NAME), path.join(dir, 'b', NAME), other, '--json']);
  assert.equal(Object.keys(JSON.parse(run.stdout)), [path.join(dir, 'a', NAME), path.join(dir, 'b', NAME), 'inspection-report-20261201_121212.tar.gz']);
});

test.run();
