// The schema of a saved plan (`harden.plan/v3`), as JSON Schema: every field, its type, the types of array
// items, enums, the forms of digests, paths, rule ids, modes and services, and bounds on every size. A saved plan
// is held to it before any of its fields is used (src/effects/plan-validator.ts compiles it with Ajv; the
// single-file build carries it compiled ahead of time, as it does the profile schema). Pure data, and the words
// for its errors.
import type { ErrorObject } from 'ajv';
import { PLAN_SCHEMA } from './plan.js';

/** Bounds: generous for any real node (args files are at most 16 MiB; see file-view.ts), finite for a hostile one. */
const MAX_TEXT = 32 * 1024 * 1024;
const MAX_LINE = 16 * 1024 * 1024;
const MAX_NOTE = 1024 * 1024;
const MAX_NAME = 4096;
const MAX_ITEMS = 1_000_000;
const MAX_RULES = 10_000;

const string = (maxLength: number, extra: object = {}) => ({ type: 'string', maxLength, ...extra });
const nullable = (schema: { type: string }) => ({ ...schema, type: [schema.type, 'null'] });
const list = (items: object, maxItems: number, extra: object = {}) => ({ type: 'array', maxItems, items, ...extra });
const object = (properties: Record<string, object>) => ({ type: 'object', additionalProperties: false, required: Object.keys(properties), properties });

const ref = (name: keyof typeof DEFINITIONS) => ({ $ref: `#/definitions/${name}` });

const DEFINITIONS = {
  sha256: string(71, { pattern: '^sha256:[0-9a-f]{64}$' }),
  /** An absolute path on the node, without `.` or `..` segments or empty ones. */
  nodePath: string(MAX_NAME, { pattern: '^(?!.*/\\.\\.?(/|$))(/[^/\\u0000]+)+$' }),
  /** A profile file's absolute path: shown in the plan's header, so no control character or line separator. */
  profileFile: nullable(string(MAX_NAME, { pattern: '^/[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$' })),
  /** The real path of the root a plan was made for: shown in the refusal of a plan applied elsewhere. */
  rootPath: string(MAX_NAME, { pattern: '^/[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$' }),
  machineId: nullable(string(32, { pattern: '^[0-9a-f]{32}$' })),
  ruleId: string(256, { pattern: '^[a-z0-9-]+(\\.[a-z0-9-]+)+$' }),
  /** A note shared by several rules names them all, with commas. */
  ruleIdList: string(MAX_NOTE, { pattern: '^[a-z0-9-]+(\\.[a-z0-9-]+)+(,[a-z0-9-]+(\\.[a-z0-9-]+)+)*$' }),
  ruleIds: list({ $ref: '#/definitions/ruleId' }, MAX_RULES, { minItems: 1 }),
  service: string(256, { pattern: '^snap\\.microk8s\\.daemon-[a-z0-9-]+$' }),
  serviceOrNull: nullable(string(256, { pattern: '^snap\\.microk8s\\.daemon-[a-z0-9-]+$' })),
  mode: string(4, { pattern: '^0[0-7]{3}$' }),
  owner: string(512, { pattern: '^[^:\\s]+:[^:\\s]+$' }),
  line: nullable({ type: 'integer', minimum: 1, maximum: 100_000_000 } as { type: string }),
  note: object({ ruleId: { $ref: '#/definitions/ruleIdList' }, text: string(MAX_NOTE) }),
  notes: list({ $ref: '#/definitions/note' }, MAX_RULES),
  count: { type: 'integer', minimum: 0, maximum: 1_000_000_000 },
  sysctlKey: string(256, { pattern: '^[a-z0-9_]+(\\.[a-z0-9_]+)+$' }),
  /** A kernel parameter's value as procfs shows it: numbers and words, one space or tab between them. */
  sysctlValue: string(4096, { pattern: '^[A-Za-z0-9_.:-]+([ \\t][A-Za-z0-9_.:-]+)*$' }),
  /** What a file-mode rule planned from (plan.ts entryInputs): `file 0660 root:microk8s inode 1234`, a link, or absent. */
  entryInput: string(MAX_NAME + 32, { pattern: '^(absent|symlink to [^\\u0000]*|[a-z]+ [0-7]{4} [^:\\s]+:[^:\\s]+ inode [0-9]+( links [0-9]+)?)$' }),
};

/** `{ from, to }` of one kind of string, or null. */
const change = (of: object) => ({ type: ['object', 'null'], additionalProperties: false, required: ['from', 'to'], properties: { from: of, to: of } });

const PLAN_FIELDS = object({
    schema: { const: PLAN_SCHEMA },
    createdAt: string(64, { pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?Z$' }),
    toolVersion: string(64, { pattern: '^[0-9A-Za-z.+-]+$' }),
    root: string(MAX_NAME, { minLength: 1 }),
    identity: object({ path: ref('rootPath'), revision: nullable(string(256, { pattern: '^[^/\\u0000]+$' })), machineId: ref('machineId') }),
    profile: {
      ...object({
        name: string(128, { pattern: '^[a-z0-9][a-z0-9-]*$' }),
        source: { enum: ['shipped', 'file'] },
        file: ref('profileFile'),
        sha256: ref('sha256'),
      }),
      // A shipped profile is named, never a file; a user's profile is a file. (Each only once `source` is
      // itself valid, so that a wrong `source` is reported as that.)
      allOf: [
        { if: { required: ['source'], properties: { source: { const: 'shipped' } } }, then: { properties: { file: { type: 'null' } } } },
        { if: { required: ['source'], properties: { source: { const: 'file' } } }, then: { properties: { file: { type: 'string' } } } },
      ],
    },
    // Optional: only a plan decided with cluster facts (--cluster) has it; `-`: they were piped in.
    cluster: object({ file: { anyOf: [ref('rootPath'), { const: '-' }] }, sha256: ref('sha256') }),
    node: object({
      version: nullable(string(64)),
      revision: nullable(string(256, { pattern: '^[^/\\u0000]+$' })),
      era: { enum: ['kubelite', 'daemons'] },
      role: { enum: ['control-plane', 'worker'] },
      datastore: { enum: ['k8s-dqlite', 'dqlite', 'etcd', 'external-etcd', 'none', 'unknown'] },
    }),
    files: list(
      object({
        name: string(255, { pattern: '^[^/\\u0000]+$' }),
        path: ref('nodePath'),
        service: ref('serviceOrNull'),
        reader: { enum: ['bash', 'kubelite'] },
        before: string(MAX_TEXT),
        after: string(MAX_TEXT),
        edits: list(
          object({
            ruleIds: ref('ruleIds'),
            flag: string(256, { pattern: '^--?[A-Za-z0-9][A-Za-z0-9_.-]*$' }),
            action: { enum: ['add', 'change', 'remove'] },
            line: ref('line'),
            newLine: ref('line'),
            before: nullable(string(MAX_LINE)),
            after: nullable(string(MAX_LINE)),
            note: nullable(string(MAX_NOTE)),
          }),
          MAX_ITEMS,
        ),
      }),
      1024,
    ),
    companions: list(
      object({ ruleId: ref('ruleId'), path: ref('nodePath'), template: string(256, { pattern: '^templates/[a-z0-9._-]+$' }), mode: ref('mode'), content: string(MAX_LINE) }),
      MAX_RULES,
    ),
    modes: list(
      object({ ruleIds: ref('ruleIds'), path: ref('nodePath'), type: { enum: ['file', 'directory', 'other'] }, mode: change(ref('mode')), owner: change(ref('owner')) }),
      MAX_ITEMS,
    ),
    // Optional (a plan from before prerequisites were planned has neither): directories harden creates, and
    // kernel parameters it sets running and persists.
    directories: list(object({ ruleId: ref('ruleId'), path: ref('nodePath'), mode: ref('mode'), owner: ref('owner') }), MAX_RULES),
    sysctls: list(
      object({
        ruleId: ref('ruleId'),
        file: { ...object({ path: ref('nodePath'), before: nullable(string(MAX_LINE)), after: string(MAX_LINE) }), type: ['object', 'null'] },
        running: list(object({ key: ref('sysctlKey'), path: ref('nodePath'), from: ref('sysctlValue'), to: ref('sysctlValue') }), 256),
        persisted: list(object({ key: ref('sysctlKey'), want: ref('sysctlValue'), now: string(MAX_NOTE) }), 256),
      }),
      MAX_RULES,
    ),
    restarts: list(ref('service'), 64, { uniqueItems: true }),
    healthChecks: list(string(MAX_NAME), 256),
    risks: ref('notes'),
    blocked: ref('notes'),
    manual: ref('notes'),
    warnings: list(string(MAX_NOTE), 256),
    problems: ref('notes'),
    summary: object({ add: ref('count'), change: ref('count'), remove: ref('count'), files: ref('count'), compliantAfter: { type: 'boolean' }, compliantNow: { type: 'boolean' } }),
    reasons: { type: 'object', maxProperties: MAX_RULES, propertyNames: ref('ruleId'), additionalProperties: string(MAX_NOTE) },
    // An args file's digest, or (keys ending ` (mode and owner)`) what a file-mode rule planned from.
    inputs: {
      type: 'object',
      maxProperties: MAX_ITEMS,
      propertyNames: ref('nodePath'),
      patternProperties: { ' \\(mode and owner\\)$': ref('entryInput') },
      additionalProperties: ref('sha256'),
    },
    rules: list(ref('ruleId'), MAX_RULES, { uniqueItems: true }),
    // Optional: only a plan made with --waivers has it; apply PLAN is given the same files.
    waivers: object({
      files: list(string(MAX_NAME, { minLength: 1 }), 1000, { minItems: 1 }),
      sha256: ref('sha256'),
      waived: list(object({ ruleId: ref('ruleId'), justification: string(4096), owner: nullable(string(256)), expires: nullable(string(10, { pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' })), file: string(MAX_NAME), line: { type: 'integer', minimum: 1 } }), MAX_RULES),
    }),
    sha256: ref('sha256'),
  });

export const PLAN_DOCUMENT_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://harden.invalid/plan.schema.json',
  title: `a saved harden plan (${PLAN_SCHEMA})`,
  ...PLAN_FIELDS,
  required: PLAN_FIELDS.required.filter((name) => !['cluster', 'directories', 'sysctls', 'waivers'].includes(name)),
  definitions: DEFINITIONS,
};

/** The schema check, as Ajv makes it: true or false, the first error in `errors`. */
export type PlanValidator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

/** What a definition's pattern means, in words. */
const FORMS: Readonly<Record<string, string>> = {
  sha256: 'must be sha256: and 64 lowercase hex digits',
  nodePath: 'must be an absolute path without . or .. segments',
  profileFile: 'must be an absolute path without control characters, or null',
  rootPath: 'must be an absolute path without control characters',
  machineId: 'must be 32 lowercase hex digits, or null',
  ruleId: 'must be a rule id (lowercase words joined by dots)',
  ruleIdList: 'must be rule ids separated by commas',
  service: 'must be a MicroK8s service (snap.microk8s.daemon-NAME)',
  serviceOrNull: 'must be a MicroK8s service (snap.microk8s.daemon-NAME) or null',
  mode: 'must be a mode such as 0600',
  owner: 'must be USER:GROUP',
  sysctlKey: 'must be a kernel parameter (words joined by dots)',
  sysctlValue: 'must be a kernel parameter value (numbers and words)',
  entryInput: 'must say what a file-mode rule planned from (file MODE USER:GROUP inode N, symlink to TARGET, or absent)',
};

/** `files[0].edits[1]`, from Ajv's JSON pointer `/files/0/edits/1` (and a last key that is not there). */
export function jsonPath(pointer: string, last?: string): string {
  const parts = pointer.split('/').slice(1).map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (last !== undefined) parts.push(last);
  let out = '';
  for (const part of parts) {
    if (/^(0|[1-9][0-9]*)$/.test(part)) out += `[${part}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out === '' ? '(the document)' : out;
}

/** The first schema error: where (a JSON path) and what is wrong there. */
export function describePlanError(error: ErrorObject): { where: string; what: string } {
  const params = error.params as Record<string, unknown>;
  const at = (what: string, last?: string) => ({ where: jsonPath(error.instancePath, last), what });
  switch (error.keyword) {
    case 'required':
      return at('missing', String(params.missingProperty));
    case 'additionalProperties':
      return at('unknown field', String(params.additionalProperty));
    case 'propertyNames':
      return at('not a valid key here', String(params.propertyName));
    case 'type':
      return at(`must be ${String(params.type).split(',').map(article).join(' or ')}`);
    case 'enum':
      return at(`must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`);
    case 'const':
      return at(`must be ${JSON.stringify(params.allowedValue)}`);
    case 'pattern': {
      // By the pattern itself: Ajv inlines small definitions, so the schema path does not always name them.
      const definition = Object.keys(FORMS).find((name) => (DEFINITIONS as Record<string, { pattern?: string }>)[name].pattern === params.pattern);
      return at(definition ? FORMS[definition] : `must match ${String(params.pattern)}`);
    }
    default:
      return at(error.message ?? 'is not valid');
  }
}

function article(type: string): string {
  return ({ object: 'an object', array: 'an array', integer: 'an integer', null: 'null' } as Record<string, string>)[type] ?? `a ${type}`;
}
