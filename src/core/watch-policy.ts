// The automatic re-apply policy of `harden watch` (`<state dir>/watch.json`, schema harden.watch/v1): off
// unless a person turns it on; at most N re-applies an hour; and stopped for good (tripped) by a re-apply that
// failed its gates (exit 3, put back) or could not put the node back (exit 4), until a person turns it on
// again. Pure: the document's check, the decision and the record, from data and a clock reading.

export const WATCH_SCHEMA = 'harden.watch/v1';
export const DEFAULT_MAX_PER_HOUR = 1;
export const MAX_PER_HOUR_LIMIT = 12;
/** How many re-applies the document keeps (the newest). */
export const RECORDED_REAPPLIES = 20;
/** The apply exit codes that trip the policy: a failed gate, put back (3), or a put-back that failed (4). */
export const TRIPPING_EXIT_CODES: readonly number[] = [3, 4];
const HOUR_MS = 3_600_000;

export interface WatchReapply {
  /** ISO time the re-apply ended. */
  readonly at: string;
  readonly exitCode: number;
  /** The drifted rule ids it was run for. */
  readonly rules: readonly string[];
}

export interface WatchTrip {
  readonly at: string;
  readonly exitCode: number;
}

export interface WatchPolicy {
  readonly schema: typeof WATCH_SCHEMA;
  readonly autoReapply: boolean;
  readonly maxPerHour: number;
  /** When a person last turned it on or off; null: never (the default, off). */
  readonly changedAt: string | null;
  readonly trip: WatchTrip | null;
  readonly reapplies: readonly WatchReapply[];
}

export const DEFAULT_POLICY: WatchPolicy = { schema: WATCH_SCHEMA, autoReapply: false, maxPerHour: DEFAULT_MAX_PER_HOUR, changedAt: null, trip: null, reapplies: [] };

export type Decision = { readonly reapply: true } | { readonly reapply: false; readonly action: 'none' | 'skipped'; readonly reason: string };

/** Whether drift --watch re-applies now, for these drifted rule ids. */
export function decideReapply(policy: WatchPolicy, now: Date, drifted: readonly string[]): Decision {
  if (drifted.length === 0) return { reapply: false, action: 'none', reason: 'nothing drifted' };
  if (!policy.autoReapply) return { reapply: false, action: 'none', reason: 'automatic re-apply is off (harden watch enable-auto turns it on)' };
  if (policy.trip !== null) return { reapply: false, action: 'skipped', reason: tripText(policy.trip) };
  const recent = reappliesWithinHour(policy, now);
  if (recent >= policy.maxPerHour) {
    return { reapply: false, action: 'skipped', reason: `${recent} automatic re-appl${recent === 1 ? 'y' : 'ies'} in the last hour, the limit is ${policy.maxPerHour} (harden watch enable-auto --max-per-hour N)` };
  }
  return { reapply: true };
}

/** The re-applies of the hour before `now`. */
export function reappliesWithinHour(policy: WatchPolicy, now: Date): number {
  const since = now.getTime() - HOUR_MS;
  return policy.reapplies.filter((r) => {
    const at = Date.parse(r.at);
    return at > since && at <= now.getTime();
  }).length;
}

/** The policy once a re-apply ended with `exitCode`: recorded, and tripped when it failed its gates. */
export function recordReapply(policy: WatchPolicy, at: Date, exitCode: number, rules: readonly string[]): WatchPolicy {
  const reapplies = [...policy.reapplies, { at: at.toISOString(), exitCode, rules: [...rules] }].slice(-RECORDED_REAPPLIES);
  const trip = policy.trip ?? (TRIPPING_EXIT_CODES.includes(exitCode) ? { at: at.toISOString(), exitCode } : null);
  return { ...policy, reapplies, trip };
}

/** A person turns it on: with this limit, and a trip cleared (their decision). */
export function enableAuto(policy: WatchPolicy, now: Date, maxPerHour: number): WatchPolicy {
  return { ...policy, autoReapply: true, maxPerHour, changedAt: now.toISOString(), trip: null };
}

/** A person turns it off; a trip stays recorded until it is turned on again. */
export function disableAuto(policy: WatchPolicy, now: Date): WatchPolicy {
  return { ...policy, autoReapply: false, changedAt: now.toISOString() };
}

export function tripText(trip: WatchTrip): string {
  return `tripped since ${trip.at} by a re-apply that exited ${trip.exitCode}; look at the node (harden watch status, harden snapshots list), then harden watch enable-auto turns it on again`;
}

/** One line: `off`, `on, at most 2 per hour`, or `TRIPPED since …`. */
export function policyText(policy: WatchPolicy): string {
  if (policy.autoReapply && policy.trip !== null) return `TRIPPED (${tripText(policy.trip)})`;
  if (policy.autoReapply) return `on, at most ${policy.maxPerHour} per hour`;
  return 'off (harden watch enable-auto turns it on)';
}

/** The file's bytes: JSON, two-space indent, a final newline. */
export function policyDocument(policy: WatchPolicy): string {
  return `${JSON.stringify(policy, null, 2)}\n`;
}

export type Parsed = { readonly ok: true; readonly policy: WatchPolicy } | { readonly ok: false; readonly problem: string };

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z$/;
const RULE_ID = /^[a-z0-9][a-z0-9.-]{0,127}$/;

/** The one check of a watch.json document: every field, its type and range, and nothing else. */
export function parseWatchPolicy(data: unknown): Parsed {
  const fail = (problem: string): Parsed => ({ ok: false, problem });
  if (!isObject(data)) return fail('not a JSON object');
  if (data.schema !== WATCH_SCHEMA) return fail(typeof data.schema === 'string' ? `not ${WATCH_SCHEMA} (it says ${JSON.stringify(data.schema).slice(0, 80)})` : `not ${WATCH_SCHEMA}`);
  const extra = Object.keys(data).find((key) => !['schema', 'autoReapply', 'maxPerHour', 'changedAt', 'trip', 'reapplies'].includes(key));
  if (extra !== undefined) return fail(`unknown field ${JSON.stringify(extra).slice(0, 80)}`);
  if (typeof data.autoReapply !== 'boolean') return fail('autoReapply: must be true or false');
  if (!isWhole(data.maxPerHour, 1, MAX_PER_HOUR_LIMIT)) return fail(`maxPerHour: must be a whole number from 1 to ${MAX_PER_HOUR_LIMIT}`);
  if (data.changedAt !== null && !isTime(data.changedAt)) return fail('changedAt: must be null or an ISO time');
  if (data.trip !== null) {
    if (!isObject(data.trip) || Object.keys(data.trip).length !== 2 || !isTime(data.trip.at) || !isWhole(data.trip.exitCode, 0, 255)) return fail('trip: must be null or {"at": ISO time, "exitCode": 0-255}');
  }
  if (!Array.isArray(data.reapplies) || data.reapplies.length > RECORDED_REAPPLIES) return fail(`reapplies: must be a list of at most ${RECORDED_REAPPLIES}`);
  for (const [index, entry] of data.reapplies.entries()) {
    const ok = isObject(entry) && Object.keys(entry).length === 3 && isTime(entry.at) && isWhole(entry.exitCode, 0, 255)
      && Array.isArray(entry.rules) && entry.rules.length <= 1000 && entry.rules.every((id) => typeof id === 'string' && RULE_ID.test(id));
    if (!ok) return fail(`reapplies[${index}]: must be {"at": ISO time, "exitCode": 0-255, "rules": [rule ids]}`);
  }
  return { ok: true, policy: data as unknown as WatchPolicy };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isWhole(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function isTime(value: unknown): value is string {
  return typeof value === 'string' && ISO.test(value) && !Number.isNaN(Date.parse(value));
}
