// Profiles: YAML documents validated against profiles/schema.json, with every error located by file, line
// and rule id, all reported at once.
import type { ErrorObject } from 'ajv';
import type { Document, LineCounter } from 'yaml';
import type { Component } from './consumers.js';
import { unsafeValueReason, VALUE_RULE } from './safe-value.js';
import { closest } from './closest.js';
import type { FlagCatalogue } from './flag-catalogue.js';

export type Severity = 'low' | 'medium' | 'high' | 'critical';
export type Operation = 'set-flag' | 'remove-flag' | 'include-items' | 'exclude-items' | 'companion-file' | 'file-mode' | 'directory' | 'sysctl' | 'manual' | 'probe';

export interface VersionRange { readonly from?: string; readonly before?: string }
export type Reference = { readonly cis: string; readonly benchmark: string; readonly automated?: boolean } | { readonly doc: string; readonly title?: string };
export type Requirement =
  | { readonly rule: string; readonly why?: string }
  | { readonly fact: 'file-exists' | 'dir-exists' | 'dir-writable'; readonly path: string; readonly why?: string }
  | { readonly fact: 'sysctl'; readonly key: string; readonly value: string; readonly why?: string }
  | { readonly fact: 'kubeconfig-auth'; readonly kubeconfig: string; readonly auth: 'token' | 'certificate'; readonly why?: string }
  | { readonly fact: 'signed-by'; readonly path: string; readonly ca: string; readonly why?: string };

export interface Rule {
  readonly id: string;
  readonly title: string;
  readonly rationale: string;
  readonly severity: Severity;
  readonly component: Component;
  readonly references?: readonly Reference[];
  readonly applies?: {
    readonly versions?: VersionRange;
    readonly era?: 'kubelite' | 'daemons';
    readonly role?: 'control-plane' | 'worker';
    readonly datastore?: readonly string[];
  };
  readonly requires?: readonly Requirement[];
  readonly risks?: readonly string[];
  readonly operation: Operation;
  readonly flag?: string;
  readonly value?: string;
  readonly accept?: { readonly op: 'gte' | 'lte' | 'one-of' | 'not-one-of' | 'subset-of' | 'any'; readonly values?: readonly string[] };
  readonly items?: readonly string[];
  readonly default?: string | ReadonlyArray<VersionRange & { readonly value: string | null }>;
  readonly path?: string;
  readonly template?: string;
  /** file-mode on a directory: also its entries whose names match this glob (`*`, `*.crt`). */
  readonly match?: string;
  readonly mode?: string;
  readonly owner?: string;
  /** sysctl: each kernel parameter and the value it must have, running and persisted. */
  readonly sysctls?: Readonly<Record<string, string>>;
  readonly explain?: string;
  /** probe: judged from what listens on the node, never changed by a plan. */
  readonly probe?: { readonly check: 'exposure' };
}

export interface ProfileDocument {
  readonly apiVersion: 'harden/v1';
  readonly kind: 'Profile';
  readonly name: string;
  readonly title: string;
  readonly description?: string;
  readonly extends?: string;
  readonly rules: readonly Rule[];
}

/** One problem in a profile file, located. */
export interface ProfileProblem {
  readonly file: string;
  readonly line: number;
  readonly ruleId: string | null;
  readonly message: string;
  /** Reported before the others (a misspelled field, which the others may follow from). */
  readonly first?: boolean;
}

export type ParsedProfile =
  | { readonly ok: true; readonly profile: ProfileDocument; /** The line of a place in the document, by its path. */ readonly lineOf: (pointer: readonly (string | number)[]) => number }
  | { readonly ok: false; readonly problems: readonly ProfileProblem[] };

/**
 * The fields of a profile and of a rule, as profiles/schema.json defines them (test/core/profile.test.ts keeps
 * them the same): what an unknown field is most likely a misspelling of.
 */
export const PROFILE_FIELDS: readonly string[] = ['apiVersion', 'kind', 'name', 'title', 'description', 'extends', 'rules'];
export const RULE_FIELDS: readonly string[] = [
  'id', 'title', 'rationale', 'severity', 'component', 'references', 'applies', 'requires', 'risks', 'operation', 'flag', 'value',
  'accept', 'items', 'default', 'path', 'template', 'match', 'mode', 'owner', 'sysctls', 'explain', 'probe',
];

/**
 * The schema check of profiles/schema.json, as Ajv makes it (compiled at run time, or ahead of time as
 * standalone code in the single-file build): true or false, with every error in `errors` (allErrors).
 */
export type ProfileValidator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

/**
 * Parses and validates one profile file's text. `file` is how to name it in problems. Asynchronous only to load
 * the YAML parser on first use: the shipped profiles come pre-parsed in the single-file build, so commands
 * that use only them never load it.
 */
export async function parseProfile(text: string, file: string, check: ProfileValidator): Promise<ParsedProfile> {
  const yaml = await import('yaml');
  const { isNode, parseDocument } = yaml;
  const lineCounter = new yaml.LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((error) => ({
        file,
        line: lineCounter.linePos(error.pos[0]).line,
        ruleId: null,
        message: `not valid YAML: ${error.message.split('\n')[0]}`,
      })),
    };
  }
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (error) {
    // An alias without its anchor, or too many aliases: found only when the document is turned into data.
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return { ok: false, problems: [{ file, line: badAliasLine(yaml.visit, doc, lineCounter) ?? 1, ruleId: null, message: `not valid YAML: ${message}` }] };
  }
  const problems: ProfileProblem[] = [];
  const lineOf = (pointer: readonly (string | number)[]) => {
    for (let length = pointer.length; length >= 0; length -= 1) {
      const node = doc.getIn(pointer.slice(0, length), true);
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return 1;
  };
  const ruleIdAt = (pointer: readonly (string | number)[]) => {
    if (pointer[0] !== 'rules' || typeof pointer[1] !== 'number') return null;
    const id = doc.getIn(['rules', pointer[1], 'id']);
    return typeof id === 'string' ? id : `#${pointer[1] + 1}`;
  };
  if (!check(data)) {
    const errors = relevantErrors(check.errors ?? []);
    const guesses = misspelledFields(errors);
    for (const error of errors) {
      if (followsFromAnother(error, guesses, errors)) continue;
      const pointer: (string | number)[] = error.instancePath.split('/').slice(1).map((part) => (/^\d+$/.test(part) ? Number(part) : part.replace(/~1/g, '/').replace(/~0/g, '~')));
      if (error.keyword === 'additionalProperties') pointer.push((error.params as { additionalProperty: string }).additionalProperty);
      const guess = guesses.get(error);
      const message = `${describe(error, valueAt(data, error.instancePath))}${guess ? `; did you mean "${guess}"?` : ''}`;
      problems.push({ file, line: lineOf(pointer), ruleId: ruleIdAt(pointer), message, first: guess !== undefined });
    }
  } else {
    const profile = data as ProfileDocument;
    const seen = new Map<string, number>();
    profile.rules.forEach((rule, index) => {
      const line = lineOf(['rules', index, 'id']);
      if (seen.has(rule.id)) problems.push({ file, line, ruleId: rule.id, message: `duplicate rule id (first on line ${seen.get(rule.id)})` });
      else seen.set(rule.id, line);
    });
  }
  // A misspelled field comes first: what else is wrong may follow from it.
  const ordered = problems.sort((a, b) => Number(b.first ?? false) - Number(a.first ?? false) || a.line - b.line).map(({ first: _first, ...problem }) => problem);
  return problems.length > 0 ? { ok: false, problems: ordered } : { ok: true, profile: data as ProfileDocument, lineOf };
}

/** Unknown fields of a profile or a rule that are near a known one: the error, and the field meant. */
function misspelledFields(errors: readonly ErrorObject[]): Map<ErrorObject, string> {
  const guesses = new Map<ErrorObject, string>();
  for (const error of errors) {
    if (error.keyword !== 'additionalProperties') continue;
    const fields = error.instancePath === '' ? PROFILE_FIELDS : /^\/rules\/\d+$/.test(error.instancePath) ? RULE_FIELDS : null;
    const guess = fields && closest((error.params as { additionalProperty: string }).additionalProperty, fields);
    if (guess) guesses.set(error, guess);
  }
  return guesses;
}

/**
 * Whether an error only follows from another one: the field a misspelling meant is "missing", and in a rule
 * without its `operation`, each operation's own required fields are "missing" too (every `if` of the schema
 * compares the operation, and holds when there is none).
 */
function followsFromAnother(error: ErrorObject, guesses: ReadonlyMap<ErrorObject, string>, errors: readonly ErrorObject[]): boolean {
  if (error.keyword !== 'required') return false;
  const missing = (error.params as { missingProperty: string }).missingProperty;
  if ([...guesses].some(([unknown, field]) => unknown.instancePath === error.instancePath && field === missing)) return true;
  const noOperation = errors.some((other) => other.instancePath === error.instancePath && other.keyword === 'required' && (other.params as { missingProperty: string }).missingProperty === 'operation');
  return noOperation && error.schemaPath.includes('/then/');
}

/** The line of the first alias whose anchor is not set before it. */
function badAliasLine(visit: typeof import('yaml').visit, doc: Document, lineCounter: LineCounter): number | null {
  let line: number | null = null;
  visit(doc, {
    Alias(_, node) {
      if (node.resolve(doc) !== undefined || !node.range) return undefined;
      line = lineCounter.linePos(node.range[0]).line;
      return visit.BREAK;
    },
  });
  return line;
}

/** ajv reports every branch of a oneOf/if; keep the errors a person can act on. */
function relevantErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  const kept = errors.filter((error) => !['oneOf', 'anyOf', 'if', 'allOf'].includes(error.keyword));
  const unique = new Map<string, ErrorObject>();
  for (const error of kept.length > 0 ? kept : errors) unique.set(`${error.instancePath}|${describe(error)}`, error);
  return [...unique.values()];
}

/** The part of the document an error is about, by its JSON pointer. */
function valueAt(data: unknown, pointer: string): unknown {
  let value = data;
  for (const part of pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function describe(error: ErrorObject, instance?: unknown): string {
  const last = error.instancePath.split('/').pop();
  const where = last && !/^\d+$/.test(last) ? last : undefined;
  const field = where ? `${where}: ` : '';
  switch (error.keyword) {
    case 'required':
      return `missing field "${(error.params as { missingProperty: string }).missingProperty}"`;
    case 'additionalProperties':
      return `${field}unknown field "${(error.params as { additionalProperty: string }).additionalProperty}"`;
    case 'enum':
      return `${field}must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `${field}must be ${JSON.stringify((error.params as { allowedValue: unknown }).allowedValue)}`;
    case 'pattern':
      // A flag value (value, accept.values, default): what is wrong with it, by the definition the editor shares.
      if (error.schemaPath === '#/definitions/value/pattern') {
        const reason = typeof instance === 'string' ? unsafeValueReason(instance) : null;
        return `${field}${reason ? `${reason}; ` : ''}${VALUE_RULE}`;
      }
      return `${field}${patternMessage(where, error) ?? `does not match ${(error.params as { pattern: string }).pattern}`}`;
    case 'not':
      // The one `not` in the schema: a directory rule's path (harden creates no directory under /etc/).
      if (error.schemaPath.endsWith('/properties/path/not')) return `${field}harden creates no directory under /etc/`;
      return `${field}${error.message ?? 'is invalid'}`;
    default:
      return `${field}${error.message ?? 'is invalid'}`;
  }
}

/** What a field's pattern asks for, in words; null where the pattern itself says it best. */
function patternMessage(field: string | undefined, error: ErrorObject): string | null {
  if (error.schemaPath.endsWith('/sysctls/additionalProperties/pattern')) {
    return 'a kernel parameter\'s value is 1 to 64 ASCII letters, digits, _ . : or - (no space, ; or other shell metacharacter)';
  }
  switch (field) {
    case 'value':
      return 'a value may not carry a newline, quote, space, backtick, shell metacharacter or $ (other than ${SNAP}, ${SNAP_DATA}, ${SNAP_COMMON})';
    case 'path':
      return (
        'harden touches only paths under ${SNAP_DATA}/ or ${SNAP_COMMON}/ (no . or .. component), the snap\'s systemd units ' +
        '(/etc/systemd/system/snap.microk8s.daemon-NAME.service), /var/log/apiserver and /etc/sysctl.d/NN-harden-NAME.conf (or zz-harden-NAME.conf)'
      );
    case 'owner':
      return 'harden gives files only to root, with the group root or the snap\'s (root:root, root:microk8s, root:snap_microk8s)';
    case 'mode':
      return error.schemaPath.includes('/then/')
        ? 'a companion file is never executable, nor writable by group or others (0600, 0640, 0644)'
        : 'a mode is 0 and three octal digits (0600), without setuid, setgid or sticky bits: harden only ever takes bits away';
    default:
      return null;
  }
}

/**
 * Warnings, not errors: rules whose flag the flag catalogue does not list for a component it covers (likely a
 * misspelling: the component would refuse to start with it), each with the nearest flag it does list.
 */
export function unknownFlagWarnings(profile: ProfileDocument, catalogue: FlagCatalogue, lineOf: (pointer: readonly (string | number)[]) => number, file: string): ProfileProblem[] {
  const flagsOf = new Map<string, Set<string>>();
  for (const row of catalogue.rows) {
    if (!flagsOf.has(row.component)) flagsOf.set(row.component, new Set());
    flagsOf.get(row.component)!.add(row.flag);
  }
  const warnings: ProfileProblem[] = [];
  profile.rules.forEach((rule, index) => {
    const known = flagsOf.get(rule.component);
    if (rule.flag === undefined || !known || known.has(rule.flag)) return;
    const guess = closest(rule.flag, known);
    warnings.push({
      file,
      line: lineOf(['rules', index, 'flag']),
      ruleId: rule.id,
      message: `flag ${rule.flag} is not in harden's flag catalogue for ${rule.component}${guess ? `; did you mean ${guess}?` : ''}`,
    });
  });
  return warnings;
}

/** `file:line: rule id: message` — the one-line form every profile problem is printed in. */
export function formatProblem(problem: ProfileProblem): string {
  return `${problem.file}:${problem.line}: ${problem.ruleId ? `rule ${problem.ruleId}: ` : ''}${problem.message}`;
}
