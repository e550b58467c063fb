// Which node a saved plan was made for, and what differs on another: pure words and comparisons.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { identityDifference, identityText, machineIdOf } from '../../src/core/root-identity.js';

const MACHINE_A = '0123456789abcdef0123456789abcdef';
const MACHINE_B = 'fedcba9876543210fedcba9876543210';

test('machine ids: only systemd\'s form counts; what differs is named, each key on its own', () => {
  assert.is(machineIdOf(`${MACHINE_A}\n`), MACHINE_A);
  for (const text of [null, '', '\n', 'uninitialized\n', MACHINE_A.toUpperCase(), `${MACHINE_A}0`]) assert.is(machineIdOf(text), null, String(text));
  const a = { path: '/srv/a', revision: '6364', machineId: MACHINE_A };
  assert.is(identityText(a), `/srv/a (machine-id ${MACHINE_A}, revision 6364)`);
  assert.is(identityText({ path: '/', revision: null, machineId: null }), '/ (no machine-id, revision unknown)');
  assert.is(identityDifference(a, { ...a }), null);
  assert.is(identityDifference(a, { ...a, path: '/srv/b' }), 'here the root is /srv/b');
  assert.is(identityDifference(a, { ...a, revision: null }), 'here the revision is unknown');
  assert.is(identityDifference(a, { path: '/srv/b', revision: '7000', machineId: MACHINE_B }), `here the root is /srv/b, the machine-id is ${MACHINE_B}, the revision is 7000`);
});

test.run();
