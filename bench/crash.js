#!/usr/bin/env node
// Crash consistency under SIGKILL: `node bench/crash.js [--trials N] [--seed S] [--jobs J]` (after `npm ci`,
// which builds dist/). Each trial lays out a fresh node of a fixture version (rotating), spawns
// `harden apply --yes --profile cis` — or, in a share of the trials, `harden rollback --yes` after a
// completed apply — and kills it with SIGKILL at a random moment: half uniform over the measured run time,
// half a random delay after the snapshot dir appears. Then it checks that no file is torn, that a complete
// snapshot exists whenever something changed, that `harden rollback --yes --no-restart` restores every
// original, and that no temp file is left. The trial code is test/fault/crash-trial.ts (compiled), which the
// test suite runs too. Exit status 1 when any invariant failed.
import { calibrate, configKey, PHASES, runTrial, trialFailures, trialPassed, trialSpec } from '../dist/test/fault/crash-trial.js';
import { fixtureVersions } from '../dist/test/helpers/paths.js';

function options(argv) {
  const out = { trials: 500, seed: 1, jobs: 2, rollbackShare: 0.3, liveShare: 0.2 };
  for (let i = 0; i < argv.length; i += 1) {
    const [name, inline] = argv[i].split('=', 2);
    const value = inline ?? argv[++i];
    const number = Number(value);
    const key = { '--trials': 'trials', '--seed': 'seed', '--jobs': 'jobs', '--rollback-share': 'rollbackShare', '--live-share': 'liveShare' }[name];
    if (!key || value === undefined || !Number.isFinite(number) || number < 0) {
      console.error(`usage: node bench/crash.js [--trials N] [--seed S] [--jobs J] [--rollback-share 0..1] [--live-share 0..1] (got ${argv[i]})`);
      process.exit(2);
    }
    out[key] = number;
  }
  return out;
}

const opts = options(process.argv.slice(2));
const started = performance.now();
const specs = Array.from({ length: opts.trials }, (_, index) => trialSpec(opts.seed, index, { versions: fixtureVersions, rollbackShare: opts.rollbackShare, liveShare: opts.liveShare }));
const cache = new Map();

let stopping = false;
process.on('SIGINT', () => {
  if (stopping) return;
  stopping = true;
  process.stderr.write('\nstopping after the trials under way (their nodes are removed)…\n');
});

// Calibration: one unkilled run of every configuration the trials use.
const timings = new Map();
for (const spec of specs) {
  const key = configKey(spec);
  if (timings.has(key) || stopping) continue;
  const timing = await calibrate(spec, cache);
  timings.set(key, timing);
  process.stderr.write(`calibrated ${key}: ${timing.totalMs.toFixed(0)} ms, snapshot dir at ${timing.snapshotMs.toFixed(0)} ms\n`);
}

const results = [];
let next = 0;
async function worker() {
  while (!stopping && next < specs.length) {
    const spec = specs[next++];
    const result = await runTrial(spec, timings.get(configKey(spec)), cache);
    results.push(result);
    process.stderr.write(trialPassed(result) ? '.' : 'F');
    if (results.length % 100 === 0) process.stderr.write(` ${results.length}\n`);
  }
}
await Promise.all(Array.from({ length: Math.max(1, opts.jobs) }, worker));
process.stderr.write('\n');

// The table.
const pad = (text, width) => String(text).padEnd(width);
const lines = [];
const total = (pick) => results.reduce((sum, r) => sum + pick(r), 0);
lines.push(`crash trials: ${results.length} (seed ${opts.seed}, ${opts.jobs} at a time), ${((performance.now() - started) / 1000).toFixed(1)} s in all`);
lines.push('');
lines.push(`${pad('killed in phase', 20)}${PHASES.map((p) => pad(p, 19)).join('')}total`);
for (const command of ['apply', 'rollback']) {
  for (const live of [false, true]) {
    const of = results.filter((r) => r.spec.command === command && r.spec.live === live);
    if (of.length === 0) continue;
    lines.push(`${pad(`${command}${live ? ' (live)' : ''}`, 20)}${PHASES.map((p) => pad(of.filter((r) => r.phase === p).length, 19)).join('')}${of.length}`);
  }
}
lines.push('');
const restored = results.filter((r) => r.recovery === 'restored').length;
const nothing = results.filter((r) => r.recovery === 'nothing to roll back').length;
const rows = [
  ['torn files', total((r) => r.torn.length), 'must be 0'],
  ['missing snapshots', total((r) => r.missingSnapshot.length), 'must be 0'],
  ['unrecoverable states', results.filter((r) => r.unrecoverable.length > 0).length, 'must be 0'],
  ['leftover temps', total((r) => r.leftovers.length), 'after the recovery run; must be 0'],
  ['temps left by kills', total((r) => r.tempsAfterKill), `removed by the recovery run, which noted ${total((r) => r.tempsNoted)}`],
  ['locks taken over', results.filter((r) => r.tookOverLock).length, 'by the recovery run, from the killed one'],
  ['recovery', `${restored} restored, ${nothing} nothing to roll back`, `${results.length - restored - nothing} failed`],
];
for (const [name, value, note] of rows) lines.push(`${pad(name, 22)}${pad(value, 40)}${note}`);
const times = results.map((r) => r.ms).sort((a, b) => a - b);
if (times.length > 0) lines.push(`${pad('time per trial', 22)}${pad(`median ${(times[Math.floor(times.length / 2)] / 1000).toFixed(2)} s, max ${(times[times.length - 1] / 1000).toFixed(2)} s`, 40)}`);
console.log(lines.join('\n'));

const failures = results.filter((r) => !trialPassed(r)).flatMap(trialFailures);
if (failures.length > 0) {
  console.log(`\n${failures.length} failures${failures.length > 30 ? ' (the first 30)' : ''}:`);
  for (const line of failures.slice(0, 30)) console.log(`  ${line}`);
}
process.exitCode = failures.length > 0 || stopping ? 1 : 0;
