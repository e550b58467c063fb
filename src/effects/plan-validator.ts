// The schema check every saved plan goes through (src/core/plan-schema.ts). Here Ajv compiles the schema on first
// use; the single-file build replaces this module with the same check compiled ahead of time (Ajv standalone
// code, made by scripts/build-bundle.js), as it does the profile validator.
import { Ajv } from 'ajv';
import { PLAN_DOCUMENT_SCHEMA, type PlanValidator } from '../core/plan-schema.js';

/** The first error is enough: a saved plan is made by harden, and one wrong field means it was not. */
export const PLAN_AJV_OPTIONS = { allErrors: false, strict: false } as const;

let validator: PlanValidator | null = null;

export function planValidator(): PlanValidator {
  validator ??= new Ajv(PLAN_AJV_OPTIONS).compile(PLAN_DOCUMENT_SCHEMA);
  return validator;
}
