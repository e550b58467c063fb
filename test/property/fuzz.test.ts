// Fuzz: real files, mutated at random (bytes flipped, invalid UTF-8, hostile tokens inserted, ranges cut or
// doubled, line ends changed, truncation), fed to every reader. Readers report what they find as findings;
// the node-level reading and the profile loader may refuse with the product's own HardenError. Nothing may
// throw anything else (a TypeError, a RangeError, a stack overflow), and every finding or problem must be
// located: a line the input has, and for a profile a `file:line:` message.
import { promises as fs, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseArgsFile, printArgsFile } from '../../src/core/args-file.js';
import { readWithBash } from '../../src/core/bash-reader.js';
import { consumerOf } from '../../src/core/consumers.js';
import { viewFlagsFile } from '../../src/core/file-view.js';
import type { Finding } from '../../src/core/finding.js';
import { readWithKubelite } from '../../src/core/kubelite-reader.js';
import { buildPlan } from '../../src/core/plan.js';
import { formatProblem, parseProfile } from '../../src/core/profile.js';
import type { ReaderEnv } from '../../src/core/reader.js';
import { assessNode } from '../../src/effects/assess.js';
import { realFileSystem, type FileSystem } from '../../src/effects/file-system.js';
import { hasUnsafe, shown } from '../../src/ui/terminal-text.js';
import { loadProfile, profileIdentity, PROFILES_DIR } from '../../src/effects/profile-store.js';
import { profileValidator } from '../../src/effects/profile-validator.js';
import { HardenError } from '../../src/errors.js';
import { makeNode, makeTempDir } from '../helpers/node-root.js';
import { fixtureArgsDir, fixtureVersions } from '../helpers/paths.js';
import { between, caseSeeds, chance, forAll, forAllAsync, makeRng, pick, property, withCaseAsync, type Rng } from '../helpers/prng.js';

const SUITE = 'property/fuzz\\.test\\.js$';
const ENV: ReaderEnv = { vars: { SNAP: '/snap/microk8s/6089', SNAP_DATA: '/var/snap/microk8s/6089', SNAP_COMMON: '/var/snap/microk8s/common' }, unknownVariables: 'keep' };

const TOKENS = [
  '\n', '\r\n', '\r', '\0', '\t', ' ', '"', "'", '\\', '`', '$', '$(', '${', '}', '${SNAP}', '$((', '[', ']', '{', '#', '#~', '=', '--', '-',
  ';', '|', '&', '<', '>', '(', ')', '*', '?', '~', '\u00a0', '\u2028', '\uFEFF', '\u{1F512}', '\uD800', ':', ': ', '- ', '&a ', '*a', '!!binary ',
  '? ', '%YAML 1.2\n', '---\n', '...\n', 'null', '~', '0x1F', '1e309', '"\\u0000"', "'''", '{{', '[[', 'id: x', 'rules:', 'flag: --x',
];

/** One to five mutations of a file's bytes. */
function mutate(rng: Rng, original: Buffer): Buffer {
  let bytes = Buffer.from(original);
  for (let n = between(rng, 1, 5); n > 0; n--) {
    const at = between(rng, 0, bytes.length);
    const kind = rng();
    if (kind < 0.2 && bytes.length > 0) {
      bytes[Math.min(at, bytes.length - 1)] = between(rng, 0, 255);
    } else if (kind < 0.5) {
      bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(pick<string>(rng, TOKENS)), bytes.subarray(at)]);
    } else if (kind < 0.65) {
      bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(Math.min(bytes.length, at + between(rng, 1, 40)))]);
    } else if (kind < 0.75) {
      const end = Math.min(bytes.length, at + between(rng, 1, 200));
      bytes = Buffer.concat([bytes.subarray(0, end), bytes.subarray(at, end), bytes.subarray(end)]);
    } else if (kind < 0.82) {
      bytes = bytes.subarray(0, at);
    } else if (kind < 0.9) {
      bytes = Buffer.from(bytes.toString('latin1').replace(/\n/g, chance(rng, 0.5) ? '\r\n' : ''), 'latin1');
    } else {
      // A line indented or dedented: YAML's structure, an args file's indent.
      const text = bytes.toString('utf8');
      const lines = text.split('\n');
      const index = between(rng, 0, Math.max(0, lines.length - 1));
      lines[index] = chance(rng, 0.5) ? `  ${lines[index]}` : lines[index].replace(/^ {1,2}/, '');
      bytes = Buffer.from(lines.join('\n'));
    }
  }
  return bytes;
}

function allFixtureFiles(): { version: (typeof fixtureVersions)[number]; name: string; bytes: Buffer }[] {
  return fixtureVersions.flatMap((version) => {
    const dir = fixtureArgsDir(version);
    return readdirSync(dir)
      .filter((name) => statSync(path.join(dir, name)).isFile())
      .map((name) => ({ version, name, bytes: readFileSync(path.join(dir, name)) }));
  });
}

function checkFindings(findings: readonly Finding[], lineCount: number, what: string): void {
  for (const finding of findings) {
    assert.type(finding.code, 'string', `${what}: code`);
    assert.ok(['error', 'warning', 'info'].includes(finding.severity), `${what}: severity ${finding.severity}`);
    assert.ok(Number.isInteger(finding.line) && finding.line >= 0 && finding.line <= Math.max(lineCount, 1), `${what}: line ${finding.line} of ${lineCount}`);
    // Messages quote the node's text as it is; what a terminal gets is the message escaped: one line, nothing raw.
    assert.ok(finding.message.length > 0 && !shown(finding.message).includes('\n') && !hasUnsafe(shown(finding.message)), `${what}: a one-line message`);
  }
}

const readers = property('mutated fixture args files: every reader returns findings, never throws', { runs: 1500, seed: 777 });

test(`${readers.name} (${readers.runs} files from seed ${readers.seed})`, () => {
  const fixtures = allFixtureFiles();
  forAll(
    readers,
    SUITE,
    (rng) => {
      const fixture = pick(rng, fixtures);
      return { version: fixture.version, name: fixture.name, text: mutate(rng, fixture.bytes).toString('utf8') };
    },
    ({ version, name, text }) => {
      const file = parseArgsFile(text);
      assert.is(printArgsFile(file), text, 'the model prints back');
      const lines = file.lines.length;
      for (const read of [readWithBash(text, ENV), readWithKubelite(text, ENV)]) checkFindings(read.findings, lines, read.reader);
      const era = Number(version.split('.')[1]) >= 21 ? 'kubelite' : 'daemons';
      const consumer = consumerOf(name, era, false, text);
      for (const reader of ['bash', 'kubelite'] as const) {
        const view = viewFlagsFile(text, { reader, component: consumer.component, env: ENV });
        checkFindings(view.findings, lines, `view ${reader}`);
      }
    },
  );
});

/** The real filesystem, with every regular file under the node mutated as it is read (the same way each time). */
function mutatingFileSystem(seed: number, root: string): FileSystem {
  const cache = new Map<string, Buffer>();
  return {
    ...realFileSystem,
    readRegularFile: async (file, maxBytes) => {
      const read = await realFileSystem.readRegularFile(file, maxBytes);
      const bytes = read.content;
      if (bytes === null || !file.startsWith(root) || !chance(makeRng(seed ^ file.length ^ bytes.length), 0.5)) return read;
      if (!cache.has(file)) cache.set(file, mutate(makeRng(seed + file.length), bytes));
      const content = cache.get(file)!;
      return { stat: read.stat, content: content.length > maxBytes ? null : content };
    },
  };
}

const nodes = property('mutated node files: reading, checking and planning a node refuse with HardenError at worst', { runs: 25, seed: 31337 });

test(`${nodes.name} (${nodes.runs} nodes from seed ${nodes.seed})`, async () => {
  const roots = new Map<string, string>();
  for (const version of fixtureVersions) roots.set(version, await makeNode({ version }));
  const profile = await loadProfile('cis');
  let refused = 0;
  try {
    for (const seed of caseSeeds(nodes)) {
      const version = pick(makeRng(seed), fixtureVersions);
      const root = roots.get(version)!;
      await withCaseAsync(nodes, seed, { version }, SUITE, async () => {
        try {
          const { facts, model, vars, answers, results } = await assessNode(mutatingFileSystem(seed, root), { root, argsDir: undefined }, profile.rules);
          for (const report of model.report.files) checkFindings(report.findings, Number.MAX_SAFE_INTEGER, report.name);
          buildPlan({ model, rules: profile.rules, results, facts: answers, vars, profile: profileIdentity(profile), templates: {}, locks: facts.locks });
        } catch (error) {
          if (!(error instanceof HardenError)) throw error;
          assert.ok(error.message.length > 0 && !error.message.includes('\n'), 'a one-line refusal');
          refused += 1;
        }
      });
    }
  } finally {
    for (const root of roots.values()) await fs.rm(root, { recursive: true, force: true });
  }
  assert.ok(refused < nodes.runs, 'most mutated nodes are still read');
});

const VALIDATOR = profileValidator();
const SHIPPED = ['baseline', 'cis', 'cis-1-12'].map((name) => ({ name, bytes: readFileSync(path.join(PROFILES_DIR, `${name}.yaml`)) }));

const profiles = property('mutated profiles: every problem is located at file:line, nothing crashes', { runs: 120, seed: 1234 });

test(`${profiles.name} (${profiles.runs} profiles from seed ${profiles.seed})`, async () => {
  let invalid = 0;
  await forAllAsync(
    profiles,
    SUITE,
    (rng) => {
      const shipped = pick(rng, SHIPPED);
      return { from: shipped.name, text: mutate(rng, shipped.bytes).toString('utf8') };
    },
    async ({ text }) => {
      const parsed = await parseProfile(text, 'profiles/fuzzed.yaml', VALIDATOR);
      if (parsed.ok) return;
      invalid += 1;
      const lines = text.split('\n').length;
      assert.ok(parsed.problems.length > 0, 'an invalid profile has problems');
      for (const problem of parsed.problems) {
        assert.is(problem.file, 'profiles/fuzzed.yaml');
        assert.ok(Number.isInteger(problem.line) && problem.line >= 1 && problem.line <= lines + 1, `line ${problem.line} of ${lines}`);
        assert.match(formatProblem(problem), new RegExp(`^profiles/fuzzed\\.yaml:${problem.line}: `));
        assert.not.match(problem.message, /\n/, 'one line');
      }
    },
  );
  assert.ok(invalid > profiles.runs / 2, `${invalid} of ${profiles.runs} mutated profiles are invalid`);
});

const loaded = property('mutated profile files loaded with --profile FILE: a ProfileError naming file:line, or a profile', { runs: 15, seed: 4321 });

test(`${loaded.name} (${loaded.runs} profiles from seed ${loaded.seed})`, async () => {
  const dir = await makeTempDir('harden-fuzz-profile-');
  try {
    for (const seed of caseSeeds(loaded)) {
      const rng = makeRng(seed);
      const text = mutate(rng, SHIPPED[0].bytes).toString('utf8');
      const file = path.join(dir, `fuzzed-${seed}.yaml`);
      await fs.writeFile(file, text);
      await withCaseAsync(loaded, seed, text, SUITE, async () => {
        try {
          await loadProfile(file);
        } catch (error) {
          if (!(error instanceof HardenError)) throw error;
          for (const line of [error.message, ...error.more]) assert.match(line, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: `), 'file:line');
        }
      });
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test.run();
