// The schema of a waiver file (`apiVersion: harden/v1`, `kind: Waivers`), as JSON Schema: every field, its form
// and bounds. A waiver file is held to it before any field is used (src/effects/waiver-validator.ts compiles it
// with Ajv; the single-file build carries it compiled ahead of time, as it does the profile schema). Pure data.

/** A rule id, or a glob of rule ids: `apiserver.profiling`, `files.*`, `*.profiling`. */
export const WAIVER_RULE_PATTERN = '^[a-z0-9*-]+(\\.[a-z0-9*-]+)*$';
/** `2026-12-31`: the form of a date (whether it is a real one is checked after). */
export const WAIVER_DATE_PATTERN = '^[0-9]{4}-[0-9]{2}-[0-9]{2}$';
/** Something other than white space. */
const NOT_BLANK = '\\S';

/** The fields of a waiver file and of one waiver: what an unknown field is most likely a misspelling of. */
export const WAIVERS_FIELDS: readonly string[] = ['apiVersion', 'kind', 'waivers'];
export const WAIVER_FIELDS: readonly string[] = ['rule', 'nodes', 'justification', 'owner', 'expires'];

const MAX_WAIVERS = 10_000;
const MAX_TEXT = 4096;

export const WAIVERS_DOCUMENT_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://harden.invalid/waivers.schema.json',
  title: 'a harden waiver file',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'waivers'],
  properties: {
    apiVersion: { const: 'harden/v1' },
    kind: { const: 'Waivers' },
    waivers: {
      type: 'array',
      maxItems: MAX_WAIVERS,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['rule', 'justification'],
        properties: {
          rule: { type: 'string', minLength: 1, maxLength: 256, pattern: WAIVER_RULE_PATTERN },
          nodes: { type: 'array', minItems: 1, maxItems: 1000, items: { type: 'string', minLength: 1, maxLength: MAX_TEXT, pattern: NOT_BLANK } },
          justification: { type: 'string', maxLength: MAX_TEXT, pattern: NOT_BLANK },
          owner: { type: 'string', maxLength: 256, pattern: NOT_BLANK },
          expires: { type: 'string', pattern: WAIVER_DATE_PATTERN },
        },
      },
    },
  },
} as const;
