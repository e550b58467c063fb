// Many harden processes at once against one stale lock: at most one may hold it (test/helpers/lock-race.ts runs
// the rounds; bench/lock-race.js runs more of them). HARDEN_LOCK_RACE_ROUNDS sets the number of rounds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runLockRace } from '../helpers/lock-race.js';

const ROUNDS = Number(process.env.HARDEN_LOCK_RACE_ROUNDS ?? 40);
const CONTENDERS = 12;

test(`${CONTENDERS} processes at once against a dead pid's lock, ${ROUNDS} rounds: exactly one holds it in each round, every other is refused naming it, and nothing is left behind`, async () => {
  const results = await runLockRace({ rounds: ROUNDS, contenders: CONTENDERS, seed: 14 });
  assert.equal(results.map((r) => r.holders.length), Array(ROUNDS).fill(1), 'holders at once, round by round');
  assert.equal(results.flatMap((r) => r.problems.map((p) => `round ${r.round}: ${p}`)), []);
});

test.run();
