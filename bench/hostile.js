#!/usr/bin/env node
// Hostile args files: `harden check` on a node whose kube-proxy args file is 2 MiB or 16 MiB (just under the
// 16 MiB limit), in the two shapes that make the most work: stray words (1,000 `x` a line, a finding per
// word) and one flag repeated on every line (a finding per line). `node bench/hostile.js [--quick]`, after
// `npm ci` (which builds dist/). Each case runs beside the stock node in the same run (interleaved), 3 times
// (1 with --quick); the table gives the median wall time, the median CPU time (user + system, which a busy
// machine inflates less than the wall time) and the peak RSS. Target for 16 MiB: under 10 s and under 1 GB.
// A missed target is reported, never a failure; the exit status is non-zero only when a command crashes.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { layOutNode } from '../dist/test/helpers/node-root.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const BIN = path.join(repo, 'bin/harden.cjs');
const quick = process.argv.includes('--quick');
const unknown = process.argv.slice(2).filter((arg) => arg !== '--quick');
if (unknown.length > 0) {
  console.error(`usage: node bench/hostile.js [--quick] (got ${unknown.join(' ')})`);
  process.exit(2);
}
const TIME = '/usr/bin/time';
const hasTime = existsSync(TIME);
const work = mkdtempSync(path.join(os.tmpdir(), 'harden-hostile-'));
const timeFile = path.join(work, 'time');
const crashes = [];
const MIB = 1024 * 1024;
const LIMIT = 16 * MIB;

/** One run: wall ms, CPU ms (user + system) and peak RSS in KB (null without /usr/bin/time). */
function measure(label, argv) {
  const [command, args] = hasTime ? [TIME, ['-f', '%M %U %S', '-o', timeFile, ...argv]] : [argv[0], argv.slice(1)];
  const started = performance.now();
  const result = spawnSync(command, args, { cwd: repo, encoding: 'utf8', maxBuffer: 64 * MIB, env: { ...process.env, NO_COLOR: '1' } });
  const ms = performance.now() - started;
  if (result.error || ![0, 2].includes(result.status)) {
    crashes.push(`${label}: exit ${result.status}${result.error ? ` (${result.error.message})` : ''}: ${(result.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
  }
  if (!hasTime) return { ms, cpu: null, rss: null };
  const [rss, user, system] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  return { ms, cpu: (user + system) * 1000, rss };
}

const median = (values) => {
  const sorted = values.slice().sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** The text of a kube-proxy args file of `shape`, as close under `bytes` as whole lines allow. */
function argsText(shape, bytes) {
  if (shape === 'words') {
    const line = `${'x '.repeat(999)}x\n`;
    return line.repeat(Math.floor((bytes - 1) / line.length));
  }
  const line = '--proxy-mode=iptables\n';
  const last = '--proxy-mode=userspace\n';
  return `${line.repeat(Math.floor((bytes - 1 - last.length) / line.length))}${last}`;
}

const stock = path.join(work, 'stock');
mkdirSync(stock);
await layOutNode(stock, { version: '1.28' });
const cases = [];
for (const bytes of [2 * MIB, LIMIT]) {
  for (const shape of ['words', 'flag']) {
    const root = path.join(work, `${shape}-${bytes}`);
    mkdirSync(root);
    const data = await layOutNode(root, { version: '1.28' });
    const text = argsText(shape, bytes);
    writeFileSync(path.join(data, 'args/kube-proxy'), text);
    const what = shape === 'words' ? `${(text.length / 2).toLocaleString('en')} stray words` : `${(text.split('\n').length - 1).toLocaleString('en')} --proxy-mode lines`;
    cases.push({ label: `check, ${bytes / MIB} MiB kube-proxy of ${what} (${text.length.toLocaleString('en')} bytes)`, root, bytes });
  }
}
const runs = quick ? 1 : 3;
const all = [{ label: 'check, stock node', root: stock }, ...cases];
const samples = all.map(() => []);
for (let run = 0; run < runs; run += 1) {
  all.forEach((c, i) => samples[i].push(measure(c.label, [process.execPath, BIN, '--root', c.root, 'check'])));
}
const results = samples.map((s) => ({
  ms: median(s.map((x) => x.ms)),
  cpu: s[0].cpu === null ? null : median(s.map((x) => x.cpu)),
  rss: s[0].rss === null ? null : s.reduce((max, x) => Math.max(max, x.rss), 0),
}));
rmSync(work, { recursive: true, force: true });

const ms = (value) => (value === null ? 'n/a' : value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(0)} ms`);
const mb = (kb) => (kb === null ? 'n/a' : `${(kb / 1024).toFixed(0)} MB`);
const rows = all.map((c, i) => {
  const r = results[i];
  const targeted = c.bytes === LIMIT;
  const missed = [r.ms >= 10_000 && `time by ${ms(r.ms - 10_000)}`, r.rss !== null && r.rss >= 1_000_000 && `memory by ${mb(r.rss - 1_000_000)}`].filter(Boolean);
  return {
    benchmark: `${c.label} (median of ${runs})`,
    wall: ms(r.ms),
    cpu: ms(r.cpu),
    rss: mb(r.rss),
    target: targeted ? '< 10 s, < 1 GB' : '',
    verdict: targeted ? (missed.length === 0 ? 'met' : `missed: ${missed.join(', ')}`) : '',
  };
});
const cpus = os.cpus();
console.log(`harden hostile-input benchmark${quick ? ' (--quick)' : ''}: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, Node ${process.version}, ${os.platform()} ${os.release()}; load average ${os.loadavg()[0].toFixed(2)}`);
console.log(`CPU time and peak RSS ${hasTime ? 'from /usr/bin/time -f "%M %U %S"' : 'not measured: /usr/bin/time is missing'}\n`);
const headers = { benchmark: 'benchmark', wall: 'wall time', cpu: 'CPU time', rss: 'peak RSS', target: 'target', verdict: 'verdict' };
const columns = Object.keys(headers);
const widths = columns.map((key) => rows.reduce((max, r) => Math.max(max, String(r[key]).length), headers[key].length));
const line = (r) => `| ${columns.map((key, i) => String(r[key]).padEnd(widths[i])).join(' | ')} |`;
console.log(line(headers));
console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
for (const r of rows) console.log(line(r));
if (crashes.length > 0) {
  console.log(`\n${crashes.length} command(s) crashed:\n${crashes.join('\n')}`);
  process.exitCode = 1;
}
