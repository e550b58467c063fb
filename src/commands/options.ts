// The options every command shares, and the rules that tie them together (see the README's CLI conventions).
import path from 'node:path';
import type { Argv } from 'yargs';
import { HardenError, UsageError } from '../errors.js';
import { errorHint } from '../effects/file-ops.js';
import { errorCode, type FileSystem } from '../effects/file-system.js';
import { findNodeRoots, NODE_ROOT_MARK } from '../effects/node-roots.js';
import { resolveStateDir, type StateReader } from '../effects/state-dir.js';
import { appendAll } from '../core/lists.js';

export const DEFAULT_PROFILE = 'baseline';

/** --root, --args-dir, --state-dir: where the node is. */
export function withNodeOptions<T>(yargs: Argv<T>, multipleRoots: boolean) {
  return yargs
    .option('root', {
      // Not `array: true`, which would swallow the command name after `--root DIR`: repeating the option
      // collects the values instead.
      type: 'string',
      coerce: toList,
      // No default value: with --roots, a missing --root means none (nodeTargets supplies `/` otherwise).
      defaultDescription: '/',
      describe: multipleRoots
        ? "the node's filesystem root; repeat to read several nodes"
        : "the node's filesystem root (exactly one)",
      requiresArg: true,
    })
    .option('args-dir', {
      type: 'string',
      describe: 'the args directory (default <root>/var/snap/microk8s/current/args); one root only',
      requiresArg: true,
    })
    .option('state-dir', {
      type: 'string',
      describe: "harden's state: snapshots, lock (default <root>/var/lib/harden); one root only",
      requiresArg: true,
    });
}

/** --roots: a directory of node roots (commands that read several nodes). */
export function withFleetOption<T>(yargs: Argv<T>) {
  return yargs.option('roots', {
    type: 'string',
    coerce: toList,
    describe: `a directory of node roots: each subdirectory with ${NODE_ROOT_MARK} inside; repeatable, and adds to --root`,
    requiresArg: true,
  });
}

/** --format, --json, --no-color. */
export function withOutputOptions<T>(yargs: Argv<T>, formats: readonly string[] = ['text', 'json']) {
  return yargs
    .option('format', { choices: formats, default: 'text', describe: 'output format', requiresArg: true })
    .option('json', { type: 'boolean', describe: 'shorthand for --format json' })
    .option('color', { type: 'boolean', describe: 'colour the text output (--no-color turns it off; NO_COLOR is honoured)' });
}

/** --profile, --only, --skip: which rules. */
export function withRuleOptions<T>(yargs: Argv<T>) {
  return yargs
    .option('profile', { type: 'string', default: DEFAULT_PROFILE, describe: 'a shipped profile name, or a profile file', requiresArg: true })
    .option('only', { type: 'string', coerce: toList, describe: 'only these rule ids (comma-separated, repeatable)', requiresArg: true })
    .option('skip', { type: 'string', coerce: toList, describe: 'skip these rule ids (comma-separated, repeatable)', requiresArg: true });
}

/** --health-timeout, --health-window: how long the gates of apply and rollback wait (checked by gateTimes). */
export function withGateOptions<T>(yargs: Argv<T>) {
  return yargs
    .option('health-timeout', { type: 'string', defaultDescription: String(HEALTH_TIMEOUT), describe: 'seconds the health gates may take', requiresArg: true })
    .option('health-window', { type: 'string', defaultDescription: String(HEALTH_WINDOW), describe: 'seconds each restarted unit must stay up with the same PID and restart count', requiresArg: true });
}

/** --wait: how long apply and rollback wait for another harden run's lock (checked by lockWaitSeconds). */
export function withWaitOption<T>(yargs: Argv<T>) {
  return yargs.option('wait', { type: 'string', defaultDescription: '0: refuse at once', describe: 'seconds to wait for another harden run on this node to finish', requiresArg: true });
}

/** --wait in seconds: 0 (refuse at once) when not given; a plain number of seconds from 0 to a day otherwise. */
export function lockWaitSeconds(options: { readonly wait?: unknown }): number {
  return seconds('wait', options.wait, 0);
}

const HEALTH_TIMEOUT = 180;
const HEALTH_WINDOW = 5;
/** A day: no gate waits longer, and a typo of a few zeros is caught. */
const MAX_SECONDS = 86_400;

export interface GateTimes {
  readonly timeout: number;
  readonly window: number;
}

/**
 * The gates' times, refused unless each is a plain number of seconds from 0 to a day: yargs would take `abc`
 * as NaN, and a gate waiting for NaN seconds never ends.
 */
export function gateTimes(options: { readonly healthTimeout?: unknown; readonly healthWindow?: unknown }): GateTimes {
  return { timeout: seconds('health-timeout', options.healthTimeout, HEALTH_TIMEOUT), window: seconds('health-window', options.healthWindow, HEALTH_WINDOW) };
}

function seconds(name: string, given: unknown, fallback: number, min = 0): number {
  if (given === undefined) return fallback;
  const text = Array.isArray(given) ? given.map(String).join(' ') : String(given);
  const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= MAX_SECONDS)) {
    throw new UsageError(`--${name} takes a number of seconds from ${min} to ${MAX_SECONDS} (got ${JSON.stringify(text)})`, { hint: `for example --${name} ${fallback || 60}` });
  }
  return value;
}

function toList(value: string | string[]): string[] {
  return Array.isArray(value) ? value : [value];
}

export interface NodeOptions {
  /** Absent when not given: `/`, unless --roots names the nodes. */
  readonly root?: readonly string[] | undefined;
  readonly argsDir?: string | undefined;
  readonly stateDir?: string | undefined;
}

export interface NodeTarget {
  readonly root: string;
  readonly argsDir: string | undefined;
  readonly stateDir: string;
}

export interface FleetOptions extends NodeOptions {
  readonly roots?: readonly string[] | undefined;
}

/** The targets of --root and --roots together: the roots given, then those found in each --roots dir. */
export async function fleetTargets(fs: FileSystem, options: FleetOptions): Promise<NodeTarget[]> {
  if (!options.roots?.length) return nodeTargets(options, true);
  const found: string[] = [];
  for (const dir of options.roots) appendAll(found, await findNodeRoots(fs, dir));
  if (options.argsDir !== undefined || options.stateDir !== undefined) {
    throw new UsageError('--args-dir and --state-dir go with a single --root, not with --roots', { hint: 'drop them, or run once per root' });
  }
  return nodeTargets({ ...options, root: [...(options.root ?? []), ...found] }, true);
}

/** Checks the --root/--args-dir/--state-dir rules and returns one target per root. */
export function nodeTargets(options: NodeOptions, multipleRoots: boolean): NodeTarget[] {
  const roots = [...new Set(options.root ?? ['/'])];
  if (roots.length === 0) throw new UsageError('--root needs a directory');
  if (roots.length > 1 && !multipleRoots) {
    throw new UsageError('this command takes exactly one --root', { hint: 'run it once per node' });
  }
  if (roots.length > 1 && (options.argsDir !== undefined || options.stateDir !== undefined)) {
    throw new UsageError('--args-dir and --state-dir go with a single --root', {
      hint: 'drop them, or run once per root',
    });
  }
  if (options.argsDir !== undefined) argsDirInside(roots[0], options.argsDir);
  return roots.map((root) => ({
    root,
    argsDir: options.argsDir,
    stateDir: options.stateDir ?? path.join(root, 'var/lib/harden'),
  }));
}

/**
 * --args-dir names the node's own args dir as a path on this machine, so it lies inside --root: harden reads the
 * node, writes, snapshots and rolls back node paths, and the services read their args from the node. A directory
 * outside the root is refused by every command alike, before anything is read.
 */
function argsDirInside(root: string, argsDir: string): void {
  const inside = path.relative(path.resolve(root), path.resolve(argsDir));
  if (inside === '..' || inside.startsWith(`..${path.sep}`) || path.isAbsolute(inside)) {
    throw new UsageError(`--args-dir ${argsDir} is outside --root ${root}`, {
      hint: `the args dir is the node's own: name it inside the root (${path.join(root, 'var/snap/microk8s/current/args')} by default), or copy it into the root`,
    });
  }
}

/**
 * The one target of a command that uses the state dir (apply, rollback, snapshots), its state dir checked and
 * with the links on its way resolved: the default `<root>/var/lib/harden` may not lead out of the root.
 */
export async function stateTarget(reader: StateReader, options: NodeOptions): Promise<NodeTarget> {
  const [target] = nodeTargets(options, false);
  try {
    return { ...target, stateDir: await resolveStateDir(reader, target.root, target.stateDir) };
  } catch (error) {
    if (error instanceof HardenError) throw error;
    const code = errorCode(error);
    throw new HardenError(`cannot use the state directory ${target.stateDir} (${code ?? 'error'})`, { hint: errorHint(code) });
  }
}

/** `--only a,b --only c` -> ['a', 'b', 'c']. */
export function ruleIds(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((value) => value.split(',')).map((id) => id.trim()).filter(Boolean);
}

/** --cluster, --cluster-max-age: cluster facts for check, plan and apply on one node. */
export function withClusterOptions<T>(yargs: Argv<T>) {
  return yargs
    .option('cluster', { type: 'string', describe: 'cluster facts (harden cluster facts --out FILE): decide control-plane requirements from the control planes', requiresArg: true })
    .option('cluster-max-age', { type: 'string', defaultDescription: '3600', describe: 'seconds cluster facts may be old', requiresArg: true });
}

export interface ClusterOptions {
  readonly cluster?: string | undefined;
  readonly clusterMaxAge?: unknown;
}

/** --cluster-max-age in seconds (default an hour), from 0 to a day. */
export function clusterMaxAge(options: ClusterOptions): number {
  return seconds('cluster-max-age', options.clusterMaxAge, 3600);
}

/** --waivers: waiver files (check, plan, apply); repeatable, and never a default file. */
export function withWaiverOption<T>(yargs: Argv<T>) {
  return yargs.option('waivers', {
    type: 'string',
    coerce: toList,
    describe: 'a YAML file of waivers: failing rules excused, each with its justification (and owner, expiry); repeatable',
    requiresArg: true,
  });
}

export interface WaiverOptions {
  readonly waivers?: readonly string[] | undefined;
}
