// `harden watch`, through the real bin: the unit files' exact bytes and modes, the exact argv the recording
// systemctl stand-in saw, `systemd-analyze verify` on what was written, status, remove, and the policy commands.
import { spawnSync } from 'node:child_process';
import { promises as fs, realpathSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { policyDocument, DEFAULT_POLICY, enableAuto, recordReapply } from '../../src/core/watch-policy.js';
import { watchUnits } from '../../src/core/watch-units.js';
import { BIN, runBin } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/node-root.js';
import { makeStandIns, readLog, setMode, type StandIns } from '../helpers/stand-ins.js';

const UNITS = ['harden-drift.service', 'harden-drift.path', 'harden-drift.timer'];
const HARDEN = [process.execPath, realpathSync(BIN)];
const SYSTEMD_ANALYZE = '/usr/bin/systemd-analyze';

interface Machine {
  readonly root: string;
  readonly unitDir: string;
  readonly stateDir: string;
  readonly standIns: StandIns;
  run(...args: string[]): ReturnType<typeof runBin>;
}

/** A root with the /etc/systemd/system and /var/lib every systemd machine has, and stand-ins on PATH. */
async function machine(): Promise<Machine> {
  const root = await makeTempDir('harden-watch-');
  const unitDir = path.join(root, 'etc/systemd/system');
  await fs.mkdir(unitDir, { recursive: true, mode: 0o755 });
  await fs.mkdir(path.join(root, 'var/lib'), { recursive: true, mode: 0o755 });
  for (const dir of ['etc', 'etc/systemd', 'etc/systemd/system', 'var', 'var/lib']) await fs.chmod(path.join(root, dir), 0o755);
  const standIns = await makeStandIns();
  return { root, unitDir, stateDir: path.join(root, 'var/lib/harden'), standIns, run: (...args) => runBin(args, { PATH: standIns.env.PATH! }) };
}

const expectedUnits = (root: string, interval = '15min', stateDir: string | null = null) => watchUnits({ harden: HARDEN, root, stateDir, interval });

test('install writes the three units (0644) atomically and runs exactly daemon-reload, then enable --now of the path and the timer', async () => {
  const m = await machine();
  const run = m.run('watch', 'install', '--root', m.root);
  assert.is(run.stderr, '');
  assert.is(run.status, 0);
  assert.is(run.stdout, [
    ...UNITS.map((name) => `wrote ${m.unitDir}/${name}`),
    'ran systemctl daemon-reload',
    'ran systemctl enable --now harden-drift.path harden-drift.timer',
    'drift reports go to the journal: journalctl -t harden-drift -o json',
    '',
  ].join('\n'));
  assert.equal(await readLog(m.standIns), ['systemctl daemon-reload', 'systemctl enable --now harden-drift.path harden-drift.timer']);
  for (const unit of expectedUnits(m.root)) {
    const file = path.join(m.unitDir, unit.name);
    assert.is(await fs.readFile(file, 'utf8'), unit.text, unit.name);
    assert.is((await fs.stat(file)).mode & 0o7777, 0o644, unit.name);
  }
  // No temp file left, no policy (off by default), and the state dir the service may write to, made 0700.
  assert.equal((await fs.readdir(m.unitDir)).sort(), [...UNITS].sort());
  assert.equal(await fs.readdir(m.stateDir), []);
  assert.is((await fs.stat(m.stateDir)).mode & 0o7777, 0o700);
});

test('the written units pass systemd-analyze verify (offline, no booted systemd), and a broken one does not', async () => {
  const m = await machine();
  assert.is(m.run('watch', 'install', '--root', m.root, '--state-dir', path.join(m.root, 'state'), '--interval', '1h', '--no-enable').status, 0);
  const dir = await makeTempDir('harden-verify-');
  for (const name of UNITS) await fs.copyFile(path.join(m.unitDir, name), path.join(dir, name));
  const verify = (files: string[]) => spawnSync(SYSTEMD_ANALYZE, ['verify', '--man=no', ...files], { encoding: 'utf8', cwd: dir, env: { ...process.env, SYSTEMD_LOG_LEVEL: 'notice' } });
  const ok = verify(UNITS.map((name) => `./${name}`));
  assert.is(ok.stderr, '');
  assert.is(ok.stdout, '');
  assert.is(ok.status, 0);
  // The check is real: an ExecStart binary that does not exist, or an unknown directive, is reported.
  const service = await fs.readFile(path.join(dir, 'harden-drift.service'), 'utf8');
  await fs.writeFile(path.join(dir, 'harden-drift.service'), service.replace(`"${process.execPath}"`, '"/nonexistent/node"').replace('UMask=0077', 'UMask=0077\nProtectEverything=yes'));
  const bad = verify(UNITS.map((name) => `./${name}`));
  assert.is(bad.status, 1);
  assert.match(bad.stderr, 'Command /nonexistent/node is not executable');
  assert.match(bad.stderr, "Unknown key 'ProtectEverything' in section [Service], ignoring.");
});

test('systemd-analyze verify takes the quoted ExecStart: a program path with a space, % and $, arguments with quotes and backslashes', async () => {
  const dir = await makeTempDir('harden-verify-');
  const odd = path.join(dir, 'my harden 100% $HOME');
  await fs.mkdir(odd);
  await fs.symlink(process.execPath, path.join(odd, 'node'));
  const script = path.join(dir, `it's "a" \\ 100% $HOME`, 'harden.cjs');
  for (const unit of watchUnits({ harden: [path.join(odd, 'node'), script], root: '/', stateDir: null, interval: '15min' })) {
    await fs.writeFile(path.join(dir, unit.name), unit.text);
  }
  const service = await fs.readFile(path.join(dir, 'harden-drift.service'), 'utf8');
  assert.match(service, `\nExecStart="${dir}/my harden 100%% $HOME/node" "${dir}/it's \\"a\\" \\\\ 100%% $$HOME/harden.cjs" "drift"`);
  const verify = spawnSync(SYSTEMD_ANALYZE, ['verify', '--man=no', ...UNITS.map((name) => `./${name}`)], { encoding: 'utf8', cwd: dir });
  assert.is(verify.stderr, '');
  assert.is(verify.status, 0);
  // Unquoted, the same path would not have been read so: the check sees the difference.
  await fs.writeFile(path.join(dir, 'harden-drift.service'), service.replace(/^ExecStart=.*$/m, `ExecStart=${path.join(odd, 'node')} drift`));
  assert.is.not(spawnSync(SYSTEMD_ANALYZE, ['verify', '--man=no', './harden-drift.service'], { encoding: 'utf8', cwd: dir }).stderr, '');
});

test('install again: unchanged units are left as they are, and systemd is told again', async () => {
  const m = await machine();
  assert.is(m.run('watch', 'install', '--root', m.root).status, 0);
  const before = await fs.stat(path.join(m.unitDir, 'harden-drift.service'));
  const run = m.run('watch', 'install', '--root', m.root, '--interval', '30min');
  assert.is(run.status, 0, run.stderr);
  assert.is(run.stdout.split('\n').slice(0, 3).join('\n'), `unchanged ${m.unitDir}/harden-drift.service\nunchanged ${m.unitDir}/harden-drift.path\nwrote ${m.unitDir}/harden-drift.timer`);
  assert.is((await fs.stat(path.join(m.unitDir, 'harden-drift.service'))).ino, before.ino);
  assert.is(await fs.readFile(path.join(m.unitDir, 'harden-drift.timer'), 'utf8'), expectedUnits(m.root, '30min')[2].text);
  assert.is((await readLog(m.standIns)).length, 4);
});

test('install --no-enable writes the units, runs no systemctl, and prints the commands to run', async () => {
  const m = await machine();
  const run = m.run('watch', 'install', '--root', m.root, '--no-enable');
  assert.is(run.status, 0, run.stderr);
  assert.is(run.stdout, [
    ...UNITS.map((name) => `wrote ${m.unitDir}/${name}`),
    'not enabled (--no-enable); to start watching, run:',
    '  systemctl daemon-reload',
    '  systemctl enable --now harden-drift.path harden-drift.timer',
    'drift reports go to the journal: journalctl -t harden-drift -o json',
    '',
  ].join('\n'));
  assert.equal(await readLog(m.standIns), []);
});

test('install --auto-reapply --max-per-hour 3 turns the policy on in watch.json (0600)', async () => {
  const m = await machine();
  const run = m.run('watch', 'install', '--root', m.root, '--no-enable', '--auto-reapply', '--max-per-hour', '3');
  assert.is(run.status, 0, run.stderr);
  assert.match(run.stdout, `\nautomatic re-apply: on, at most 3 per hour (${m.stateDir}/watch.json)\n`);
  const file = path.join(m.stateDir, 'watch.json');
  const policy = JSON.parse(await fs.readFile(file, 'utf8')) as { changedAt: string };
  assert.equal(policy, { schema: 'harden.watch/v1', autoReapply: true, maxPerHour: 3, changedAt: policy.changedAt, trip: null, reapplies: [] });
  assert.is((await fs.stat(file)).mode & 0o7777, 0o600);
});

test('a systemctl that fails: exit 1, its first line, and the hint that the units are written', async () => {
  const m = await machine();
  await setMode(m.standIns, 'systemctl', 'fail', { message: 'Failed to connect to bus: No such file or directory' });
  const run = m.run('watch', 'install', '--root', m.root);
  assert.is(run.status, 1);
  assert.is(run.stderr, 'error: systemctl daemon-reload failed (exit 1): Failed to connect to bus: No such file or directory\nhint: the units are written: run harden watch install again once systemd answers, or harden watch remove\n');
  assert.equal(await readLog(m.standIns), ['systemctl daemon-reload']);
});

test('status: each unit as install would write it, the policy off, no re-applies; then a unit edited and one missing', async () => {
  const m = await machine();
  assert.is(m.run('watch', 'install', '--root', m.root, '--no-enable', '--interval', '2h').status, 0);
  const run = m.run('watch', 'status', '--root', m.root);
  assert.is(run.status, 0, run.stderr);
  assert.is(run.stdout, `units in ${m.unitDir}:
  harden-drift.service  installed, as install writes it now
  harden-drift.path     installed, as install writes it now
  harden-drift.timer    installed, as install writes it now
automatic re-apply: off (harden watch enable-auto turns it on)
re-applies: none recorded
`);
  await fs.appendFile(path.join(m.unitDir, 'harden-drift.service'), 'Nice=5\n');
  await fs.rm(path.join(m.unitDir, 'harden-drift.path'));
  assert.is(m.run('watch', 'status', '--root', m.root).stdout.split('\n').slice(1, 4).join('\n'), `  harden-drift.service  installed, but not as install would write it now (run harden watch install again)
  harden-drift.path     missing
  harden-drift.timer    installed, as install writes it now`);
  assert.equal(await readLog(m.standIns), []);
});

test('status of a tripped policy names the trip, the re-enable command and the last re-applies; --json the same as data', async () => {
  const m = await machine();
  await fs.mkdir(m.stateDir, { mode: 0o700 });
  const t = (minute: number) => new Date(Date.UTC(2026, 11, 7, 1, minute));
  let policy = enableAuto(DEFAULT_POLICY, t(0), 2);
  policy = recordReapply(policy, t(5), 0, ['kubelet.anonymous-auth']);
  policy = recordReapply(policy, t(50), 3, ['kube-apiserver.profiling', 'kubelet.anonymous-auth']);
  await fs.writeFile(path.join(m.stateDir, 'watch.json'), policyDocument(policy), { mode: 0o600 });
  const run = m.run('watch', 'status', '--root', m.root);
  assert.is(run.status, 0, run.stderr);
  assert.is(run.stdout, `units in ${m.unitDir}:
  harden-drift.service  missing
  harden-drift.path     missing
  harden-drift.timer    missing
automatic re-apply: TRIPPED (tripped since 2026-12-07T01:50:00.000Z by a re-apply that exited 3; look at the node (harden watch status, harden snapshots list), then harden watch enable-auto turns it on again)
last re-applies:
  2026-12-07T01:50:00.000Z  exit 3  kube-apiserver.profiling, kubelet.anonymous-auth
  2026-12-07T01:05:00.000Z  exit 0  kubelet.anonymous-auth
`);
  const json = JSON.parse(m.run('watch', 'status', '--root', m.root, '--json').stdout) as Record<string, unknown>;
  assert.equal({ ...json, at: 'T' }, {
    schema: 'harden.watch-status/v1', at: 'T',
    units: UNITS.map((name) => ({ name, file: path.join(m.unitDir, name), state: 'missing' })),
    policyFile: path.join(m.stateDir, 'watch.json'),
    policy: { state: 'tripped', autoReapply: true, maxPerHour: 2, changedAt: '2026-12-07T01:00:00.000Z', trip: { at: '2026-12-07T01:50:00.000Z', exitCode: 3 } },
    reapplies: policy.reapplies,
  });
});

test('enable-auto after a trip clears it (the person decides); disable-auto turns it off', async () => {
  const m = await machine();
  await fs.mkdir(m.stateDir, { mode: 0o700 });
  const policy = recordReapply(enableAuto(DEFAULT_POLICY, new Date('2026-12-07T01:00:00Z'), 1), new Date('2026-12-07T01:10:00Z'), 4, ['kubelet.anonymous-auth']);
  await fs.writeFile(path.join(m.stateDir, 'watch.json'), policyDocument(policy), { mode: 0o600 });
  const on = m.run('watch', 'enable-auto', '--root', m.root, '--max-per-hour', '2');
  assert.is(on.stderr, '');
  assert.is(on.status, 0);
  assert.is(on.stdout, `cleared the trip of 2026-12-07T01:10:00.000Z (a re-apply that exited 4)\nautomatic re-apply: on, at most 2 per hour (${m.stateDir}/watch.json)\n`);
  const after = JSON.parse(await fs.readFile(path.join(m.stateDir, 'watch.json'), 'utf8')) as { trip: unknown; autoReapply: boolean; reapplies: unknown[] };
  assert.equal([after.trip, after.autoReapply, after.reapplies.length], [null, true, 1]);
  const off = m.run('watch', 'disable-auto', '--root', m.root);
  assert.is(off.status, 0, off.stderr);
  assert.is(off.stdout, `automatic re-apply: off (harden watch enable-auto turns it on) (${m.stateDir}/watch.json)\n`);
  // No lock left behind.
  assert.equal(await fs.readdir(m.stateDir), ['watch.json']);
});

test('remove: disable --now of the path and timer, the files removed, daemon-reload; again: nothing to remove, nothing run', async () => {
  const m = await machine();
  assert.is(m.run('watch', 'install', '--root', m.root, '--no-enable').status, 0);
  await fs.writeFile(path.join(m.unitDir, 'other.service'), '[Service]\n');
  const run = m.run('watch', 'remove', '--root', m.root);
  assert.is(run.stderr, '');
  assert.is(run.status, 0);
  assert.is(run.stdout, [
    'ran systemctl disable --now harden-drift.path harden-drift.timer',
    ...UNITS.map((name) => `removed ${m.unitDir}/${name}`),
    'ran systemctl daemon-reload',
    '',
  ].join('\n'));
  assert.equal(await readLog(m.standIns), ['systemctl disable --now harden-drift.path harden-drift.timer', 'systemctl daemon-reload']);
  assert.equal(await fs.readdir(m.unitDir), ['other.service']);
  const again = m.run('watch', 'remove', '--root', m.root);
  assert.is(again.status, 0, again.stderr);
  assert.is(again.stdout, `no watch units in ${m.unitDir}: nothing to remove\n`);
  assert.is((await readLog(m.standIns)).length, 2);
});

test('install refuses a unit name taken by a symlink, and writes nothing', async () => {
  const m = await machine();
  await fs.symlink('/dev/null', path.join(m.unitDir, 'harden-drift.timer'));
  const run = m.run('watch', 'install', '--root', m.root);
  assert.is(run.status, 1);
  assert.is(run.stderr, `error: cannot write ${m.unitDir}/harden-drift.timer: it is a symlink (to /dev/null), and harden never writes through one\nhint: remove the link (whoever can write that directory may have planted it), then run harden watch again\n`);
  assert.equal(await fs.readdir(m.unitDir), ['harden-drift.timer']);
  assert.equal(await readLog(m.standIns), []);
});

test.run();
