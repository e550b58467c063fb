// The schema check every profile goes through. Here Ajv compiles profiles/schema.json on first use; the
// single-file build replaces this module with the same check compiled ahead of time (Ajv standalone code,
// made by scripts/build-bundle.js), so the shipped CLI neither loads Ajv nor compiles a schema at start-up.
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import type { ProfileValidator } from '../core/profile.js';

/** The options the schema is compiled with, here and ahead of time: every error, not just the first. */
export const AJV_OPTIONS = { allErrors: true, strict: false } as const;

let validator: ProfileValidator | null = null;

export function profileValidator(): ProfileValidator {
  validator ??= new Ajv(AJV_OPTIONS).compile(JSON.parse(readFileSync(new URL('../../../profiles/schema.json', import.meta.url), 'utf8')) as object);
  return validator;
}
