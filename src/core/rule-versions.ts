// What a rule writes on each MicroK8s version: the flag catalogue's verdict on its flag and value, the range
// of versions the rule applies to, and the default it replaces. For `harden profiles show NAME RULE`.
import { flagSupport, type FlagCatalogue } from './flag-catalogue.js';
import { argsFileOf, inRange } from './evaluate.js';
import type { Rule } from './profile.js';
import type { Version } from './version.js';

/** The MicroK8s versions harden has been checked against: 1.13 (the oldest fixture) to 1.36 (the newest). */
export const FIRST_MINOR = 13;
export const LAST_MINOR = 36;

export interface VersionSpan {
  /** `1.13`, or `1.13-1.20`. */
  readonly versions: string;
  /** What the rule does to a failing node on these versions. */
  readonly writes: string;
}

/** One line per run of versions on which the rule does the same, oldest first. */
export function ruleWritesByVersion(rule: Rule, catalogue: FlagCatalogue): VersionSpan[] {
  const spans: { first: number; last: number; writes: string }[] = [];
  for (let minor = FIRST_MINOR; minor <= LAST_MINOR; minor += 1) {
    const writes = writesOn(rule, catalogue, { major: 1, minor, patch: 0 } as Version);
    const last = spans[spans.length - 1];
    if (last && last.writes === writes) last.last = minor;
    else spans.push({ first: minor, last: minor, writes });
  }
  return spans.map(({ first, last, writes }) => ({ versions: first === last ? `1.${first}` : `1.${first}-1.${last}`, writes }));
}

function writesOn(rule: Rule, catalogue: FlagCatalogue, version: Version): string {
  if (rule.applies?.versions && !inRange(version, rule.applies.versions)) return 'nothing: the rule does not apply';
  const file = `args/${argsFileOf(rule.component)}`;
  switch (rule.operation) {
    case 'manual':
      return 'nothing: checked by hand';
    case 'probe':
      return 'nothing: judged from what listens on the node';
    case 'companion-file':
      return `${rule.path} (mode ${rule.mode}${rule.owner ? `, owner ${rule.owner}` : ''}) from ${rule.template}`;
    case 'file-mode':
      return `${[rule.mode && `mode ${rule.mode}`, rule.owner && `owner ${rule.owner}`].filter(Boolean).join(', ')} on ${rule.path}${rule.match ? ` and its entries ${rule.match}` : ''}`;
    case 'directory':
      return `${rule.path}/ (mode ${rule.mode}, owner ${rule.owner}) when missing`;
    case 'sysctl':
      return `${Object.entries(rule.sysctls ?? {}).map(([key, value]) => `${key}=${value}`).join(', ')}, running (in place, under /proc/sys) and persisted in ${rule.path}`;
    case 'remove-flag':
      return `removes ${rule.flag} from ${file}`;
    default:
      break;
  }
  const value = rule.operation === 'set-flag' ? rule.value! : rule.items!.join(',');
  const written = rule.operation === 'set-flag' ? `${rule.flag}=${value}` : rule.operation === 'include-items' ? `${rule.flag} including ${value}` : `${rule.flag} without ${value}`;
  // What is taken out needs no support from the component; what is written does.
  const support = rule.operation === 'exclude-items' ? null : flagSupport(catalogue, { component: rule.component, flag: rule.flag!, value: rule.operation === 'set-flag' || rule.operation === 'include-items' ? value : null, version });
  // In words that hold for the whole run of versions (the catalogue's reasons name the one version asked about).
  const what = rule.operation === 'set-flag' ? written : `${rule.flag}=${value}`;
  if (support?.status === 'not-yet') return `nothing: ${rule.component} does not know ${what} on these versions`;
  if (support?.status === 'removed') return `nothing: ${what} was removed from ${rule.component}${support.row?.removed ? ` in ${support.row.removed.text}` : ''}`;
  if (support && support.status !== 'supported') return `nothing (blocked): the flag catalogue cannot vouch for ${what} on these versions`;
  const fallback = defaultOn(rule, version);
  return `${written} in ${file}${fallback === null ? '' : ` (default ${fallback})`}`;
}

function defaultOn(rule: Rule, version: Version): string | null {
  if (rule.default === undefined) return null;
  if (typeof rule.default === 'string') return rule.default;
  const match = rule.default.find((entry) => inRange(version, entry));
  return match === undefined ? null : match.value ?? 'none';
}
