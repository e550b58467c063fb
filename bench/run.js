#!/usr/bin/env node
// Every quick benchmark, one table: `node bench/run.js [--quick]` (after `npm ci`, which builds dist/, and
// `npm run build:sea` for the standalone executable's start-up).
// Each figure is measured beside its baseline in the same run (interleaved, medians over repeated runs), with
// the peak RSS of the measured command. Targets are reported as met or missed; the exit status is non-zero
// only when a measured command crashes. Crash consistency is bench/crash.js, separate because it is slow.
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { layOutNode } from '../dist/test/helpers/node-root.js';
import { fixtureVersions } from '../dist/test/helpers/paths.js';
import { BIN, hasTime, machine, mb, ms, quickOption, repo, reportCrashes, series as seriesOf, table, timer } from './measure.js';

const quick = quickOption('run.js');
const { work, crashes, measure, cleanup } = timer('harden-bench-');
const series = (cases, runs) => seriesOf(measure, cases, runs);

const rows = [];
const row = (benchmark, measured, baseline, ratio, target, verdict, rss) => rows.push({ benchmark, measured, baseline, ratio, target, verdict, rss });
const verdict = (ok, by) => (ok ? 'met' : `missed by ${by}`);
const harden = (...args) => [process.execPath, BIN, ...args];

// 1. Start-up: the CLI on the bundled example node against `node -e 0`, and the standalone executable
// (`npm run build:sea`) on the same, in the same interleaved series, when it is built.
const startupRuns = quick ? 5 : 15;
const executable = path.join(repo, 'dist', `harden-${process.platform}-${process.arch}`);
const haveExecutable = existsSync(executable);
const startupArgs = ['--root', 'examples/node-1.28', 'plan', '--profile', 'cis'];
const [startup, bare, standalone] = series([
  { label: 'start-up', argv: [...harden(), ...startupArgs] },
  { label: 'node -e 0', argv: [process.execPath, '-e', '0'] },
  ...(haveExecutable ? [{ label: 'start-up, standalone executable', argv: [executable, ...startupArgs] }] : []),
], startupRuns);
const startupRatio = startup.ms / bare.ms;
row(`start-up: plan --profile cis, examples/node-1.28 (median of ${startupRuns})`, ms(startup.ms), `node -e 0: ${ms(bare.ms)}`, `${startupRatio.toFixed(2)}x`, '<= 1.5x', verdict(startupRatio <= 1.5, `${(startupRatio - 1.5).toFixed(2)}x`), mb(startup.rss));
if (standalone) {
  const ratio = standalone.ms / bare.ms;
  row(`start-up: the same, dist/${path.basename(executable)} (median of ${startupRuns})`, ms(standalone.ms), `node -e 0: ${ms(bare.ms)}`, `${ratio.toFixed(2)}x`, '<= 1.5x', verdict(ratio <= 1.5, `${(ratio - 1.5).toFixed(2)}x`), mb(standalone.rss));
} else {
  row(`start-up: dist/${path.basename(executable)}`, 'not built', '', '', '<= 1.5x', 'npm run build:sea first', '');
}

// 2. Fleet audit: `check` over 1, 10, 100 and 1,000 node roots in one process, versions mixed.
const fleetDir = path.join(work, 'fleet');
mkdirSync(fleetDir);
const fleetRoots = [];
for (let i = 0; i < 1000; i += 1) {
  const root = path.join(fleetDir, `node-${String(i).padStart(4, '0')}`);
  mkdirSync(root);
  await layOutNode(root, { version: fixtureVersions[i % fixtureVersions.length], worker: i % 10 === 9 });
  fleetRoots.push(root);
}
const CHECK_OK = [0, 2];
const fleetRuns = quick ? 1 : 3;
const sizes = [1, 10, 100, 1000];
const fleet = series(sizes.map((n) => ({ label: `check ${n} roots`, argv: [...harden(), ...fleetRoots.slice(0, n).flatMap((root) => ['--root', root]), 'check'], ok: CHECK_OK })), fleetRuns);
const [byDir] = series([{ label: 'check --roots', argv: harden('check', '--roots', fleetDir), ok: CHECK_OK }], fleetRuns);
const one = fleet[0];
sizes.forEach((n, i) => {
  const perNode = (fleet[i].ms - one.ms) / Math.max(n - 1, 1);
  const target = n === 1000 ? '< 3 s' : '';
  const result = n === 1000 ? verdict(fleet[i].ms < 3000, ms(fleet[i].ms - 3000)) : '';
  row(`fleet: check, ${n} root${n > 1 ? 's' : ''} by --root (median of ${fleetRuns})`, ms(fleet[i].ms), n === 1 ? '-' : `1 root: ${ms(one.ms)}`, n === 1 ? '-' : `${(fleet[i].ms / one.ms).toFixed(1)}x, +${perNode.toFixed(2)} ms/node`, target, result, mb(fleet[i].rss));
});
const linear = (fleet[3].ms - one.ms) / 999 <= 1.25 * ((fleet[2].ms - one.ms) / 99);
row('fleet: growth 100 -> 1,000 roots', `+${((fleet[3].ms - one.ms) / 999).toFixed(2)} ms/node`, `100: +${((fleet[2].ms - one.ms) / 99).toFixed(2)} ms/node`, '', 'linear', linear ? 'met' : 'missed: worse than linear', '');
row(`fleet: check --roots DIR, 1,000 roots (median of ${fleetRuns})`, ms(byDir.ms), `by --root: ${ms(fleet[3].ms)}`, `${(byDir.ms / fleet[3].ms).toFixed(2)}x`, '< 3 s', verdict(byDir.ms < 3000, ms(byDir.ms - 3000)), mb(byDir.rss));
rmSync(fleetDir, { recursive: true, force: true });

// 3. Large input: plan on a node whose kube-apiserver args file is padded to 10k, 50k and 100k lines.
const largeRuns = quick ? 1 : 3;
const base = path.join(work, 'large-base');
mkdirSync(base);
await layOutNode(base, { version: '1.28' });
const large = [10_000, 50_000, 100_000].map((lines) => {
  const root = path.join(work, `large-${lines}`);
  mkdirSync(root);
  return layOutNode(root, { version: '1.28' }).then((data) => {
    const file = path.join(data, 'args/kube-apiserver');
    const have = readFileSync(file, 'utf8').split('\n').length - 1;
    let padding = '';
    for (let i = 0; i < (lines - have) / 2; i += 1) padding += `# padding ${i}: audit logs are kept for a while\n--audit-log-maxage=${i % 90}\n`;
    appendFileSync(file, padding);
    return { lines, root };
  });
});
const largeNodes = await Promise.all(large);
const largeTimes = series([
  { label: 'plan, stock args', argv: harden('--root', base, 'plan', '--profile', 'cis') },
  ...largeNodes.map(({ lines, root }) => ({ label: `plan, ${lines} lines`, argv: harden('--root', root, 'plan', '--profile', 'cis') })),
], largeRuns);
const stock = largeTimes[0];
largeNodes.forEach(({ lines }, i) => {
  const t = largeTimes[i + 1];
  const perK = (t.ms - stock.ms) / (lines / 1000);
  row(`large input: plan --profile cis, ${lines.toLocaleString('en')}-line kube-apiserver (median of ${largeRuns})`, ms(t.ms), `stock file: ${ms(stock.ms)}`, `${(t.ms / stock.ms).toFixed(1)}x, +${perK.toFixed(1)} ms per 1k lines`, lines === 100_000 ? '< 1 s' : '', lines === 100_000 ? verdict(t.ms < 1000, ms(t.ms - 1000)) : '', mb(t.rss));
});
const perKLines = largeNodes.map(({ lines }, i) => (largeTimes[i + 1].ms - stock.ms) / lines);
const largeLinear = perKLines[2] <= 1.25 * perKLines[0];
row('large input: growth 10k -> 100k lines', `${(perKLines[2] * 1000).toFixed(1)} ms per 1k lines`, `10k: ${(perKLines[0] * 1000).toFixed(1)} ms per 1k lines`, '', 'linear', largeLinear ? 'met' : 'missed: worse than linear', '');
cleanup();

// The table.
console.log(machine('harden benchmarks', quick));
console.log(`peak RSS ${hasTime ? 'from /usr/bin/time (the largest over the runs)' : 'not measured: /usr/bin/time is missing'}\n`);
console.log(table({ benchmark: 'benchmark', measured: 'measured', baseline: 'baseline (same run)', ratio: 'ratio', target: 'target', verdict: 'verdict', rss: 'peak RSS' }, rows));
console.log('\nCrash consistency under SIGKILL is measured separately (slow): node bench/crash.js');
reportCrashes(crashes);
