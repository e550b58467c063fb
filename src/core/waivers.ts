// Waivers: an operator's justified exceptions to failing rules (`--waivers FILE`). A waiver names a rule (or a glob
// of rule ids), optionally the nodes it holds on, why, who owns it and until when. Parsed and validated here
// (every problem located by file and line), and applied to a node's results: a FAIL or BLOCKED result a waiver
// matches becomes WAIVED, unless the waiver expired (the result then stays as it was, and says so).
import type { ErrorObject } from 'ajv';
import { closest } from './closest.js';
import type { ResultWaiver, RuleResult } from './evaluate.js';
import type { ProfileValidator } from './profile.js';
import { WAIVER_DATE_PATTERN, WAIVER_FIELDS, WAIVER_RULE_PATTERN, WAIVERS_FIELDS } from './waiver-schema.js';

/** One waiver of a file, as written and where. */
export interface Waiver {
  /** A rule id or a glob of them (`*` any characters). */
  readonly rule: string;
  /** Globs of node roots or names it holds on; null: every node. */
  readonly nodes: readonly string[] | null;
  readonly justification: string;
  readonly owner: string | null;
  /** `2026-12-31`; null: it does not expire. */
  readonly expires: string | null;
  /** The waiver file as given, the line its entry starts on, and its number in the file (from 1). */
  readonly file: string;
  readonly line: number;
  readonly number: number;
}

export type ParsedWaivers = { readonly ok: true; readonly waivers: readonly Waiver[] } | { readonly ok: false; readonly problems: readonly string[] };

interface WaiverEntry {
  readonly rule: string;
  readonly nodes?: readonly string[];
  readonly justification: string;
  readonly owner?: string;
  readonly expires?: string;
}

/**
 * Parses and validates one waiver file's text; `file` is how to name it in problems, each one line
 * `FILE:LINE: waiver N: message` (or `FILE:LINE: message` for the document itself).
 */
export async function parseWaivers(text: string, file: string, check: ProfileValidator): Promise<ParsedWaivers> {
  const yaml = await import('yaml');
  const lineCounter = new yaml.LineCounter();
  const doc = yaml.parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return { ok: false, problems: doc.errors.map((error) => `${file}:${lineCounter.linePos(error.pos[0]).line}: not valid YAML: ${error.message.split('\n')[0]}`) };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    return { ok: false, problems: [`${file}:1: not valid YAML: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`] };
  }
  const lineOf = (pointer: readonly (string | number)[]): number => {
    for (let length = pointer.length; length >= 0; length -= 1) {
      const node = doc.getIn(pointer.slice(0, length), true);
      if (yaml.isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return 1;
  };
  const where = (pointer: readonly (string | number)[]) => {
    const at = `${file}:${lineOf(pointer)}: `;
    return pointer[0] === 'waivers' && typeof pointer[1] === 'number' ? `${at}waiver ${pointer[1] + 1}: ` : at;
  };
  const problems: { line: number; text: string }[] = [];
  if (!check(data)) {
    for (const error of relevantErrors(check.errors ?? [])) {
      const pointer: (string | number)[] = error.instancePath.split('/').slice(1).map((part) => (/^\d+$/.test(part) ? Number(part) : part.replace(/~1/g, '/').replace(/~0/g, '~')));
      if (error.keyword === 'additionalProperties') pointer.push((error.params as { additionalProperty: string }).additionalProperty);
      problems.push({ line: lineOf(pointer), text: `${where(pointer)}${describe(error)}` });
    }
  } else {
    (data as { waivers: WaiverEntry[] }).waivers.forEach((entry, index) => {
      if (entry.expires !== undefined && !realDate(entry.expires)) {
        problems.push({ line: lineOf(['waivers', index, 'expires']), text: `${where(['waivers', index, 'expires'])}expires: ${entry.expires} is not a real date` });
      }
    });
  }
  if (problems.length > 0) return { ok: false, problems: problems.sort((a, b) => a.line - b.line).map((problem) => problem.text) };
  const waivers = (data as { waivers: WaiverEntry[] }).waivers.map((entry, index): Waiver => ({
    rule: entry.rule,
    nodes: entry.nodes ?? null,
    justification: entry.justification.trim(),
    owner: entry.owner?.trim() ?? null,
    expires: entry.expires ?? null,
    file,
    line: lineOf(['waivers', index]),
    number: index + 1,
  }));
  return { ok: true, waivers };
}

/** `2026-02-30` is no day of any year; `2028-02-29` is one. */
function realDate(text: string): boolean {
  if (!new RegExp(WAIVER_DATE_PATTERN).test(text)) return false;
  const [year, month, day] = text.split('-').map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** The errors worth a line: not the combinators' own, one per place and message. */
function relevantErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  const unique = new Map<string, ErrorObject>();
  for (const error of errors) unique.set(`${error.instancePath}|${describe(error)}`, error);
  return [...unique.values()];
}

function describe(error: ErrorObject): string {
  const last = error.instancePath.split('/').pop();
  const field = last && !/^\d+$/.test(last) ? `${last}: ` : '';
  switch (error.keyword) {
    case 'required':
      return `missing field "${(error.params as { missingProperty: string }).missingProperty}"`;
    case 'additionalProperties': {
      const name = (error.params as { additionalProperty: string }).additionalProperty;
      const known = error.instancePath === '' ? WAIVERS_FIELDS : /^\/waivers\/\d+$/.test(error.instancePath) ? WAIVER_FIELDS : [];
      const guess = closest(name, known);
      return `${field}unknown field "${name}"${guess ? `; did you mean "${guess}"?` : ''}`;
    }
    case 'const':
      return `${field}must be ${JSON.stringify((error.params as { allowedValue: unknown }).allowedValue)}`;
    case 'pattern': {
      const pattern = (error.params as { pattern: string }).pattern;
      if (pattern === WAIVER_RULE_PATTERN) return `${field}must be a rule id or a glob of them (a-z, 0-9, -, . and *), as harden profiles show lists them`;
      if (pattern === WAIVER_DATE_PATTERN) return `${field}must be a date, YYYY-MM-DD (the waiver holds to the end of that day, UTC)`;
      return `${field}must not be empty`;
    }
    case 'minLength':
      return `${field}must not be empty`;
    case 'minItems':
      return `${field}must name at least one node (leave it out to waive on every node)`;
    default:
      return `${field}${error.message ?? 'is invalid'}`;
  }
}

/** `files.*` as a regular expression over whole rule ids (`*` any characters, dots included). */
export function globPattern(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')).join('.*')}$`);
}

/** Whether a waiver's rule glob names this rule id. */
export function waiverNamesRule(waiver: Waiver, ruleId: string): boolean {
  return globPattern(waiver.rule).test(ruleId);
}

/** Whether a waiver holds on a node known by these names (its root as given, its real path, its hostname). */
export function waiverHoldsOn(waiver: Waiver, names: readonly string[]): boolean {
  return waiver.nodes === null || waiver.nodes.some((glob) => names.some((name) => globPattern(glob).test(name)));
}

/** Whether a waiver has expired at `now`: it holds to the end of its day, UTC. */
export function waiverExpired(waiver: Waiver, now: Date): boolean {
  if (waiver.expires === null) return false;
  const [year, month, day] = waiver.expires.split('-').map(Number);
  return now.getTime() >= Date.UTC(year, month - 1, day + 1);
}

/**
 * The results with the waivers applied: a FAIL or BLOCKED result a waiver matches (its rule, and this node)
 * becomes WAIVED; when every waiver that matches it has expired, it stays as it was, with the expired waiver.
 * PASS, MANUAL, NOT APPLICABLE and NOT ASSESSED are never waived. Of several waivers, the first in the order
 * given that has not expired is the one. (Then run blockUnmetRequirements: a waived rule meets no requirement.)
 */
export function applyWaivers(results: readonly RuleResult[], waivers: readonly Waiver[], names: readonly string[], now: Date): RuleResult[] {
  if (waivers.length === 0) return [...results];
  const here = waivers.filter((waiver) => waiverHoldsOn(waiver, names));
  return results.map((result) => {
    if (result.status !== 'FAIL' && result.status !== 'BLOCKED') return result;
    const matching = here.filter((waiver) => waiverNamesRule(waiver, result.id));
    if (matching.length === 0) return result;
    const valid = matching.find((waiver) => !waiverExpired(waiver, now));
    const chosen = valid ?? matching[0];
    const waiver: ResultWaiver = {
      justification: chosen.justification,
      owner: chosen.owner,
      expires: chosen.expires,
      file: chosen.file,
      line: chosen.line,
      status: result.status,
      expired: valid === undefined,
    };
    return valid ? { ...result, status: 'WAIVED' as const, waiver } : { ...result, waiver };
  });
}

/** The waivers no result used (none of them excuses, or expired on, a failing rule on any node checked), in order. */
export function unusedWaivers(waivers: readonly Waiver[], results: readonly RuleResult[]): Waiver[] {
  const used = new Set(results.flatMap((result) => (result.waiver ? [`${result.waiver.file}\0${result.waiver.line}`] : [])));
  return waivers.filter((waiver) => !used.has(`${waiver.file}\0${waiver.line}`));
}

/** Waivers whose rule glob names no rule of the profile: most likely a typo. */
export function strayWaivers(waivers: readonly Waiver[], ruleIds: readonly string[]): Waiver[] {
  return waivers.filter((waiver) => !ruleIds.some((id) => waiverNamesRule(waiver, id)));
}

/** The JSON view of a waiver (reports and saved plans). */
export function waiverJson(waiver: Waiver): { file: string; line: number; rule: string; nodes: readonly string[] | null; justification: string; owner: string | null; expires: string | null } {
  return { file: waiver.file, line: waiver.line, rule: waiver.rule, nodes: waiver.nodes, justification: waiver.justification, owner: waiver.owner, expires: waiver.expires };
}

/** `waivers.yaml:7: waiver 2: rule "file.*" names no rule of profile baseline`: said once the profile is known. */
export function strayWaiverText(waiver: Waiver, profileName: string): string {
  return `${waiver.file}:${waiver.line}: waiver ${waiver.number}: rule "${waiver.rule}" names no rule of profile ${profileName}`;
}

/** `waivers.yaml:4: waiver for apiserver.profiling matches no failing rule`: said once every node is checked. */
export function unusedWaiverText(waiver: Waiver): string {
  return `${waiver.file}:${waiver.line}: waiver for ${waiver.rule} matches no failing rule`;
}
