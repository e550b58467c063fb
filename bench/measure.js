// What the benchmarks share: timing a command (wall time, and with /usr/bin/time its CPU time and peak RSS),
// medians over interleaved runs, the units, and the table they print.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = fileURLToPath(new URL('..', import.meta.url));
export const BIN = path.join(repo, 'bin/harden.cjs');
const TIME = '/usr/bin/time';
export const hasTime = existsSync(TIME);

/** `--quick` or nothing: anything else is a usage error (exit 2). */
export function quickOption(name) {
  const unknown = process.argv.slice(2).filter((arg) => arg !== '--quick');
  if (unknown.length > 0) {
    console.error(`usage: node bench/${name} [--quick] (got ${unknown.join(' ')})`);
    process.exit(2);
  }
  return process.argv.includes('--quick');
}

/**
 * A timer whose work dir (for the fixtures a benchmark lays out, and /usr/bin/time's output) is `work`. Each
 * measure runs a command once: wall ms, CPU ms (user + system) and peak RSS in KB (both null without
 * /usr/bin/time). A command that exits otherwise than `ok` is a crash, kept for the report.
 */
export function timer(prefix) {
  const work = mkdtempSync(path.join(os.tmpdir(), prefix));
  const timeFile = path.join(work, 'time');
  const crashes = [];
  const measure = (label, argv, ok = [0]) => {
    const [command, args] = hasTime ? [TIME, ['-f', '%M %U %S', '-o', timeFile, ...argv]] : [argv[0], argv.slice(1)];
    const started = performance.now();
    const result = spawnSync(command, args, { cwd: repo, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } });
    const ms = performance.now() - started;
    if (result.error || !ok.includes(result.status)) {
      crashes.push(`${label}: exit ${result.status}${result.error ? ` (${result.error.message})` : ''}: ${(result.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
    }
    if (!hasTime) return { ms, cpu: null, rss: null };
    const [rss, user, system] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
    return { ms, cpu: (user + system) * 1000, rss };
  };
  return { work, crashes, measure, cleanup: () => rmSync(work, { recursive: true, force: true }) };
}

export const median = (values) => {
  const sorted = values.slice().sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** Runs each case `runs` times, interleaved (a, b, a, b …): the median wall and CPU time and the peak RSS of each. */
export function series(measure, cases, runs) {
  const samples = cases.map(() => []);
  for (let run = 0; run < runs; run += 1) {
    cases.forEach((c, i) => samples[i].push(measure(c.label, c.argv, c.ok)));
  }
  return samples.map((s) => ({
    ms: median(s.map((x) => x.ms)),
    cpu: s.some((x) => x.cpu === null) ? null : median(s.map((x) => x.cpu)),
    rss: s.some((x) => x.rss === null) ? null : s.reduce((max, x) => Math.max(max, x.rss), 0),
  }));
}

export const ms = (value) => (value === null ? 'n/a' : value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(0)} ms`);
export const mb = (kb) => (kb === null ? 'n/a' : `${(kb / 1024).toFixed(0)} MB`);

/** The machine, as the first line of a report. */
export function machine(title, quick) {
  const cpus = os.cpus();
  return `${title}${quick ? ' (--quick)' : ''}: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, Node ${process.version}, ${os.platform()} ${os.release()}; load average ${os.loadavg()[0].toFixed(2)}`;
}

/** A Markdown table of `rows`, with the columns `headers` names. */
export function table(headers, rows) {
  const columns = Object.keys(headers);
  const widths = columns.map((key) => rows.reduce((max, r) => Math.max(max, String(r[key]).length), headers[key].length));
  const line = (r) => `| ${columns.map((key, i) => String(r[key]).padEnd(widths[i])).join(' | ')} |`;
  return [line(headers), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}

/** Reports the commands that crashed and makes the exit status say so. */
export function reportCrashes(crashes) {
  if (crashes.length === 0) return;
  console.error(`\n${crashes.length} measured command(s) crashed:`);
  for (const crash of crashes) console.error(`  ${crash}`);
  process.exitCode = 1;
}
