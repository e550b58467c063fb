// The schema check every waiver file goes through (src/core/waiver-schema.ts). Here Ajv compiles the schema on
// first use; the single-file build replaces this module with the same check compiled ahead of time (Ajv
// standalone code, made by scripts/build-bundle.js), as it does the profile validator.
import { Ajv } from 'ajv';
import type { ProfileValidator } from '../core/profile.js';
import { WAIVERS_DOCUMENT_SCHEMA } from '../core/waiver-schema.js';

/** Every error at once, as for profiles: a waiver file is written by hand. */
export const WAIVER_AJV_OPTIONS = { allErrors: true, strict: false } as const;

let validator: ProfileValidator | null = null;

export function waiverValidator(): ProfileValidator {
  validator ??= new Ajv(WAIVER_AJV_OPTIONS).compile(WAIVERS_DOCUMENT_SCHEMA);
  return validator;
}
