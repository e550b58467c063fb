// The schema checks of node facts and cluster facts (src/core/cluster-schema.ts). Here Ajv compiles them on first
// use; the single-file build replaces this module with the same checks compiled ahead of time, as it does the
// plan validator.
import { Ajv } from 'ajv';
import { CLUSTER_DOCUMENT_SCHEMA, NODE_FACTS_DOCUMENT_SCHEMA } from '../core/cluster-schema.js';
import type { PlanValidator } from '../core/plan-schema.js';

export const CLUSTER_AJV_OPTIONS = { allErrors: false, strict: false } as const;

let cluster: PlanValidator | null = null;
let node: PlanValidator | null = null;

export function clusterValidator(): PlanValidator {
  cluster ??= new Ajv(CLUSTER_AJV_OPTIONS).compile(CLUSTER_DOCUMENT_SCHEMA);
  return cluster;
}

export function nodeFactsValidator(): PlanValidator {
  node ??= new Ajv(CLUSTER_AJV_OPTIONS).compile(NODE_FACTS_DOCUMENT_SCHEMA);
  return node;
}
