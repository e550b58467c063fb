import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HardenError } from '../../src/errors.js';
import { parseUnitState, systemServices } from '../../src/effects/services.js';
import { makeTempDir } from '../helpers/node-root.js';
import { makeStandIns, readLog, readUnitState, setMode, setRestartHook, setUnitState } from '../helpers/stand-ins.js';

const KUBELITE = 'snap.microk8s.daemon-kubelite';

async function rejection(promise: Promise<unknown>): Promise<HardenError> {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, HardenError);
    return error as HardenError;
  }
  throw new Error('expected a rejection');
}

test('restart runs `snap restart microk8s.daemon-NAME` and nothing else', async () => {
  const standIns = await makeStandIns();
  await systemServices({ env: standIns.env }).restart(KUBELITE);
  assert.equal(await readLog(standIns), ['snap restart microk8s.daemon-kubelite']);
});

test('restart accepts the unit with its .service suffix and gives the stand-in unit a new MainPID', async () => {
  const standIns = await makeStandIns();
  await setUnitState(standIns, 'snap.microk8s.daemon-k8s-dqlite', { activeState: 'failed', mainPid: 0, restarts: 4 });
  await systemServices({ env: standIns.env }).restart('snap.microk8s.daemon-k8s-dqlite.service');
  assert.equal(await readLog(standIns, 'snap'), ['snap restart microk8s.daemon-k8s-dqlite']);
  assert.equal(await readUnitState(standIns, 'snap.microk8s.daemon-k8s-dqlite'), { activeState: 'active', mainPid: 1000, restarts: 0 });
});

test('restart refuses a name that is not a MicroK8s service, before running anything', async () => {
  const standIns = await makeStandIns();
  const services = systemServices({ env: standIns.env });
  for (const name of ['microk8s', 'snap.microk8s.daemon-kubelite; reboot', '--help', 'snap.docker.dockerd']) {
    const error = await rejection(services.restart(name));
    assert.match(error.message, 'is not a MicroK8s service');
  }
  assert.equal(await readLog(standIns), []);
});

test('state runs `systemctl show` for the three properties and parses them', async () => {
  const standIns = await makeStandIns();
  await setUnitState(standIns, KUBELITE, { activeState: 'active', mainPid: 4242, restarts: 2 });
  const state = await systemServices({ env: standIns.env }).state(KUBELITE);
  assert.equal(state, { activeState: 'active', mainPid: 4242, restarts: 2 });
  assert.equal(await readLog(standIns), ['systemctl show --property=ActiveState,MainPID,NRestarts snap.microk8s.daemon-kubelite.service']);
});

test('parseUnitState reads Key=value lines in any order, and treats a missing NRestarts (old systemd) as 0', () => {
  assert.equal(parseUnitState('MainPID=7\nActiveState=activating\n', KUBELITE), { activeState: 'activating', mainPid: 7, restarts: 0 });
  assert.equal(parseUnitState('NRestarts=3\nActiveState=failed\nMainPID=0\n', KUBELITE), { activeState: 'failed', mainPid: 0, restarts: 3 });
  assert.throws(() => parseUnitState('MainPID=7\n', KUBELITE), /printed no ActiveState/);
});

test('a unit systemd does not know reads as inactive with no process', async () => {
  const standIns = await makeStandIns();
  const state = await systemServices({ env: standIns.env }).state('snap.microk8s.daemon-etcd');
  assert.equal(state, { activeState: 'inactive', mainPid: 0, restarts: 0 });
});

test('a failing snap restart is a HardenError naming the command and the first line of its stderr', async () => {
  const standIns = await makeStandIns();
  await setMode(standIns, 'snap', 'fail', { message: 'error: snap "microk8s" has "service-control" change in progress\nsecond line' });
  const error = await rejection(systemServices({ env: standIns.env }).restart(KUBELITE));
  assert.is(error.message, 'snap restart microk8s.daemon-kubelite failed (exit 1): error: snap "microk8s" has "service-control" change in progress');
  assert.ok(error.hint);
});

test('a failing systemctl show is a HardenError naming the command', async () => {
  const standIns = await makeStandIns();
  await setMode(standIns, 'systemctl', 'fail', { message: 'System has not been booted with systemd as init system (PID 1). Can\'t operate.' });
  const error = await rejection(systemServices({ env: standIns.env }).state(KUBELITE));
  assert.is(
    error.message,
    'systemctl show --property=ActiveState,MainPID,NRestarts snap.microk8s.daemon-kubelite.service failed (exit 1): System has not been booted with systemd as init system (PID 1). Can\'t operate.',
  );
});

test('a failing restart hook fails the restart', async () => {
  const standIns = await makeStandIns();
  await setRestartHook(standIns, 'echo "$UNIT" > "$STAND_INS/hooked"; exit 3\n');
  const error = await rejection(systemServices({ env: standIns.env }).restart(KUBELITE));
  assert.match(error.message, 'the restart hook failed');
  assert.is(await fs.readFile(path.join(standIns.dir, 'hooked'), 'utf8'), `${KUBELITE}\n`);
});

test('a missing snap or systemctl binary is a HardenError saying it is not on PATH', async () => {
  const empty = await makeTempDir();
  const services = systemServices({ env: { PATH: empty } });
  const restart = await rejection(services.restart(KUBELITE));
  assert.is(restart.message, 'cannot run snap restart microk8s.daemon-kubelite: snap not found on PATH');
  const state = await rejection(services.state(KUBELITE));
  assert.is(state.message, 'cannot run systemctl show --property=ActiveState,MainPID,NRestarts snap.microk8s.daemon-kubelite.service: systemctl not found on PATH');
});

test.run();
