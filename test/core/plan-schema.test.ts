// The saved-plan schema accepts every plan harden makes, and says where a field is wrong.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildPlan } from '../../src/core/plan.js';
import { describePlanError, jsonPath, PLAN_DOCUMENT_SCHEMA } from '../../src/core/plan-schema.js';
import { assessNode } from '../../src/effects/assess.js';
import { realFileSystem } from '../../src/effects/file-system.js';
import { inputDigests, readTemplates, rootIdentity } from '../../src/effects/plan-store.js';
import { planValidator } from '../../src/effects/plan-validator.js';
import { loadProfile, profileIdentity } from '../../src/effects/profile-store.js';
import { parsePlanDocument, planJson } from '../../src/ui/plan-view.js';
import { makeNode } from '../helpers/node-root.js';
import { fixtureVersions } from '../helpers/paths.js';

test('every plan of each shipped profile on every fixture version passes the schema and reads back the same', async () => {
  for (const version of fixtureVersions) {
    const root = await makeNode({ version, callbackPeers: ['10.0.0.2:25000'] });
    for (const name of ['baseline', 'cis', 'cis-1-12']) {
      const profile = await loadProfile(name);
      const { facts, model, vars, answers, results } = await assessNode(realFileSystem, { root, argsDir: undefined }, profile.rules);
      const plan = buildPlan({ model, rules: profile.rules, results, facts: answers, vars, profile: profileIdentity(profile), templates: readTemplates(profile.rules), locks: facts.locks });
      const reasons = Object.fromEntries(results.filter((r) => r.status === 'FAIL').map((r) => [r.id, r.reason]));
      const text = planJson(plan, { root, identity: await rootIdentity(realFileSystem, root, model.report.revision), toolVersion: '0.1.0', createdAt: new Date().toISOString(), inputs: inputDigests(facts), reasons, rules: profile.rules.map((r) => r.id) });
      const parsed = parsePlanDocument(text, planValidator());
      assert.ok(parsed.ok, `${name} on ${version}: ${parsed.ok ? '' : `${parsed.where}: ${parsed.problem}`}`);
      if (parsed.ok) assert.equal(parsed.document, JSON.parse(text));
    }
  }
});

test('the schema is closed: every object lists its fields and refuses others', () => {
  const open: string[] = [];
  const walk = (node: unknown, at: string) => {
    if (typeof node !== 'object' || node === null) return;
    const schema = node as Record<string, unknown>;
    if (schema.properties && schema.additionalProperties !== false) open.push(at);
    for (const [key, value] of Object.entries(schema)) walk(value, `${at}/${key}`);
  };
  walk(PLAN_DOCUMENT_SCHEMA, '#');
  // `if` and `then` of the profile's conditions only add to the closed object around them.
  assert.equal(open.filter((at) => !/\/(if|then)$/.test(at)), []);
});

test('JSON paths as people read them', () => {
  assert.is(jsonPath('/files/0/edits/1'), 'files[0].edits[1]');
  assert.is(jsonPath('/inputs/~1var~1snap'), 'inputs["/var/snap"]');
  assert.is(jsonPath('', 'sha256'), 'sha256');
  assert.is(jsonPath(''), '(the document)');
  const check = planValidator();
  check({ schema: 'harden.plan/v3' });
  assert.equal(describePlanError(check.errors![0]), { where: 'createdAt', what: 'missing' });
});

test.run();
