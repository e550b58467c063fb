// `harden watch install|remove|status|enable-auto|disable-auto`: systemd units that run `harden drift` when the
// args or the `current` link change and every interval, and the opt-in policy that lets drift re-apply.
import path from 'node:path';
import type { CommandModule } from 'yargs';
import { DEFAULT_MAX_PER_HOUR, MAX_PER_HOUR_LIMIT, disableAuto, enableAuto, policyText, type WatchPolicy } from '../core/watch-policy.js';
import { DEFAULT_INTERVAL, executableProblem, SYSLOG_IDENTIFIER, TRIGGER_UNITS, UNIT_DIR, WATCH_UNITS, parseInterval, timerInterval, unitPathProblem, watchUnits, type UnitFile } from '../core/watch-units.js';
import { ensurePrivateDir, type FileOps } from '../effects/file-ops.js';
import { systemUnits } from '../effects/services.js';
import { policyPath, readUnits, readWatchPolicy, refuseOther, removeUnit, runningHarden, unitDirectory, writeAtomically, writeWatchPolicy, type UnitOnDisk } from '../effects/watch-state.js';
import { EXIT_CODES_HELP, ExitCode, HardenError, UsageError } from '../errors.js';
import { largest } from '../core/lists.js';
import { shown } from '../ui/terminal-text.js';
import { changeEffects, takeLock } from './apply.js';
import type { CommandContext } from './context.js';
import { nodeTargets, stateTarget, withNodeOptions, type NodeOptions } from './options.js';

const ACTIONS = ['install', 'remove', 'status', 'enable-auto', 'disable-auto'] as const;
type Action = (typeof ACTIONS)[number];

type WatchOptions = NodeOptions & {
  action: Action;
  interval?: string;
  enable?: boolean;
  autoReapply?: boolean;
  maxPerHour?: string;
  json?: boolean;
};

/** Which action takes which of the watch options. */
const TAKES: Record<string, readonly Action[]> = {
  interval: ['install'],
  enable: ['install'],
  'auto-reapply': ['install'],
  'max-per-hour': ['install', 'enable-auto'],
  json: ['status'],
};

export function watchCommand(context: CommandContext): CommandModule<object, WatchOptions> {
  return {
    command: 'watch <action>',
    describe: 'Install, remove or show the systemd units that run harden drift on every change and every interval; turn automatic re-apply on or off',
    builder: (yargs) =>
      withNodeOptions(yargs, false)
        .positional('action', { choices: ACTIONS, describe: 'what to do' })
        .option('interval', { type: 'string', defaultDescription: DEFAULT_INTERVAL, describe: 'install: how often the timer runs drift (90s, 15min, 1h, 1d; from 1min to 7d)', requiresArg: true })
        .option('enable', { type: 'boolean', default: true, describe: 'install: run systemctl daemon-reload and enable --now (--no-enable writes the units and prints the commands)' })
        .option('auto-reapply', { type: 'boolean', describe: 'install: turn automatic re-apply on as well' })
        .option('max-per-hour', { type: 'string', defaultDescription: String(DEFAULT_MAX_PER_HOUR), describe: `install --auto-reapply, enable-auto: re-applies allowed per hour (1 to ${MAX_PER_HOUR_LIMIT})`, requiresArg: true })
        .option('json', { type: 'boolean', describe: 'status: as JSON' })
        .example('$0 watch install', 'write the units and start watching')
        .example('$0 watch install --auto-reapply --max-per-hour 2', 'and let drift re-apply what drifted, twice an hour at most')
        .example('$0 watch status', 'the units, the policy, the last re-applies')
        .example('journalctl -t harden-drift -o json', 'what drift found')
        .epilogue(EXIT_CODES_HELP) as never,
    handler: async (options) => {
      context.setExitCode(await runWatch(context, options));
    },
  };
}

export async function runWatch(context: CommandContext, options: WatchOptions): Promise<number> {
  for (const [option, actions] of Object.entries(TAKES)) {
    const key = option.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof WatchOptions;
    const given = option === 'enable' ? options.enable === false : options[key] !== undefined;
    if (given && !actions.includes(options.action)) {
      const written = option === 'enable' ? '--no-enable' : `--${option}`;
      throw new UsageError(`watch ${options.action} takes no ${written}`, { hint: `${written} goes with watch ${actions.join(' or watch ')}; see harden watch --help` });
    }
  }
  if (options.argsDir !== undefined) {
    throw new UsageError('watch takes no --args-dir', { hint: 'the units watch <root>/var/snap/microk8s/current/args, where MicroK8s reads its args: give --root' });
  }
  if (options.action === 'install' && options.maxPerHour !== undefined && !options.autoReapply) {
    throw new UsageError('--max-per-hour goes with --auto-reapply', { hint: 'harden watch install --auto-reapply --max-per-hour N, or harden watch enable-auto --max-per-hour N' });
  }
  switch (options.action) {
    case 'install':
      return install(context, options);
    case 'remove':
      return remove(context, options);
    case 'status':
      return status(context, options);
    default:
      return changePolicy(context, options);
  }
}

function maxPerHour(options: WatchOptions): number {
  if (options.maxPerHour === undefined) return DEFAULT_MAX_PER_HOUR;
  const value = /^\d+$/.test(options.maxPerHour) ? Number(options.maxPerHour) : Number.NaN;
  if (!(value >= 1 && value <= MAX_PER_HOUR_LIMIT)) {
    throw new UsageError(`--max-per-hour takes a whole number from 1 to ${MAX_PER_HOUR_LIMIT} (got ${JSON.stringify(options.maxPerHour)})`, { hint: 'for example --max-per-hour 1' });
  }
  return value;
}

interface Where {
  readonly root: string;
  /** --state-dir as given (absolute), for the unit's ExecStart; null when not given. */
  readonly givenStateDir: string | null;
  /** The state dir to read and write, checked and resolved. */
  readonly stateDir: string;
}

async function where(ops: FileOps, options: WatchOptions): Promise<Where> {
  const [target] = nodeTargets(options, false);
  const resolved = await stateTarget(ops, options);
  return { root: path.resolve(target.root), givenStateDir: options.stateDir === undefined ? null : path.resolve(options.stateDir), stateDir: resolved.stateDir };
}

/** The units install writes for these options (the timer at `interval`). */
function unitsFor(place: Where, interval: string): UnitFile[] {
  for (const [option, value] of [['--root', place.root], ['--state-dir', place.givenStateDir ?? path.join(place.root, 'var/lib/harden')]] as const) {
    const problem = unitPathProblem(value);
    if (problem !== null) throw new HardenError(`cannot write a systemd unit for ${option} ${value}: ${problem}`, { hint: 'give a path of plain characters (a symlink to the real place will do)' });
  }
  const harden = runningHarden();
  const problem = executableProblem(harden[0]);
  if (problem !== null) throw new HardenError(`cannot write a systemd unit that runs ${harden[0]}: ${problem}`, { hint: 'run harden from a plain path (for example /usr/local/bin/harden), then install again' });
  return watchUnits({ harden, root: place.root, stateDir: place.givenStateDir, interval });
}

async function unitDirOrRefuse(ops: FileOps, root: string): Promise<string> {
  const dir = await unitDirectory(ops, root);
  if (dir === null) {
    throw new HardenError(`cannot install the watch units: ${path.join(root, UNIT_DIR)} is not a directory`, { hint: 'harden watch installs systemd units: run it on a systemd machine, or give --root the root of one' });
  }
  return dir;
}

async function install(context: CommandContext, options: WatchOptions): Promise<number> {
  const { io } = context.effects;
  const { ops, now } = changeEffects(context);
  const say = (line: string) => io.out(`${shown(line)}\n`);
  const interval = options.interval ?? DEFAULT_INTERVAL;
  if (parseInterval(interval) === null) {
    throw new UsageError(`--interval takes a time from 1min to 7d such as 90s, 15min, 1h or 1d (got ${JSON.stringify(interval)})`, { hint: `for example --interval ${DEFAULT_INTERVAL}` });
  }
  const limit = options.autoReapply ? maxPerHour(options) : null;
  // Everything is checked before the first write: the paths, the unit dir, what is at each unit's name, the policy.
  const place = await where(ops, options);
  const units = unitsFor(place, interval);
  await unitDirOrRefuse(ops, place.root);
  const onDisk = await readUnits(ops, place.root, WATCH_UNITS);
  for (const unit of onDisk) refuseOther(unit, 'write');
  const policy = limit === null ? null : await readWatchPolicy(ops, place.stateDir);

  // drift --watch writes its snapshots and policy there, and the service may write only where it is told: the
  // state dir must exist when the service starts.
  await ensurePrivateDir(ops, place.stateDir);
  for (const unit of units) {
    const present = onDisk.find((found) => found.name === unit.name)!;
    if (present.text === unit.text) {
      say(`unchanged ${present.file}`);
    } else {
      await writeAtomically(ops, present.file, unit.text, 0o644);
      say(`wrote ${present.file}`);
    }
  }
  if (policy !== null && limit !== null) {
    const updated = enableAuto(policy, now(), limit);
    await writeWatchPolicy(ops, place.stateDir, updated);
    say(`automatic re-apply: ${policyText(updated)} (${policyPath(place.stateDir)})`);
  }
  const reload = 'systemctl daemon-reload';
  const enable = `systemctl enable --now ${TRIGGER_UNITS.join(' ')}`;
  if (options.enable === false) {
    say('not enabled (--no-enable); to start watching, run:');
    say(`  ${reload}`);
    say(`  ${enable}`);
  } else {
    const units = systemUnits();
    const afterWrite = (error: unknown) => {
      if (!(error instanceof HardenError)) throw error;
      throw new HardenError(error.message, { hint: 'the units are written: run harden watch install again once systemd answers, or harden watch remove' });
    };
    await units.daemonReload().catch(afterWrite);
    say(`ran ${reload}`);
    await units.enableNow(TRIGGER_UNITS).catch(afterWrite);
    say(`ran ${enable}`);
  }
  say(`drift reports go to the journal: journalctl -t ${SYSLOG_IDENTIFIER} -o json`);
  return ExitCode.ok;
}

async function remove(context: CommandContext, options: WatchOptions): Promise<number> {
  const { io } = context.effects;
  const { ops } = changeEffects(context);
  const say = (line: string) => io.out(`${shown(line)}\n`);
  const root = path.resolve(nodeTargets(options, false)[0].root);
  const dir = await unitDirectory(ops, root);
  const present = dir === null ? [] : (await readUnits(ops, root, WATCH_UNITS)).filter((unit) => unit.text !== null || unit.other !== null);
  if (present.length === 0) {
    say(`no watch units in ${path.join(root, UNIT_DIR)}: nothing to remove`);
    return ExitCode.ok;
  }
  for (const unit of present) refuseOther(unit, 'remove');
  const units = systemUnits();
  const triggers = TRIGGER_UNITS.filter((name) => present.some((unit) => unit.name === name));
  if (triggers.length > 0) {
    await units.disableNow(triggers);
    say(`ran systemctl disable --now ${triggers.join(' ')}`);
  }
  for (const unit of present) {
    await removeUnit(ops, unit.file);
    say(`removed ${unit.file}`);
  }
  await units.daemonReload();
  say('ran systemctl daemon-reload');
  return ExitCode.ok;
}

type UnitState = 'current' | 'differs' | 'missing' | 'other';

function unitState(unit: UnitOnDisk, expected: UnitFile): UnitState {
  if (unit.other !== null) return 'other';
  if (unit.text === null) return 'missing';
  return unit.text === expected.text ? 'current' : 'differs';
}

const STATE_TEXT: Record<UnitState, string> = {
  current: 'installed, as install writes it now',
  differs: 'installed, but not as install would write it now (run harden watch install again)',
  missing: 'missing',
  other: 'not a unit file',
};

async function status(context: CommandContext, options: WatchOptions): Promise<number> {
  const { io } = context.effects;
  const { ops, now } = changeEffects(context);
  const place = await where(ops, options);
  const dir = await unitDirectory(ops, place.root);
  const onDisk = dir === null ? WATCH_UNITS.map((name) => ({ name, file: path.join(place.root, UNIT_DIR, name), text: null, other: null })) : await readUnits(ops, place.root, WATCH_UNITS);
  // Compared with what install would write with the interval the timer has.
  const timerText = onDisk.find((unit) => unit.name.endsWith('.timer'))?.text ?? null;
  const expected = unitsFor(place, (timerText !== null ? timerInterval(timerText) : null) ?? DEFAULT_INTERVAL);
  const units = onDisk.map((unit, index) => ({ name: unit.name, file: unit.file, state: unitState(unit, expected[index]), ...(unit.other !== null ? { found: unit.other } : {}) }));
  const policy = await readWatchPolicy(ops, place.stateDir);
  if (options.json) {
    io.out(`${JSON.stringify({ schema: 'harden.watch-status/v1', at: now().toISOString(), units, policyFile: policyPath(place.stateDir), policy: policySummary(policy), reapplies: policy.reapplies }, null, 2)}\n`);
    return ExitCode.ok;
  }
  const say = (line: string) => io.out(`${shown(line)}\n`);
  const width = largest(units.map((unit) => unit.name.length));
  say(`units in ${path.join(place.root, UNIT_DIR)}:`);
  for (const unit of units) say(`  ${unit.name.padEnd(width)}  ${STATE_TEXT[unit.state]}${unit.found ? ` (${unit.found})` : ''}`);
  say(`automatic re-apply: ${policyText(policy)}`);
  if (policy.trip !== null && !policy.autoReapply) say(`  (a re-apply that exited ${policy.trip.exitCode} tripped it at ${policy.trip.at}; enable-auto clears that)`);
  if (policy.reapplies.length === 0) {
    say('re-applies: none recorded');
  } else {
    say('last re-applies:');
    for (const reapply of policy.reapplies.slice(-5).reverse()) say(`  ${reapply.at}  exit ${reapply.exitCode}  ${reapply.rules.join(', ')}`);
  }
  return ExitCode.ok;
}

function policySummary(policy: WatchPolicy): object {
  const state = policy.autoReapply ? (policy.trip !== null ? 'tripped' : 'on') : 'off';
  return { state, autoReapply: policy.autoReapply, maxPerHour: policy.maxPerHour, changedAt: policy.changedAt, trip: policy.trip };
}

async function changePolicy(context: CommandContext, options: WatchOptions): Promise<number> {
  const { io } = context.effects;
  const { ops, now } = changeEffects(context);
  const limit = options.action === 'enable-auto' ? maxPerHour(options) : null;
  const target = await stateTarget(ops, options);
  // Under the lock: drift --watch records its re-applies in the same file.
  const lock = await takeLock(context, ops, target, 0, false);
  let before: WatchPolicy;
  let after: WatchPolicy;
  try {
    before = await readWatchPolicy(ops, target.stateDir);
    after = limit === null ? disableAuto(before, now()) : enableAuto(before, now(), limit);
    await writeWatchPolicy(ops, target.stateDir, after);
  } finally {
    await lock.release();
  }
  const say = (line: string) => io.out(`${shown(line)}\n`);
  if (limit !== null && before.trip !== null) say(`cleared the trip of ${before.trip.at} (a re-apply that exited ${before.trip.exitCode})`);
  say(`automatic re-apply: ${policyText(after)} (${policyPath(target.stateDir)})`);
  return ExitCode.ok;
}
