// The systemd units `harden watch install` writes: a service that runs `harden drift` once, a path unit that
// starts it when the args dir or the `current` link changes, and a timer that starts it every interval as well.
// Pure: the text of each unit from the options, byte for byte what install writes and status compares.
import path from 'node:path';

export const SERVICE_UNIT = 'harden-drift.service';
export const PATH_UNIT = 'harden-drift.path';
export const TIMER_UNIT = 'harden-drift.timer';
/** In the order install writes them and status lists them. */
export const WATCH_UNITS: readonly string[] = [SERVICE_UNIT, PATH_UNIT, TIMER_UNIT];
/** The units `systemctl enable --now` starts: the service runs only when one of them starts it. */
export const TRIGGER_UNITS: readonly string[] = [PATH_UNIT, TIMER_UNIT];
/** Where systemd reads the units the administrator installs, as a node path. */
export const UNIT_DIR = '/etc/systemd/system';
export const DEFAULT_INTERVAL = '15min';

/** The journal's name for what the service prints: `journalctl -t harden-drift -o json`. */
export const SYSLOG_IDENTIFIER = 'harden-drift';

export interface WatchUnitOptions {
  /** The argv that runs this harden: `[node, bundle]`, or the standalone executable alone. */
  readonly harden: readonly string[];
  /** The node root, absolute (`/` on the node itself). */
  readonly root: string;
  /** --state-dir as given to install, absolute; null: drift's default, `<root>/var/lib/harden`. */
  readonly stateDir: string | null;
  /** A systemd time span (`15min`), checked by parseInterval. */
  readonly interval: string;
}

export interface UnitFile {
  readonly name: string;
  readonly text: string;
}

const SPAN = /^([1-9][0-9]{0,6})(s|min|h|d)$/;
const SPAN_SECONDS: Record<string, number> = { s: 1, min: 60, h: 3600, d: 86_400 };
export const MIN_INTERVAL_SECONDS = 60;
export const MAX_INTERVAL_SECONDS = 7 * 86_400;

/** `15min`, `90s`, `1h`, `2d` in seconds, from a minute to a week; null for anything else. */
export function parseInterval(text: string): number | null {
  const match = SPAN.exec(text);
  if (!match) return null;
  const seconds = Number(match[1]) * SPAN_SECONDS[match[2]];
  return seconds >= MIN_INTERVAL_SECONDS && seconds <= MAX_INTERVAL_SECONDS ? seconds : null;
}

/**
 * Why a path cannot be written into a unit file as it is, or null. Paths go into `PathChanged=` and
 * `ReadWritePaths=` unquoted, so only plain characters are taken: no space, quote, backslash, `%` (a systemd
 * specifier), `$` or control character.
 */
export function unitPathProblem(value: string): string | null {
  if (!value.startsWith('/')) return 'it is not an absolute path';
  const bad = /[^A-Za-z0-9/._+,:@=~-]/.exec(value);
  if (bad) return `it holds ${JSON.stringify(bad[0])}, which systemd unit files would read otherwise (only letters, digits and / . _ + , : @ = ~ - are written)`;
  if (value.split('/').some((part) => part === '.' || part === '..')) return 'it holds a . or .. component';
  return null;
}

/**
 * One word of a command line for `ExecStart=`, per systemd.syntax(7) and systemd.service(5): in double quotes,
 * with `\` and `"` escaped, control characters as `\xNN`, `%` doubled (no specifier is expanded), and in an
 * argument `$` doubled (no variable is substituted; systemd substitutes none in the executable's path).
 */
export function systemdWord(word: string, executable = false): string {
  const escaped = word.replace(/[\\"\x00-\x1f\x7f%$]/g, (c) => {
    if (c === '\\' || c === '"') return `\\${c}`;
    if (c === '%') return '%%';
    if (c === '$') return executable ? c : '$$';
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
  return `"${escaped}"`;
}

/** Why systemd would refuse this executable path in `ExecStart=` ("contains special characters"), or null. */
export function executableProblem(file: string): string | null {
  if (!file.startsWith('/')) return 'it is not an absolute path';
  const bad = /["'\\\x00-\x1f\x7f]/.exec(file);
  return bad ? `it holds ${JSON.stringify(bad[0])}, which systemd refuses in the path of the program a unit runs` : null;
}

/** The argv the service runs: `harden drift --root R [--state-dir S] --format jsonl --watch`. */
export function driftArgv(options: WatchUnitOptions): string[] {
  return [...options.harden, 'drift', '--root', options.root, ...(options.stateDir === null ? [] : ['--state-dir', options.stateDir]), '--format', 'jsonl', '--watch'];
}

/** The node paths under `root` as host paths: `/` + `var/snap` is `/var/snap`, `/srv/n1` + it is `/srv/n1/var/snap`. */
function under(root: string, nodePath: string): string {
  return path.posix.join(root, nodePath);
}

/** The three units, in WATCH_UNITS order. */
export function watchUnits(options: WatchUnitOptions): UnitFile[] {
  const { root, interval } = options;
  const stateDir = options.stateDir ?? under(root, '/var/lib/harden');
  const header = '# Written by harden watch install; harden watch remove removes it, harden watch status compares it.\n';
  // Where drift --watch may write when it re-applies: the snap's data (args, certs), harden's state, and the
  // few fixed places rules may reach (core/rule-paths.ts). `-`: a path that does not exist is skipped.
  const writable = [under(root, '/var/snap/microk8s'), stateDir, under(root, '/var/log/apiserver'), under(root, '/etc/systemd/system'), under(root, '/etc/sysctl.d')];
  const service = `${header}[Unit]
Description=harden drift: compare the MicroK8s args with what harden left
After=snap.microk8s.daemon-kubelite.service

[Service]
Type=oneshot
ExecStart=${driftArgv(options).map((word, index) => systemdWord(word, index === 0)).join(' ')}
# 2: drift found (one JSON line per drifted setting, in the journal); 1, 3 and 4 fail the unit.
SuccessExitStatus=2
SyslogIdentifier=${SYSLOG_IDENTIFIER}
StandardOutput=journal
StandardError=journal
UMask=0077
NoNewPrivileges=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectSystem=strict
ReadWritePaths=${writable.map((p) => `-${p}`).join(' ')}
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
`;
  const pathUnit = `${header}[Unit]
Description=harden drift: run when the MicroK8s args or the current revision change

[Path]
PathChanged=${under(root, '/var/snap/microk8s/current/args')}
PathChanged=${under(root, '/var/snap/microk8s/current')}
Unit=${SERVICE_UNIT}

[Install]
WantedBy=paths.target
`;
  const timer = `${header}[Unit]
Description=harden drift: run every ${interval}

[Timer]
OnBootSec=${interval}
OnUnitActiveSec=${interval}
Unit=${SERVICE_UNIT}

[Install]
WantedBy=timers.target
`;
  return [{ name: SERVICE_UNIT, text: service }, { name: PATH_UNIT, text: pathUnit }, { name: TIMER_UNIT, text: timer }];
}

/** The interval a written timer runs at (its `OnUnitActiveSec=`), or null. */
export function timerInterval(text: string): string | null {
  const match = /^OnUnitActiveSec=(\S+)$/m.exec(text);
  return match && parseInterval(match[1]) !== null ? match[1] : null;
}
