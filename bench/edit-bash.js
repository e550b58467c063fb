#!/usr/bin/env node
// More cases of the property in test/property/edit-bash.test.ts than CI runs: edits of bash-read args files full
// of quoted payloads, random subsets of the shipped profiles' flag rules, and real bash reading every edited file
// (each batch in one bash process). An edit the check lets through must never make bash run a payload.
//   node bench/edit-bash.js [--seed S] [--runs N] [--batch B]      (after `npm ci`, which builds dist/)
// Case i has seed S + i; a failure prints the command that replays it in the property test. Exit 1 on a failure.
import { flagRules, runEditCases } from '../dist/test/helpers/edit-bash.js';
import { caseSeeds } from '../dist/test/helpers/prng.js';

const USAGE = 'usage: node bench/edit-bash.js [--seed S] [--runs N] [--batch B]';
const options = { seed: 20261206, runs: 20000, batch: 4000 };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i += 2) {
  const name = args[i].replace(/^--/, '');
  const value = Number(args[i + 1]);
  if (!(name in options) || !Number.isInteger(value) || value < (name === 'seed' ? 0 : 1)) {
    console.error(`${USAGE} (got ${args.slice(i, i + 2).join(' ')})`);
    process.exit(2);
  }
  options[name] = value;
}

const rules = await flagRules();
const counts = { applied: 0, refused: 0, unchanged: 0, refusedThatWouldRun: 0 };
const failures = [];
const started = performance.now();
for (let from = 0; from < options.runs; from += options.batch) {
  const runs = Math.min(options.batch, options.runs - from);
  // Every refused edit is read here too (1 in 1), to count those that would have run a payload.
  for (const result of runEditCases(caseSeeds({ name: 'edit-bash', runs, seed: options.seed + from }), rules, 1)) {
    const { outcome, input } = result;
    if (outcome.after === input.before) counts.unchanged += 1;
    else if (outcome.applied) {
      counts.applied += 1;
      if (result.editedRan) failures.push(result);
    } else {
      counts.refused += 1;
      if (result.editedRan) counts.refusedThatWouldRun += 1;
    }
  }
  process.stderr.write(`${Math.min(from + runs, options.runs)} of ${options.runs} cases\n`);
}
const seconds = (performance.now() - started) / 1000;
console.log(`edit-bash: ${options.runs} cases from seed ${options.seed} in ${seconds.toFixed(1)} s (${(options.runs / seconds).toFixed(0)} cases/s)`);
console.log(`  applied ${counts.applied}, refused ${counts.refused} (${counts.refusedThatWouldRun} of them would have run a payload), unchanged ${counts.unchanged}`);
for (const failure of failures.slice(0, 10)) {
  console.log(`FAIL seed ${failure.seed}: bash ran a payload after an edit the check let through${failure.originalRan ? ' (the original ran it too: a generator fault)' : ''}`);
  console.log(`  replay: HARDEN_PROPERTY_SEED=${failure.seed} HARDEN_PROPERTY_RUNS=1 node node_modules/uvu/bin.js dist/test 'property/edit-bash\\.test\\.js$'`);
}
if (failures.length > 0) {
  console.log(`${failures.length} failures`);
  process.exit(1);
}
console.log('no failures');
