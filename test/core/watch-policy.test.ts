// The automatic re-apply policy, as pure functions: off by default, the hourly limit, the trip on a failed
// gate and the person's re-enable, and the one check of watch.json.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_POLICY, decideReapply, disableAuto, enableAuto, parseWatchPolicy, policyDocument, policyText, recordReapply, RECORDED_REAPPLIES, type WatchPolicy } from '../../src/core/watch-policy.js';

const T0 = new Date('2026-12-07T01:00:00.000Z');
const later = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const DRIFTED = ['kubelet.anonymous-auth'];

test('the default is off: drift is reported and nothing is re-applied', () => {
  assert.equal(decideReapply(DEFAULT_POLICY, T0, DRIFTED), { reapply: false, action: 'none', reason: 'automatic re-apply is off (harden watch enable-auto turns it on)' });
  assert.is(policyText(DEFAULT_POLICY), 'off (harden watch enable-auto turns it on)');
});

test('nothing drifted: nothing to do, even when on', () => {
  assert.equal(decideReapply(enableAuto(DEFAULT_POLICY, T0, 1), T0, []), { reapply: false, action: 'none', reason: 'nothing drifted' });
});

test('on with the default limit: one re-apply an hour, the next skipped until the hour has passed', () => {
  let policy = enableAuto(DEFAULT_POLICY, T0, 1);
  assert.equal(decideReapply(policy, T0, DRIFTED), { reapply: true });
  policy = recordReapply(policy, later(1), 0, DRIFTED);
  assert.equal(decideReapply(policy, later(30), DRIFTED), {
    reapply: false, action: 'skipped', reason: '1 automatic re-apply in the last hour, the limit is 1 (harden watch enable-auto --max-per-hour N)',
  });
  assert.equal(decideReapply(policy, later(60), DRIFTED), { reapply: false, action: 'skipped', reason: '1 automatic re-apply in the last hour, the limit is 1 (harden watch enable-auto --max-per-hour N)' });
  assert.equal(decideReapply(policy, later(61), DRIFTED), { reapply: true });
});

test('a limit of 3 allows three within the hour; a re-apply that errored (exit 1) counts but does not trip', () => {
  let policy = enableAuto(DEFAULT_POLICY, T0, 3);
  policy = recordReapply(policy, later(1), 0, DRIFTED);
  policy = recordReapply(policy, later(2), 1, DRIFTED);
  assert.equal(decideReapply(policy, later(3), DRIFTED), { reapply: true });
  policy = recordReapply(policy, later(3), 0, DRIFTED);
  assert.is(policy.trip, null);
  assert.equal(decideReapply(policy, later(4), DRIFTED), { reapply: false, action: 'skipped', reason: '3 automatic re-applies in the last hour, the limit is 3 (harden watch enable-auto --max-per-hour N)' });
});

for (const exitCode of [3, 4]) {
  test(`a re-apply that exits ${exitCode} trips the policy for good, whatever the hour, until a person re-enables it`, () => {
    let policy = enableAuto(DEFAULT_POLICY, T0, 12);
    policy = recordReapply(policy, later(1), exitCode, DRIFTED);
    assert.equal(policy.trip, { at: later(1).toISOString(), exitCode });
    const reason = `tripped since 2026-12-07T01:01:00.000Z by a re-apply that exited ${exitCode}; look at the node (harden watch status, harden snapshots list), then harden watch enable-auto turns it on again`;
    assert.equal(decideReapply(policy, later(60 * 24 * 30), DRIFTED), { reapply: false, action: 'skipped', reason });
    assert.is(policyText(policy), `TRIPPED (${reason})`);
    // A later success does not clear it, nor does turning it off and on through the record.
    assert.equal(recordReapply(policy, later(2), 0, DRIFTED).trip, policy.trip);
    const off = disableAuto(policy, later(3));
    assert.equal(off.trip, policy.trip);
    assert.is(decideReapply(off, later(4), DRIFTED).reapply, false);
    // The person's decision clears it.
    const again = enableAuto(off, later(5), 1);
    assert.is(again.trip, null);
    assert.equal(decideReapply(again, later(70), DRIFTED), { reapply: true });
  });
}

test('the record keeps the newest re-applies only', () => {
  let policy = enableAuto(DEFAULT_POLICY, T0, 12);
  for (let i = 0; i < RECORDED_REAPPLIES + 5; i += 1) policy = recordReapply(policy, later(i * 10), 0, [`rule.n${i}`]);
  assert.is(policy.reapplies.length, RECORDED_REAPPLIES);
  assert.equal(policy.reapplies[0].rules, ['rule.n5']);
});

test('the document round-trips through the check, and its bytes are fixed', () => {
  const policy = recordReapply(enableAuto(DEFAULT_POLICY, T0, 2), later(1), 3, DRIFTED);
  const text = policyDocument(policy);
  assert.is(text, `{
  "schema": "harden.watch/v1",
  "autoReapply": true,
  "maxPerHour": 2,
  "changedAt": "2026-12-07T01:00:00.000Z",
  "trip": {
    "at": "2026-12-07T01:01:00.000Z",
    "exitCode": 3
  },
  "reapplies": [
    {
      "at": "2026-12-07T01:01:00.000Z",
      "exitCode": 3,
      "rules": [
        "kubelet.anonymous-auth"
      ]
    }
  ]
}
`);
  assert.equal(parseWatchPolicy(JSON.parse(text)), { ok: true, policy });
});

const valid = (): Record<string, unknown> => JSON.parse(policyDocument(DEFAULT_POLICY)) as Record<string, unknown>;
const refusals: [string, (doc: Record<string, unknown>) => unknown, string][] = [
  ['not an object', () => [], 'not a JSON object'],
  ['another schema', (d) => ({ ...d, schema: 'harden.plan/v1' }), 'not harden.watch/v1 (it says "harden.plan/v1")'],
  ['no schema', (d) => ({ ...d, schema: undefined }), 'not harden.watch/v1'],
  ['an unknown field', (d) => ({ ...d, enabled: true }), 'unknown field "enabled"'],
  ['autoReapply a string', (d) => ({ ...d, autoReapply: 'yes' }), 'autoReapply: must be true or false'],
  ['maxPerHour 0', (d) => ({ ...d, maxPerHour: 0 }), 'maxPerHour: must be a whole number from 1 to 12'],
  ['maxPerHour 1.5', (d) => ({ ...d, maxPerHour: 1.5 }), 'maxPerHour: must be a whole number from 1 to 12'],
  ['maxPerHour 1000', (d) => ({ ...d, maxPerHour: 1000 }), 'maxPerHour: must be a whole number from 1 to 12'],
  ['changedAt not a time', (d) => ({ ...d, changedAt: 'yesterday' }), 'changedAt: must be null or an ISO time'],
  ['trip without its exit code', (d) => ({ ...d, trip: { at: T0.toISOString() } }), 'trip: must be null or {"at": ISO time, "exitCode": 0-255}'],
  ['reapplies not a list', (d) => ({ ...d, reapplies: {} }), 'reapplies: must be a list of at most 20'],
  ['a re-apply with a bad rule id', (d) => ({ ...d, reapplies: [{ at: T0.toISOString(), exitCode: 0, rules: ['$(reboot)'] }] }), 'reapplies[0]: must be {"at": ISO time, "exitCode": 0-255, "rules": [rule ids]}'],
];
for (const [what, edit, problem] of refusals) {
  test(`the check refuses ${what}`, () => {
    assert.equal(parseWatchPolicy(edit(valid())), { ok: false, problem });
  });
}

test('enable-auto sets the limit and the time; disable-auto keeps the limit', () => {
  const on: WatchPolicy = enableAuto(DEFAULT_POLICY, T0, 4);
  assert.equal({ autoReapply: on.autoReapply, maxPerHour: on.maxPerHour, changedAt: on.changedAt }, { autoReapply: true, maxPerHour: 4, changedAt: T0.toISOString() });
  assert.is(policyText(on), 'on, at most 4 per hour');
  const off = disableAuto(on, later(1));
  assert.equal({ autoReapply: off.autoReapply, maxPerHour: off.maxPerHour, changedAt: off.changedAt }, { autoReapply: false, maxPerHour: 4, changedAt: later(1).toISOString() });
});

test.run();
