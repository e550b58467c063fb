// The schemas of one node's facts (`harden.node-facts/v1`) and of cluster facts (`harden.cluster/v1`), as JSON
// Schema: every field, its form and bounds. Both are held to them before any field is used
// (src/effects/cluster-validator.ts compiles them with Ajv; the single-file build carries them compiled ahead of
// time). Pure data.
import { AGREEING_SETTINGS, CLUSTER_SCHEMA, NODE_FACTS_SCHEMA, settingKey } from './cluster.js';

const MAX_NODES = 10_000;
const MAX_RULES = 10_000;

const date = { type: 'string', maxLength: 64, pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?Z$' };
const object = (properties: Record<string, object>) => ({ type: 'object', additionalProperties: false, required: Object.keys(properties), properties });

/** A node's name: a hostname (RFC 1123 labels), as MicroK8s and Kubernetes name nodes. */
export const NODE_NAME_PATTERN = '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$';

const nodeFields = {
  gatheredAt: date,
  name: { type: 'string', maxLength: 253, pattern: NODE_NAME_PATTERN },
  role: { enum: ['control-plane', 'worker'] },
  version: { type: ['string', 'null'], maxLength: 64, pattern: '^[0-9A-Za-z.+-]+$' },
  profile: object({ name: { type: 'string', maxLength: 128, pattern: '^[a-z0-9][a-z0-9-]*$' }, sha256: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' } }),
  results: {
    type: 'array',
    maxItems: MAX_RULES,
    items: object({
      id: { type: 'string', maxLength: 256, pattern: '^[a-z0-9-]+(\\.[a-z0-9-]+)+$' },
      status: { enum: ['PASS', 'FAIL', 'MANUAL', 'BLOCKED', 'NOT APPLICABLE'] },
    }),
  },
  planned: { type: 'array', maxItems: MAX_RULES, uniqueItems: true, items: { type: 'string', maxLength: 256, pattern: '^[a-z0-9-]+(\\.[a-z0-9-]+)+$' } },
  settings: object(Object.fromEntries(AGREEING_SETTINGS.map((setting) => [settingKey(setting), { type: ['string', 'null'], maxLength: 65536 }]))),
};

export const NODE_FACTS_DOCUMENT_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://harden.invalid/node-facts.schema.json',
  title: `one node's facts (${NODE_FACTS_SCHEMA})`,
  ...object({ schema: { const: NODE_FACTS_SCHEMA }, ...nodeFields }),
};

export const CLUSTER_DOCUMENT_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://harden.invalid/cluster.schema.json',
  title: `cluster facts (${CLUSTER_SCHEMA})`,
  ...object({
    schema: { const: CLUSTER_SCHEMA },
    createdAt: date,
    profile: nodeFields.profile,
    nodes: { type: 'array', minItems: 1, maxItems: MAX_NODES, items: object(nodeFields) },
  }),
};
