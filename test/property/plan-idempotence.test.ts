// Plans are idempotent, deterministic and compose, for random subsets of the rules of every shipped profile on
// a node laid out from every fixture version (test/helpers/node-root.ts):
//   - planning the same node twice gives the same plan;
//   - once the plan's `after` texts, companion files and modes are written as `harden apply` writes them,
//     planning the same subset again changes nothing (no edits, companions or modes; 0 add/change/remove),
//     and every rule of the subset that failed or passed before passes;
//   - applying the subset, then the whole profile, leaves every file of the node (content, mode, owner) as
//     applying the whole profile at once does — args files up to the order of the lines appended at their
//     end, which follows the order the flags were added in: the same lines, the same flags and values.
// The plan is built in-process with the functions `harden plan` uses; writes go through the node writer.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readWithBash } from '../../src/core/bash-reader.js';
import { effectiveFlags } from '../../src/core/effective-flags.js';
import { snapVars } from '../../src/core/node-env.js';
import { buildPlan, type Plan } from '../../src/core/plan.js';
import type { ReaderEnv } from '../../src/core/reader.js';
import type { RuleResult } from '../../src/core/evaluate.js';
import { assessNode } from '../../src/effects/assess.js';
import { realFileOps, type FileOps } from '../../src/effects/file-ops.js';
import { realFileSystem } from '../../src/effects/file-system.js';
import { stageChange } from '../../src/effects/node-change.js';
import { ownerIds, resolveEntry, resolveNode } from '../../src/effects/node-writer.js';
import { readTemplates } from '../../src/effects/plan-store.js';
import { loadProfile, profileIdentity, type LoadedProfile } from '../../src/effects/profile-store.js';
import { makeNode } from '../helpers/node-root.js';
import { fixtureVersions, type FixtureVersion } from '../helpers/paths.js';
import { caseSeeds, makeRng, property, subset, withCaseAsync } from '../helpers/prng.js';

const SUITE = 'plan-idempotence\\.test\\.js$';
const PROFILES = ['baseline', 'cis', 'cis-1-12'] as const;
/** Owners can only be changed by root; elsewhere file-mode rules are left out of the subsets. */
const CAN_CHOWN = process.getuid?.() === 0;

/** Each shipped profile, loaded once (loading validates YAML: a fifth of a second). */
const loadedProfiles = new Map<string, LoadedProfile>();
async function shipped(profile: string): Promise<LoadedProfile> {
  if (!loadedProfiles.has(profile)) loadedProfiles.set(profile, await loadProfile(profile));
  return loadedProfiles.get(profile)!;
}

async function planFor(root: string, profile: string, only: readonly string[]): Promise<{ plan: Plan; results: readonly RuleResult[] }> {
  // What `--only` selects: the profile's rules with those ids, in the profile's order.
  const all = await shipped(profile);
  const loaded = { ...all, rules: all.rules.filter((rule) => only.includes(rule.id)) };
  const { facts, model, vars, answers, results } = await assessNode(realFileSystem, { root, argsDir: undefined }, loaded.rules);
  const plan = buildPlan({
    model,
    rules: loaded.rules,
    results,
    facts: answers,
    vars,
    profile: profileIdentity(loaded),
    templates: readTemplates(loaded.rules),
    locks: facts.locks,
  });
  return { plan, results };
}

/** The real file effects without fsync: what is written is the same, and these nodes need not survive a power cut. */
const ops: FileOps = { ...realFileOps, fsync: async () => undefined, fsyncDir: async () => undefined };

/**
 * Writes what the plan changes, as apply does (commands/transaction.ts): one staged change of the args files,
 * the companion files (root:root) and the modes and owners (bits only taken away; the inode checked, except on a
 * file the change itself rewrites), committed.
 */
async function applyPlan(root: string, plan: Plan): Promise<void> {
  assert.equal(plan.problems, [], 'the plan has no problems');
  const root0 = await ownerIds(root, 'root:root', ops);
  const rewritten = new Set<string>();
  for (const file of plan.files) rewritten.add((await resolveNode(ops, root, file.path)).nodePath);
  const modes = [];
  for (const change of plan.modes) {
    const entry = await resolveEntry(ops, root, change.path);
    const stat = entry.stat!;
    const owner = change.owner ? await ownerIds(root, change.owner.to, ops) : { uid: stat.uid, gid: stat.gid };
    const mode = change.mode ? Number.parseInt(change.mode.to, 8) : stat.mode & 0o7777;
    modes.push({ path: change.path, to: { ...owner, mode }, inode: rewritten.has(entry.nodePath) ? null : { dev: stat.dev, ino: stat.ino }, onlyRemove: true });
  }
  const staged = await stageChange(ops, root, {
    writes: [
      ...plan.files.map((file) => ({ path: file.path, content: file.after })),
      ...plan.companions.map((companion) => ({ path: companion.path, content: companion.content, create: { mode: Number.parseInt(companion.mode, 8), ...root0 } })),
    ],
    removals: [],
    modes,
  });
  await staged.commit();
  await staged.finish();
}

const sha256 = (content: Buffer | string) => createHash('sha256').update(content).digest('hex');
const ENV: ReaderEnv = { vars: snapVars(null), unknownVariables: 'keep' };

/**
 * An args file up to the order of its lines: the lines as a sorted multiset, and the flags bash reads from it.
 * Two runs append missing flags at the end in the order their rules come, so a subset applied first puts its
 * flags before the others; every line and every value is the same.
 */
function argsFileContent(text: string): string {
  const lines = text.split('\n').map(itemsInAnyOrder).sort();
  const flags = [...effectiveFlags(readWithBash(text, ENV).argv, null).flags.values()].map((f) => itemsInAnyOrder(`${f.name}=${f.value}`)).sort();
  return `lines ${sha256(lines.join('\n'))} flags ${JSON.stringify(flags)}`;
}

/**
 * The admission-plugin lists with their items sorted: kube-apiserver runs enabled plugins in its own fixed order
 * ("The order of plugins in this flag does not matter", its --help), so a subset that adds NodeRestriction before
 * the whole profile adds AlwaysPullImages is the same setting.
 */
function itemsInAnyOrder(line: string): string {
  const match = /^(--(?:enable|disable)-admission-plugins=)(.*)$/.exec(line);
  return match ? `${match[1]}${match[2].split(',').sort().join(',')}` : line;
}

/** Every entry under the root: type, mode, owner and content hash (args files: see above), or link target. */
async function tree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await fs.readdir(dir)).sort()) {
      const file = path.join(dir, name);
      const stat = await fs.lstat(file);
      const key = path.relative(root, file);
      if (stat.isSymbolicLink()) out[key] = `link ${await fs.readlink(file)}`;
      else if (stat.isDirectory()) {
        out[key] = `dir ${(stat.mode & 0o7777).toString(8)} ${stat.uid}:${stat.gid}`;
        await walk(file);
      } else {
        const content = await fs.readFile(file);
        const bytes = path.basename(dir) === 'args' ? argsFileContent(content.toString('utf8')) : sha256(content);
        out[key] = `file ${(stat.mode & 0o7777).toString(8)} ${stat.uid}:${stat.gid} ${bytes}`;
      }
    }
  };
  await walk(root);
  return out;
}

/** The plan without what differs between runs by design (nothing today: buildPlan takes no clock). */
function comparable(plan: Plan): string {
  return JSON.stringify(plan);
}

function assertNoChanges(plan: Plan, where: string): void {
  assert.equal(plan.files.map((f) => [f.name, f.edits]), [], `${where}: no args file changes`);
  assert.equal(plan.companions.map((c) => c.path), [], `${where}: no companion files`);
  assert.equal(plan.modes.map((m) => [m.path, m.mode, m.owner]), [], `${where}: no mode changes`);
  const { add, change, remove } = plan.summary;
  assert.equal({ add, change, remove }, { add: 0, change: 0, remove: 0 }, `${where}: summary`);
  assert.equal(plan.problems, [], `${where}: problems`);
}

function assertFixed(before: readonly RuleResult[], after: readonly RuleResult[], where: string): void {
  const now = new Map(after.map((r) => [r.id, r]));
  const broken = before
    .filter((r) => r.status === 'FAIL' || r.status === 'PASS')
    .map((r) => now.get(r.id)!)
    .filter((r) => r.status !== 'PASS')
    .map((r) => `${r.id}: ${r.status} (${r.reason})`);
  assert.equal(broken, [], `${where}: every rule that failed or passed now passes`);
}

interface WholeProfile {
  readonly tree: Record<string, string>;
}

/** The whole profile applied at once, on a fresh node: also idempotent. Made once per version and profile. */
const whole = new Map<string, Promise<WholeProfile>>();
function wholeProfile(version: FixtureVersion, profile: string, ids: readonly string[]): Promise<WholeProfile> {
  const key = `${version} ${profile}`;
  if (!whole.has(key)) {
    whole.set(key, (async () => {
      const root = await makeNode({ version });
      try {
        const first = await planFor(root, profile, ids);
        await applyPlan(root, first.plan);
        const again = await planFor(root, profile, ids);
        assertNoChanges(again.plan, `${key}, whole profile, planned again`);
        assertFixed(first.results, again.results, `${key}, whole profile`);
        return { tree: await tree(root) };
      } finally {
        await fs.rm(root, { recursive: true, force: true });
      }
    })());
  }
  return whole.get(key)!;
}

const subsets = property('plans of random rule subsets are deterministic, idempotent and compose', { runs: 2, seed: 4242 });

for (const version of fixtureVersions) {
  for (const profile of PROFILES) {
    test(`${subsets.name}: ${profile} on ${version} (${subsets.runs} subsets from seed ${subsets.seed})`, async () => {
      const ids = (await shipped(profile)).rules.filter((rule) => CAN_CHOWN || rule.operation !== 'file-mode').map((rule) => rule.id);
      const full = await wholeProfile(version, profile, ids);
      for (const seed of caseSeeds(subsets)) {
        const rng = makeRng(seed);
        const chosen = subset(rng, ids, 0.15 + rng() * 0.6);
        const only = chosen.length > 0 ? chosen : [ids[Math.floor(rng() * ids.length)]];
        await withCaseAsync(subsets, seed, { version, profile, only }, SUITE, async () => {
          const root = await makeNode({ version });
          try {
            const first = await planFor(root, profile, only);
            const twice = await planFor(root, profile, only);
            assert.is(comparable(twice.plan), comparable(first.plan), 'planning twice gives the same plan');
            await applyPlan(root, first.plan);
            const again = await planFor(root, profile, only);
            assertNoChanges(again.plan, 'the subset planned again');
            assertFixed(first.results, again.results, 'the subset');
            const rest = await planFor(root, profile, ids);
            await applyPlan(root, rest.plan);
            assert.equal(await tree(root), full.tree, 'the subset then the whole profile leaves the node as the whole profile at once');
          } finally {
            await fs.rm(root, { recursive: true, force: true });
          }
        });
      }
    });
  }
}

test.run();
