// Recording stand-ins for `snap` and `systemctl`: small bash scripts in a temp bin dir that a test puts
// first on PATH. Every call is appended to a log as its argv; `snap version` answers whatever the mode (harden's
// pre-flight asks it); `snap restart microk8s.daemon-X` restarts
// the unit's recorded state (new MainPID, NRestarts reset, active, as systemd does for a manual restart)
// and then runs an optional hook; `systemctl show … UNIT.service` prints the unit's state file.
// Modes per command (or per unit for systemctl): succeed, fail (exit 1 with a message), crash-loop (each
// `systemctl show` bumps NRestarts and changes MainPID, while ActiveState stays `active`). `systemctl daemon-reload`,
// `enable` and `disable` (harden watch) are recorded and succeed, or fail in the fail mode.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { makeTempDir } from './node-root.js';

export interface StandIns {
  readonly dir: string;
  /** Put this first on PATH. */
  readonly bin: string;
  readonly logFile: string;
  /** process.env with `bin` first on PATH. */
  readonly env: NodeJS.ProcessEnv;
}

export type StandInCommand = 'snap' | 'systemctl';
export type StandInMode = 'succeed' | 'fail' | 'crash-loop';

export interface StandInUnit {
  readonly activeState: string;
  readonly mainPid: number;
  readonly restarts: number;
}

const COMMON = `#!/usr/bin/env bash
set -u
dir=__DIR__
printf '%s\\n' "$(basename "$0") $*" >> "$dir/log"
mode_of() { # mode_of FILE...: the first that exists, else succeed
  for f in "$@"; do if [ -f "$dir/$f" ]; then cat "$dir/$f"; return; fi; done
  echo succeed
}
fail() { # fail FILE...: print the message and exit 1
  for f in "$@"; do if [ -f "$dir/$f" ]; then cat "$dir/$f" >&2; exit 1; fi; done
  echo "error: stand-in $(basename "$0") failed as the test asked" >&2; exit 1
}
read_state() { # read_state UNIT: sets active, pid, restarts
  active=inactive; pid=0; restarts=0
  [ -f "$dir/units/$1" ] || return 0
  while IFS='=' read -r key value; do
    case "$key" in ActiveState) active=$value ;; MainPID) pid=$value ;; NRestarts) restarts=$value ;; esac
  done < "$dir/units/$1"
}
write_state() { # write_state UNIT
  mkdir -p "$dir/units"
  printf 'ActiveState=%s\\nMainPID=%s\\nNRestarts=%s\\n' "$active" "$pid" "$restarts" > "$dir/units/$1.tmp"
  mv "$dir/units/$1.tmp" "$dir/units/$1"
}
`;

const SNAP = `${COMMON}
# harden's pre-flight asks whether snap answers; the fail mode stands for a restart that fails, not a missing snap.
if [ "$*" = version ]; then printf 'snap    2.63\\nsnapd   2.63\\n'; exit 0; fi
[ "$(mode_of mode-snap)" = fail ] && fail message-snap
if [ "$#" -ne 2 ] || [ "$1" != restart ]; then echo "stand-in snap: only 'snap restart SERVICE' is supported, got: $*" >&2; exit 2; fi
unit="snap.$2"
read_state "$unit"
active=active; restarts=0
if [ "$pid" -gt 0 ]; then pid=$((pid + 1)); else pid=1000; fi
write_state "$unit"
if [ -f "$dir/hook" ]; then
  UNIT="$unit" STAND_INS="$dir" bash "$dir/hook" || { echo "stand-in snap: the restart hook failed" >&2; exit 1; }
fi
exit 0
`;

const SYSTEMCTL = `${COMMON}
# harden watch manages its own units: daemon-reload, enable --now, disable --now (recorded; fail mode honoured).
case "\${1:-}" in daemon-reload|enable|disable)
  [ "$(mode_of mode-systemctl)" = fail ] && fail message-systemctl
  exit 0 ;;
esac
if [ "$#" -lt 2 ] || [ "$1" != show ]; then echo "stand-in systemctl: only 'systemctl show' is supported, got: $*" >&2; exit 2; fi
unit="\${!#}"; unit="\${unit%.service}"
mode=$(mode_of "mode-systemctl-$unit" mode-systemctl)
[ "$mode" = fail ] && fail "message-systemctl-$unit" message-systemctl
read_state "$unit"
if [ "$mode" = crash-loop ]; then
  restarts=$((restarts + 1)); pid=$((pid + 7)); write_state "$unit"
fi
printf 'ActiveState=%s\\nMainPID=%s\\nNRestarts=%s\\n' "$active" "$pid" "$restarts"
`;

export async function makeStandIns(): Promise<StandIns> {
  const dir = await makeTempDir('harden-stand-ins-');
  const bin = path.join(dir, 'bin');
  await fs.mkdir(path.join(dir, 'units'), { recursive: true });
  await fs.mkdir(bin);
  const quoted = `'${dir.replace(/'/g, `'\\''`)}'`;
  for (const [name, script] of [['snap', SNAP], ['systemctl', SYSTEMCTL]] as const) {
    await fs.writeFile(path.join(bin, name), script.replace('__DIR__', quoted), { mode: 0o755 });
  }
  const logFile = path.join(dir, 'log');
  await fs.writeFile(logFile, '');
  return { dir, bin, logFile, env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` } };
}

/** The recorded calls, one argv a line (`snap restart microk8s.daemon-kubelite`), optionally of one command. */
export async function readLog(standIns: StandIns, command?: StandInCommand): Promise<string[]> {
  const lines = (await fs.readFile(standIns.logFile, 'utf8')).split('\n').filter(Boolean);
  return command ? lines.filter((line) => line.startsWith(`${command} `)) : lines;
}

export async function setUnitState(standIns: StandIns, unit: string, state: StandInUnit): Promise<void> {
  await fs.writeFile(path.join(standIns.dir, 'units', unit), `ActiveState=${state.activeState}\nMainPID=${state.mainPid}\nNRestarts=${state.restarts}\n`);
}

export async function readUnitState(standIns: StandIns, unit: string): Promise<StandInUnit | null> {
  const text = await fs.readFile(path.join(standIns.dir, 'units', unit), 'utf8').catch(() => null);
  if (text === null) return null;
  const value = (key: string) => /^(\w+)=(.*)$/m.exec(text.split('\n').find((line) => line.startsWith(`${key}=`)) ?? '')?.[2] ?? '';
  return { activeState: value('ActiveState'), mainPid: Number(value('MainPID')), restarts: Number(value('NRestarts')) };
}

/**
 * Sets how a command behaves from now on. `unit` (systemctl only) limits the mode to one unit. `message` is
 * what a failing command prints to stderr.
 */
export async function setMode(standIns: StandIns, command: StandInCommand, mode: StandInMode, options: { unit?: string; message?: string } = {}): Promise<void> {
  if (mode === 'crash-loop' && command !== 'systemctl') throw new Error('crash-loop is a systemctl mode');
  const suffix = options.unit ? `${command}-${options.unit}` : command;
  await fs.writeFile(path.join(standIns.dir, `mode-${suffix}`), mode);
  const message = path.join(standIns.dir, `message-${suffix}`);
  if (options.message !== undefined) await fs.writeFile(message, `${options.message}\n`);
  else await fs.rm(message, { force: true });
}

/**
 * A bash script run after each `snap restart` (with UNIT and STAND_INS set), e.g. to make MicroK8s'
 * start-up rewrites or to restart a real daemon; a failing hook fails the restart. null removes it.
 */
export async function setRestartHook(standIns: StandIns, script: string | null): Promise<void> {
  const hook = path.join(standIns.dir, 'hook');
  if (script === null) await fs.rm(hook, { force: true });
  else await fs.writeFile(hook, script);
}
