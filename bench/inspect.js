#!/usr/bin/env node
// Audits of `microk8s inspect` reports: `node bench/inspect.js [--quick]` (after `npm ci`, which builds dist/).
// 1,000 reports (the seven fixture versions in turn, made as inspect.sh makes them: args, sys/, network/ss and
// a folder per service whose journal.log holds 10,000 lines), audited by one `harden check --report` run, and
// 1, 10 and 100 of them for the growth. Medians over repeated runs, with the peak RSS; a missed target is
// reported, never a failure.
import { copyFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { reportBytes, reportFiles, writeReport, FIXTURE_VERSIONS } from '../dist/test/helpers/inspection-report.js';
import { BIN, hasTime, machine, mb, ms, quickOption, reportCrashes, series as seriesOf, table, timer } from './measure.js';

const quick = quickOption('inspect.js');
const { work, crashes, measure, cleanup } = timer('harden-bench-inspect-');
const runs = quick ? 1 : 3;
const JOURNAL_LINES = 10_000;

// One report per fixture version, copied to 1,000 files (making 1,000 distinct gzip streams would take minutes
// and changes nothing the check does: every file is read, unpacked and audited on its own).
const made = [];
for (const version of FIXTURE_VERSIONS) {
  const bytes = reportBytes(reportFiles({ version, journalLines: JOURNAL_LINES }));
  made.push({ version, file: await writeReport(work, `made-${version}.tar.gz`, bytes), size: bytes.length, unpacked: gunzipSync(bytes).length });
}
const files = [];
for (let i = 0; i < 1000; i += 1) {
  const source = made[i % made.length];
  const file = path.join(work, `inspection-report-20261201_${String(i).padStart(6, '0')}.tar.gz`);
  copyFileSync(source.file, file);
  files.push(file);
}
const totalBytes = files.reduce((sum, file) => sum + statSync(file).size, 0);
const sizes = [1, 10, 100, 1000];
const CHECK_OK = [0, 2];
// The floor: gunzipping the same 1,000 files alone, as the check does (streams, 16 at once), nothing else.
const gunzipAll = path.join(work, 'gunzip-all.mjs');
writeFileSync(gunzipAll, `import { readFileSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
const files = process.argv.slice(2);
let next = 0;
const one = () => new Promise((resolve) => { const g = createGunzip({ chunkSize: 1024 * 1024 }); g.on('data', () => {}); g.on('end', resolve); g.end(readFileSync(files[next++])); });
await Promise.all(Array.from({ length: 16 }, async () => { while (next < files.length) await one(); }));
`);
const cases = [...sizes.map((n) => ({ label: `check --report ${n}`, argv: [process.execPath, BIN, 'check', '--report', ...files.slice(0, n)], ok: CHECK_OK })), { label: 'gunzip 1000', argv: [process.execPath, gunzipAll, ...files] }];
const measured = seriesOf(measure, cases, runs);
const times = measured.slice(0, sizes.length);
const floor = measured[sizes.length];

const rows = [];
const one = times[0];
sizes.forEach((n, i) => {
  const perReport = (times[i].ms - one.ms) / Math.max(n - 1, 1);
  rows.push({
    benchmark: `check --report, ${n} ${n === 1 ? 'report' : 'reports'} (median of ${runs})`,
    measured: `${ms(times[i].ms)}${times[i].cpu === null ? '' : `, CPU ${ms(times[i].cpu)}`}`,
    baseline: n === 1 ? '-' : `1 report: ${ms(one.ms)}`,
    ratio: n === 1 ? '-' : `+${perReport.toFixed(2)} ms/report`,
    target: n === 1000 ? '< 5 s' : '',
    verdict: n === 1000 ? (times[i].ms < 5000 ? 'met' : `missed by ${ms(times[i].ms - 5000)}`) : '',
    rss: mb(times[i].rss),
  });
});
rows.push({ benchmark: 'gunzip alone: the same 1,000 files, streamed 16 at once', measured: `${ms(floor.ms)}${floor.cpu === null ? '' : `, CPU ${ms(floor.cpu)}`}`, baseline: `check: ${ms(times[3].ms)}`, ratio: '', target: '', verdict: `check is ${(times[3].ms / floor.ms).toFixed(1)}x unpacking alone`, rss: mb(floor.rss) });
// Growth is judged on CPU time when /usr/bin/time gives it: on a shared machine the wall clock follows the load.
const cost = (t) => (t.cpu ?? t.ms);
const per = (i) => (cost(times[i]) - cost(one)) / (sizes[i] - 1);
const linear = per(3) <= 1.25 * per(2);
const unit = one.cpu === null ? 'ms/report' : 'ms CPU/report';
rows.push({ benchmark: 'growth 100 -> 1,000 reports', measured: `+${per(3).toFixed(2)} ${unit}`, baseline: `100: +${per(2).toFixed(2)} ${unit}`, ratio: '', target: 'linear', verdict: linear ? 'met' : 'missed: worse than linear', rss: '' });
cleanup();

console.log(machine('harden inspect-report benchmark', quick));
console.log(`peak RSS ${hasTime ? 'from /usr/bin/time (the largest over the runs)' : 'not measured: /usr/bin/time is missing'}`);
const kib = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`;
const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
console.log(`reports: ${made.map((m) => `${m.version} ${kib(m.size)} (${mib(m.unpacked)} unpacked)`).join(', ')}; ${JOURNAL_LINES.toLocaleString('en')} journal lines per service; 1,000 reports: ${mib(totalBytes)}\n`);
console.log(table({ benchmark: 'benchmark', measured: 'measured', baseline: 'baseline (same run)', ratio: 'per report added', target: 'target', verdict: 'verdict', rss: 'peak RSS' }, rows));
reportCrashes(crashes);
