// MicroK8s' snap services as the host sees them: restart one with `snap restart`, read its systemd state
// with `systemctl show`. Both run without a shell, found on PATH; never `microk8s stop`, which kills pods.
import { HardenError } from '../errors.js';
import { builtin } from '../lazy.js';

export interface UnitState {
  /** systemd's ActiveState: active, activating, deactivating, failed, inactive. */
  readonly activeState: string;
  /** 0 when no process runs. */
  readonly mainPid: number;
  /** Automatic restarts since the unit was last started by hand (0 when systemd does not report it). */
  readonly restarts: number;
}

export interface Services {
  /** `service` is the unit name, e.g. `snap.microk8s.daemon-kubelite`. */
  restart(service: string): Promise<void>;
  state(service: string): Promise<UnitState>;
  /**
   * Whether restarts and gates can run at all, asked before any wait: `snap version` and systemd's manager
   * (`systemctl show --property=Version`) answer within a few seconds.
   */
  answering(): Promise<void>;
}

const UNIT = /^snap\.microk8s\.daemon-[a-z0-9][a-z0-9-]*$/;
const RESTART_TIMEOUT_MS = 5 * 60_000;
const SHOW_TIMEOUT_MS = 30_000;
const ANSWER_TIMEOUT_MS = 5_000;

export function systemServices(options: { env?: NodeJS.ProcessEnv } = {}): Services {
  const env = options.env ?? process.env;
  return {
    async restart(service) {
      // The snap's own name for the unit: `snap.microk8s.daemon-kubelite` -> `microk8s.daemon-kubelite`.
      await run('snap', ['restart', unitName(service).slice('snap.'.length)], env, RESTART_TIMEOUT_MS);
    },
    async state(service) {
      const unit = unitName(service);
      const out = await run('systemctl', ['show', '--property=ActiveState,MainPID,NRestarts', `${unit}.service`], env, SHOW_TIMEOUT_MS);
      return parseUnitState(out, unit);
    },
    async answering() {
      await run('snap', ['version'], env, ANSWER_TIMEOUT_MS);
      await run('systemctl', ['show', '--property=Version'], env, ANSWER_TIMEOUT_MS);
    },
  };
}

/** harden's own units (`harden watch`), managed with fixed argv: `systemctl daemon-reload`, `enable --now`, `disable --now`. */
export interface UnitManager {
  daemonReload(): Promise<void>;
  enableNow(units: readonly string[]): Promise<void>;
  disableNow(units: readonly string[]): Promise<void>;
}

const OWN_UNIT = /^harden-drift\.(service|path|timer)$/;
const RELOAD_TIMEOUT_MS = 2 * 60_000;

export function systemUnits(options: { env?: NodeJS.ProcessEnv } = {}): UnitManager {
  const env = options.env ?? process.env;
  const own = (units: readonly string[]) => units.map((unit) => {
    if (!OWN_UNIT.test(unit)) throw new HardenError(`${unit} is not one of harden's units`, { hint: 'this is a bug in harden: please report it' });
    return unit;
  });
  return {
    daemonReload: async () => void (await run('systemctl', ['daemon-reload'], env, RELOAD_TIMEOUT_MS)),
    enableNow: async (units) => void (await run('systemctl', ['enable', '--now', ...own(units)], env, RELOAD_TIMEOUT_MS)),
    disableNow: async (units) => void (await run('systemctl', ['disable', '--now', ...own(units)], env, RELOAD_TIMEOUT_MS)),
  };
}

/** `Key=value` lines of `systemctl show`. */
export function parseUnitState(text: string, unit: string): UnitState {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) values.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const activeState = values.get('ActiveState');
  if (!activeState) {
    throw new HardenError(`systemctl show ${unit}.service printed no ActiveState`, { hint: 'check that systemd manages this unit: systemctl status ' + unit });
  }
  const number = (key: string) => {
    const value = values.get(key);
    return value !== undefined && /^\d+$/.test(value) ? Number(value) : 0;
  };
  return { activeState, mainPid: number('MainPID'), restarts: number('NRestarts') };
}

function unitName(service: string): string {
  const unit = service.replace(/\.service$/, '');
  if (!UNIT.test(unit)) {
    throw new HardenError(`${service} is not a MicroK8s service`, { hint: 'MicroK8s services are named snap.microk8s.daemon-<name>' });
  }
  return unit;
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv, timeout: number): Promise<string> {
  const shown = [command, ...args].join(' ');
  return new Promise((resolve, reject) => {
    // A session of its own: the terminal's Ctrl-C reaches harden, which decides what it means (a restart is
    // never cut off half-way by the key that asked for a put-back).
    // (execFile passes `detached` on to spawn; its option type does not name it.)
    const options = { env, timeout, encoding: 'utf8' as const, maxBuffer: 1024 * 1024, detached: true };
    builtin('node:child_process').execFile(command, args, options, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        return reject(new HardenError(`cannot run ${shown}: ${command} not found on PATH`, {
          hint: `harden restarts MicroK8s through ${command}; run it on the node itself, where snapd and systemd are installed`,
        }));
      }
      const firstLine = stderr.split('\n').map((line) => line.trim()).find(Boolean) ?? '';
      const how = error.killed ? `timed out after ${Math.round(timeout / 1000)}s` : `exit ${typeof code === 'number' ? code : (error.signal ?? code ?? 'error')}`;
      reject(new HardenError(`${shown} failed (${how})${firstLine ? `: ${firstLine}` : ''}`, {
        hint: command === 'snap' ? 'see `snap changes` and `journalctl -u snap.microk8s.*` for why the restart failed' : 'check that systemd is running on this machine',
      }));
    });
  });
}
