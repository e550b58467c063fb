// The crash trials of bench/crash.js, a few of them with a fixed seed: harden apply and rollback killed with
// SIGKILL at random moments (half of them just after the snapshot dir appears), every invariant checked after
// each kill and after the recovery rollback. The bench runs 500 of the same trials; see test/fault/crash-trial.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { calibrate, configKey, runTrial, trialFailures, trialSpec, type Timing, type TrialResult } from './crash-trial.js';

const SEED = 11;
const TRIALS = 8;
const specs = Array.from({ length: TRIALS }, (_, index) => trialSpec(SEED, index, { versions: ['1.36'], rollbackShare: 0.34, liveShare: 0 }));

test('SIGKILL at random moments of apply and rollback: nothing torn, a snapshot whenever something changed, every original restored, no temp left', async () => {
  const cache = new Map();
  const timings = new Map<string, Timing>();
  for (const spec of specs) if (!timings.has(configKey(spec))) timings.set(configKey(spec), await calibrate(spec, cache));
  const results: TrialResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < specs.length) {
      const spec = specs[next++];
      results.push(await runTrial(spec, timings.get(configKey(spec))!, cache));
    }
  };
  await Promise.all([worker(), worker()]);

  assert.equal(results.flatMap(trialFailures), []);
  assert.ok(results.some((r) => r.spec.command === 'rollback') && results.some((r) => r.spec.command === 'apply'), 'both commands are killed');
  const phases = results.map((r) => r.phase);
  assert.ok(phases.some((phase) => phase === 'snapshot complete' || phase === 'some written' || phase === 'all written'), `some kills land after the snapshot: ${phases.join(', ')}`);
});

test.run();
