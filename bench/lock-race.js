#!/usr/bin/env node
// Many runs at once against one stale lock: `node bench/lock-race.js [--rounds N] [--contenders M] [--seed S]`
// (after `npm ci`, which builds dist/). Each round writes the lock of a dead pid of this boot, and M real
// processes call the compiled acquireLock at once; a holder keeps the lock until all M have answered, so the
// holders of a round held it at the same moment. The round code is test/helpers/lock-race.ts (compiled), which
// the test suite runs too (40 rounds of 12). Exit status 1 when any round had other than one holder, a refusal
// that did not name the holder, or something left in the state dir.
import { runLockRace } from '../dist/test/helpers/lock-race.js';

function options(argv) {
  const out = { rounds: 200, contenders: 12, seed: 1 };
  for (let i = 0; i < argv.length; i += 1) {
    const [name, inline] = argv[i].split('=', 2);
    const value = inline ?? argv[++i];
    const number = Number(value);
    const key = { '--rounds': 'rounds', '--contenders': 'contenders', '--seed': 'seed' }[name];
    if (!key || value === undefined || !Number.isInteger(number) || number < 1) {
      console.error(`usage: node bench/lock-race.js [--rounds N] [--contenders M] [--seed S] (got ${argv[i]})`);
      process.exit(2);
    }
    out[key] = number;
  }
  return out;
}

const opts = options(process.argv.slice(2));
const started = performance.now();
const results = await runLockRace(opts, (r) => {
  if (r.holders.length !== 1 || r.problems.length) console.error(`round ${r.round}: ${r.holders.length} holders at once${r.problems.map((p) => `; ${p}`).join('')}`);
});
const seconds = (performance.now() - started) / 1000;
const most = results.reduce((m, r) => Math.max(m, r.holders.length), 0);
const one = results.filter((r) => r.holders.length === 1);
const rows = [
  ['rounds', results.length, `${opts.contenders} processes each, seed ${opts.seed}`],
  ['exactly one holder', one.length, 'the rest of the round refused, naming it'],
  ['most holders at once', most, ''],
  ['holder took the stale lock over', one.filter((r) => r.tookOver[0]).length, 'it removed the dead pid’s lock, then linked its own'],
  ['holder linked after another took over', one.filter((r) => !r.tookOver[0]).length, 'another run removed the stale lock; this one linked first'],
  ['problems', results.reduce((sum, r) => sum + r.problems.length, 0), 'refusals not naming the holder, files left in the state dir'],
  ['time per round', `${((seconds * 1000) / results.length).toFixed(1)} ms`, `${seconds.toFixed(1)} s in all`],
];
const width = rows.reduce((m, r) => Math.max(m, r[0].length), 0);
for (const [name, value, note] of rows) console.log(`${name.padEnd(width)}  ${String(value).padStart(8)}  ${note}`);
process.exitCode = most === 1 && one.length === results.length && rows[5][1] === 0 ? 0 : 1;
