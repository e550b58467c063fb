// Fuzz: a valid saved plan with its fields mutated at random (a type changed, a null, an array where an object
// belongs, a field removed or added, an item added, a long or hostile string), and its sha256 made again each
// time, as anyone can. Whatever the plan holds, `plan --in` and `apply PLAN` answer with the product's own
// refusal (exit 1, one `error:` line and a `hint:` line) or, when the mutation left a valid plan, as for one;
// never an internal error, a TypeError or a stack trace.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runInProcessWith } from '../helpers/cli.js';
import { makeNode, makeTempDir } from '../helpers/node-root.js';
import { between, caseSeeds, chance, makeRng, pick, property, withCaseAsync, type Rng } from '../helpers/prng.js';

const SUITE = 'property/saved-plan-fuzz\\.test\\.js$';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const VALUES: readonly Json[] = [
  null, true, false, 0, -1, 1.5, 1e308, 2 ** 53, '', 'x', 'sha256:zz', '../../etc/passwd', '/var/snap/microk8s/current/args/../../../etc/shadow',
  '$(reboot)', '\u00a0', '\u2028', '\u0000', [], {}, [1, null], [null], { a: 1 }, [[[]]], ['a', 'b'], { from: 1, to: null },
  'snap.microk8s.daemon-kubelite', 'harden.plan/v1', 'shipped', 'file', 'A'.repeat(70_000),
];

/** Every path to a value in the document (objects' keys, arrays' indices), the top-level `sha256` left out. */
function paths(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = prefix.length > 0 ? [prefix] : [];
  if (Array.isArray(value)) value.forEach((item, index) => out.push(...paths(item, [...prefix, index])));
  else if (value !== null && typeof value === 'object') for (const key of Object.keys(value)) if (!(prefix.length === 0 && key === 'sha256')) out.push(...paths(value[key], [...prefix, key]));
  return out;
}

function parentOf(doc: Json, at: (string | number)[]): { parent: Json; key: string | number } {
  let parent = doc;
  for (const part of at.slice(0, -1)) parent = (parent as Record<string | number, Json>)[part];
  return { parent, key: at[at.length - 1] };
}

/** One to three mutations, in place; what they were, for the failure message. */
function mutate(rng: Rng, doc: Json): string[] {
  const done: string[] = [];
  for (let n = between(rng, 1, 3); n > 0; n--) {
    const all = paths(doc);
    const at = pick(rng, all);
    const { parent, key } = parentOf(doc, at);
    const slot = parent as Record<string | number, Json>;
    const where = at.join('.');
    const kind = between(rng, 0, 5);
    if (kind === 0 && !Array.isArray(parent)) {
      delete slot[key];
      done.push(`delete ${where}`);
    } else if (kind === 1 && Array.isArray(slot[key])) {
      const value = pick(rng, VALUES);
      (slot[key] as Json[]).push(value);
      done.push(`push ${JSON.stringify(value).slice(0, 40)} onto ${where}`);
    } else if (kind === 2 && slot[key] !== null && typeof slot[key] === 'object' && !Array.isArray(slot[key])) {
      (slot[key] as Record<string, Json>).extra = pick(rng, VALUES);
      done.push(`add ${where}.extra`);
    } else if (kind === 3) {
      slot[key] = [slot[key]];
      done.push(`wrap ${where} in an array`);
    } else {
      const value = pick(rng, VALUES);
      slot[key] = value;
      done.push(`${where} = ${JSON.stringify(value).slice(0, 40)}`);
    }
  }
  return done;
}

/** The document sealed again: its `sha256` made over the rest, exactly as harden makes it. */
function sealed(doc: Record<string, Json>): string {
  const { sha256: _old, ...rest } = doc;
  const sha256 = `sha256:${createHash('sha256').update(JSON.stringify(rest, null, 2)).digest('hex')}`;
  return `${JSON.stringify({ ...rest, sha256 }, null, 2)}\n`;
}

const ONE_REFUSAL = /^error: [^\n]+\nhint: [^\n]+\n$/;

test('a saved plan with mutated fields and a fresh sha256 is refused by harden, never with an internal error', async () => {
  const prop = property('saved-plan-fuzz', { runs: 120, seed: 0x5a7ed });
  const root = await makeNode({ version: '1.28' });
  await fs.mkdir(path.join(root, 'var/lib'), { recursive: true });
  const dir = await makeTempDir();
  const original = path.join(dir, 'plan.json');
  const made = await runInProcessWith(['--root', root, 'plan', '--profile', 'cis', '--out', original]);
  assert.is(made.status, 0, made.stderr);
  const text = await fs.readFile(original, 'utf8');
  const file = path.join(dir, 'mutated.json');
  let refusedByField = 0;
  for (const seed of caseSeeds(prop)) {
    const rng = makeRng(seed);
    const doc = JSON.parse(text) as Record<string, Json>;
    const mutations = mutate(rng, doc);
    await fs.writeFile(file, chance(rng, 0.9) ? sealed(doc) : `${JSON.stringify(doc, null, 2)}\n`);
    await withCaseAsync(prop, seed, mutations, SUITE, async () => {
      for (const args of [['plan', '--in', file], ['--root', root, 'apply', file, '--no-restart']]) {
        const run = await runInProcessWith(args);
        assert.not.match(run.stderr, 'internal error', args.join(' '));
        assert.ok(run.status === 0 || run.status === 1, `${args.join(' ')}: exit ${run.status}`);
        // apply without --yes and without a terminal never writes: at best it ends at the confirmation.
        if (run.status === 1) assert.match(run.stderr, ONE_REFUSAL, `${args.join(' ')}: ${run.stderr}`);
        if (run.stderr.startsWith(`error: ${file}: `)) refusedByField += 1;
      }
    });
  }
  // The schema, not some later step, is what refuses most of them.
  assert.ok(refusedByField > prop.runs / 2, `${refusedByField} refused by the schema`);
});

test('the mutations the issue names: files[0].edits = [1, null], profile.source = 123', async () => {
  const root = await makeNode({ version: '1.28' });
  const dir = await makeTempDir();
  const original = path.join(dir, 'plan.json');
  assert.is((await runInProcessWith(['--root', root, 'plan', '--out', original])).status, 0);
  const cases: [(doc: any) => void, string][] = [
    [(doc) => { doc.files[0].edits = [1, null]; }, 'files[0].edits[0]: must be an object'],
    [(doc) => { doc.profile.source = 123; }, 'profile.source: must be one of "shipped", "file"'],
    [(doc) => { doc.profile.file = '/tmp/mine.yaml'; }, 'profile.file: must be null'],
    [(doc) => { doc.profile.source = 'file'; doc.profile.file = '/tmp/x) on /\nPlan for profile baseline (shipped'; }, 'profile.file: must be an absolute path without control characters, or null'],
    [(doc) => { doc.inputs['/var/snap/microk8s/current/args/kubelet'] = 'sha256:0'; }, 'inputs["/var/snap/microk8s/current/args/kubelet"]: must be sha256: and 64 lowercase hex digits'],
    [(doc) => { doc.files[0].path = '/var/snap/microk8s/current/args/../../../../etc/shadow'; }, 'files[0].path: must be an absolute path without . or .. segments'],
    [(doc) => { doc.restarts = ['snap.microk8s.daemon-kubelite', 'reboot']; }, 'restarts[1]: must be a MicroK8s service (snap.microk8s.daemon-NAME)'],
    [(doc) => { delete doc.summary.add; }, 'summary.add: missing'],
    [(doc) => { doc.files[0].edits[0].action = 'replace'; }, 'files[0].edits[0].action: must be one of "add", "change", "remove"'],
  ];
  for (const [edit, what] of cases) {
    const doc = JSON.parse(await fs.readFile(original, 'utf8'));
    edit(doc);
    const file = path.join(dir, 'forged.json');
    await fs.writeFile(file, sealed(doc));
    for (const args of [['plan', '--in', file], ['--root', root, 'apply', file, '--yes']]) {
      const run = await runInProcessWith(args);
      assert.is(run.status, 1, what);
      assert.is(run.stdout, '', what);
      assert.is(run.stderr, `error: ${file}: ${what}\nhint: this is not a plan harden wrote, though its sha256 was made again to match: make a new one with harden plan --out FILE\n`);
    }
  }
});

test.run();
