// The units `harden watch install` writes, as pure text: exact bytes, the ExecStart words quoted per
// systemd.syntax(7), the interval and the paths a unit file can hold.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { driftArgv, executableProblem, parseInterval, systemdWord, timerInterval, unitPathProblem, watchUnits } from '../../src/core/watch-units.js';

const OPTIONS = { harden: ['/usr/bin/node', '/opt/harden/bin/harden.cjs'], root: '/', stateDir: null, interval: '15min' };

test('the service runs drift as a fixed argv, quoted word by word, with exit 2 a success and its own syslog identifier', () => {
  const [service] = watchUnits(OPTIONS);
  assert.is(service.name, 'harden-drift.service');
  assert.is(service.text, `# Written by harden watch install; harden watch remove removes it, harden watch status compares it.
[Unit]
Description=harden drift: compare the MicroK8s args with what harden left
After=snap.microk8s.daemon-kubelite.service

[Service]
Type=oneshot
ExecStart="/usr/bin/node" "/opt/harden/bin/harden.cjs" "drift" "--root" "/" "--format" "jsonl" "--watch"
# 2: drift found (one JSON line per drifted setting, in the journal); 1, 3 and 4 fail the unit.
SuccessExitStatus=2
SyslogIdentifier=harden-drift
StandardOutput=journal
StandardError=journal
UMask=0077
NoNewPrivileges=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectSystem=strict
ReadWritePaths=-/var/snap/microk8s -/var/lib/harden -/var/log/apiserver -/etc/systemd/system -/etc/sysctl.d
ProtectHome=read-only
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
`);
});

test('the path unit watches the args dir and the current link; the timer runs at the interval after boot and after each run', () => {
  const [, pathUnit, timer] = watchUnits({ ...OPTIONS, interval: '1h' });
  assert.is(pathUnit.text, `# Written by harden watch install; harden watch remove removes it, harden watch status compares it.
[Unit]
Description=harden drift: run when the MicroK8s args or the current revision change

[Path]
PathChanged=/var/snap/microk8s/current/args
PathChanged=/var/snap/microk8s/current
Unit=harden-drift.service

[Install]
WantedBy=paths.target
`);
  assert.is(timer.text, `# Written by harden watch install; harden watch remove removes it, harden watch status compares it.
[Unit]
Description=harden drift: run every 1h

[Timer]
OnBootSec=1h
OnUnitActiveSec=1h
Unit=harden-drift.service

[Install]
WantedBy=timers.target
`);
  assert.is(timerInterval(timer.text), '1h');
});

test('another root and a state dir given: both in the argv, the paths under the root', () => {
  const options = { harden: ['/usr/local/bin/harden'], root: '/srv/node-1', stateDir: '/srv/state', interval: '15min' };
  assert.equal(driftArgv(options), ['/usr/local/bin/harden', 'drift', '--root', '/srv/node-1', '--state-dir', '/srv/state', '--format', 'jsonl', '--watch']);
  const [service, pathUnit] = watchUnits(options);
  assert.ok(service.text.includes('\nExecStart="/usr/local/bin/harden" "drift" "--root" "/srv/node-1" "--state-dir" "/srv/state" "--format" "jsonl" "--watch"\n'));
  assert.ok(service.text.includes('\nReadWritePaths=-/srv/node-1/var/snap/microk8s -/srv/state -/srv/node-1/var/log/apiserver -/srv/node-1/etc/systemd/system -/srv/node-1/etc/sysctl.d\n'));
  assert.ok(pathUnit.text.includes('\nPathChanged=/srv/node-1/var/snap/microk8s/current/args\nPathChanged=/srv/node-1/var/snap/microk8s/current\n'));
});

test('a word is quoted so that systemd reads it back as it is: quotes, backslashes, specifiers, variables, controls', () => {
  assert.is(systemdWord('/opt/my harden/bin'), '"/opt/my harden/bin"');
  assert.is(systemdWord('a"b\\c'), '"a\\"b\\\\c"');
  assert.is(systemdWord('100%$HOME'), '"100%%$$HOME"');
  // systemd substitutes no variable in the program's path: `$` stays single there.
  assert.is(systemdWord('/opt/100%$HOME/node', true), '"/opt/100%%$HOME/node"');
  assert.is(systemdWord('a\nb\x7f'), '"a\\x0ab\\x7f"');
  assert.is(systemdWord(';'), '";"');
});

test('a program path systemd refuses: quotes, backslashes, control characters', () => {
  assert.is(executableProblem('/usr/bin/node'), null);
  assert.is(executableProblem('/opt/my harden/100%$/node'), null);
  for (const c of ['"', "'", '\\', '\n', '\x7f']) assert.is(executableProblem(`/opt/a${c}b/node`), `it holds ${JSON.stringify(c)}, which systemd refuses in the path of the program a unit runs`);
  assert.is(executableProblem('node'), 'it is not an absolute path');
});

test('the interval: a number and s, min, h or d, from a minute to a week', () => {
  assert.is(parseInterval('15min'), 900);
  assert.is(parseInterval('60s'), 60);
  assert.is(parseInterval('7d'), 604_800);
  for (const bad of ['59s', '8d', '15', '15 min', '0min', '1m', '1h30min', '', '-1h', '015min']) assert.is(parseInterval(bad), null, bad);
  assert.is(timerInterval('OnUnitActiveSec=1m\n'), null);
});

test('a unit path must be absolute and plain', () => {
  assert.is(unitPathProblem('/srv/node-1'), null);
  assert.is(unitPathProblem('relative'), 'it is not an absolute path');
  assert.is(unitPathProblem('/srv/my node'), 'it holds " ", which systemd unit files would read otherwise (only letters, digits and / . _ + , : @ = ~ - are written)');
  assert.is(unitPathProblem('/srv/100%'), 'it holds "%", which systemd unit files would read otherwise (only letters, digits and / . _ + , : @ = ~ - are written)');
  assert.is(unitPathProblem('/srv/a\nb'), 'it holds "\\n", which systemd unit files would read otherwise (only letters, digits and / . _ + , : @ = ~ - are written)');
  assert.is(unitPathProblem('/srv/../etc'), 'it holds a . or .. component');
});

test.run();
