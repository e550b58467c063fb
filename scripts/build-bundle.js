#!/usr/bin/env node
// Builds dist/harden.cjs: the whole CLI in one CommonJS file for Node 20, with no node_modules and no profiles/
// beside it, and dist/harden.cjs.cache, V8's code cache for it (see scripts/train-code-cache.cjs; bin/harden.cjs
// runs the file with it). CommonJS because only a script, not an ES module, can be compiled with a code cache
// on Node 20. Runs after tsc (it checks the shipped profiles with the compiled parser):
//  - the profile schema (and those of saved plans, cluster facts and waiver files) is compiled ahead of time into Ajv standalone code, which replaces
//    src/effects/profile-validator.ts, so Ajv is neither loaded nor run at start-up;
//  - the shipped profiles are parsed and validated here (a bad one fails the build) and carried pre-parsed,
//    with the templates, the flag catalogue (parsed too) and the version, in place of
//    src/effects/embedded-files.ts, as one JSON.parse of a string (V8 reads that faster than an object literal);
//  - start-up work nothing needs is left out (see startupPlugin): yargs neither walks up the directories for a
//    package.json (the version is given) nor loads node:assert for its two invariant checks nor makes
//    process.stdout to learn the terminal's width (harden sets the width), and it does not render a command's
//    whole help text before running the command (it keeps it for a showHelp() harden never calls). In a
//    CommonJS bundle, a package's built-in modules are required when the package first runs (the prompts'
//    only in apply). test/dist/ runs the bundle against the compiled modules, byte for byte, to keep this honest;
//  - nothing in it calls import(): Node 20 runs import() in a script compiled by bin/harden.cjs only from 20.x
//    releases on, so built-ins are required (src/lazy.ts), and the build fails if an import() slips in.
// Users' own profile files still go through the YAML parser and the schema check, with file:line errors.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import * as esbuild from 'esbuild';

const repo = fileURLToPath(new URL('..', import.meta.url));
const profilesDir = path.join(repo, 'profiles');
const outfile = path.join(repo, 'dist', 'harden.cjs');
const cacheFile = `${outfile}.cache`;

const { parseProfile, formatProblem } = await import(new URL('../dist/src/core/profile.js', import.meta.url).href);
const { parseFlagCatalogue } = await import(new URL('../dist/src/core/flag-catalogue.js', import.meta.url).href);
const { AJV_OPTIONS } = await import(new URL('../dist/src/effects/profile-validator.js', import.meta.url).href);
const { VALUE_PATTERN } = await import(new URL('../dist/src/core/safe-value.js', import.meta.url).href);
const { PLAN_DOCUMENT_SCHEMA } = await import(new URL('../dist/src/core/plan-schema.js', import.meta.url).href);
const { PLAN_AJV_OPTIONS } = await import(new URL('../dist/src/effects/plan-validator.js', import.meta.url).href);
const { CLUSTER_DOCUMENT_SCHEMA, NODE_FACTS_DOCUMENT_SCHEMA } = await import(new URL('../dist/src/core/cluster-schema.js', import.meta.url).href);
const { CLUSTER_AJV_OPTIONS } = await import(new URL('../dist/src/effects/cluster-validator.js', import.meta.url).href);
const { WAIVERS_DOCUMENT_SCHEMA } = await import(new URL('../dist/src/core/waiver-schema.js', import.meta.url).href);
const { WAIVER_AJV_OPTIONS } = await import(new URL('../dist/src/effects/waiver-validator.js', import.meta.url).href);

/** The schema check as standalone code: `profileValidator()` returns the function Ajv would have compiled. */
function validatorModule() {
  const schema = JSON.parse(readFileSync(path.join(profilesDir, 'schema.json'), 'utf8'));
  // One definition of a safe value: the schema's and the editor's (src/core/safe-value.ts) must be the same.
  if (schema.definitions?.value?.pattern !== VALUE_PATTERN) {
    throw new Error(`profiles/schema.json: definitions.value.pattern is not VALUE_PATTERN of src/core/safe-value.ts (${VALUE_PATTERN})`);
  }
  const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true, esm: true } });
  const validate = ajv.compile(schema);
  return { validate, source: `${standaloneCode(ajv, validate)}\nexport function profileValidator() { return validate; }\n` };
}

/** The saved-plan schema check as standalone code: `planValidator()` returns the function Ajv would have compiled. */
function planValidatorModule() {
  const ajv = new Ajv({ ...PLAN_AJV_OPTIONS, code: { source: true, esm: true } });
  const validate = ajv.compile(PLAN_DOCUMENT_SCHEMA);
  return `${standaloneCode(ajv, validate)}\nexport function planValidator() { return validate; }\n`;
}

/** The node-facts and cluster-facts schema checks as standalone code, under the names cluster-validator.ts exports. */
function clusterValidatorModule() {
  const ajv = new Ajv({ ...CLUSTER_AJV_OPTIONS, code: { source: true, esm: true } });
  ajv.addSchema(CLUSTER_DOCUMENT_SCHEMA, 'cluster');
  ajv.addSchema(NODE_FACTS_DOCUMENT_SCHEMA, 'node');
  return `${standaloneCode(ajv, { clusterCheck: 'cluster', nodeCheck: 'node' })}\nexport function clusterValidator() { return clusterCheck; }\nexport function nodeFactsValidator() { return nodeCheck; }\n`;
}

/** The waiver-file schema check as standalone code: `waiverValidator()` returns the function Ajv would have compiled. */
function waiverValidatorModule() {
  const ajv = new Ajv({ ...WAIVER_AJV_OPTIONS, code: { source: true, esm: true } });
  const validate = ajv.compile(WAIVERS_DOCUMENT_SCHEMA);
  return `${standaloneCode(ajv, validate)}\nexport function waiverValidator() { return validate; }\n`;
}

/** The shipped files, the profiles parsed and validated. */
async function embeddedFiles(validate) {
  const profiles = {};
  for (const file of readdirSync(profilesDir).filter((name) => name.endsWith('.yaml')).sort()) {
    const parsed = await parseProfile(readFileSync(path.join(profilesDir, file), 'utf8'), `profiles/${file}`, validate);
    if (!parsed.ok) throw new Error(`shipped profile does not pass the schema:\n${parsed.problems.map(formatProblem).join('\n')}`);
    profiles[file.slice(0, -'.yaml'.length)] = parsed.profile;
  }
  const templates = {};
  for (const file of readdirSync(path.join(profilesDir, 'templates')).sort()) {
    const name = `templates/${file}`;
    if (statSync(path.join(profilesDir, name)).isFile()) templates[name] = readFileSync(path.join(profilesDir, name), 'utf8');
  }
  const { version } = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8'));
  // The catalogue's notes and sources are for people reading the TSV; harden uses neither once the rows are
  // parsed (the notes' doubts are already in each boundary's certainty), so they are left out: half the size.
  const flagCatalogue = parseFlagCatalogue(readFileSync(path.join(profilesDir, 'flag-catalogue.tsv'), 'utf8')).rows.map((row) => ({ ...row, notes: '', source: '' }));
  const json = JSON.stringify({ version, profiles, templates, flagCatalogue });
  // In single quotes: JSON is full of double quotes, which a double-quoted literal would have to escape.
  const literal = `'${json.replace(/[\\'\u2028\u2029]/g, (c) => (c === '\\' ? '\\\\' : c === "'" ? "\\'" : `\\u${c.charCodeAt(0).toString(16)}`))}'`;
  return `export const embeddedFiles = JSON.parse(${literal});\n`;
}

const { validate, source: validatorSource } = validatorModule();
const replaced = {
  [path.join(repo, 'src', 'effects', 'profile-validator.ts')]: validatorSource,
  [path.join(repo, 'src', 'effects', 'plan-validator.ts')]: planValidatorModule(),
  [path.join(repo, 'src', 'effects', 'cluster-validator.ts')]: clusterValidatorModule(),
  [path.join(repo, 'src', 'effects', 'waiver-validator.ts')]: waiverValidatorModule(),
  [path.join(repo, 'src', 'effects', 'embedded-files.ts')]: await embeddedFiles(validate),
};

/** Swaps the modules above for what was made here; everything else is bundled as written. */
const swapModules = {
  name: 'harden-swap-modules',
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]effects[\\/](profile-validator|plan-validator|cluster-validator|waiver-validator|embedded-files)\.ts$/ }, (args) => {
      const contents = replaced[args.path];
      if (contents === undefined) return undefined;
      return { contents, loader: 'js', resolveDir: repo };
    });
  },
};

/** Replaces `from` in a package file's text, and fails the build when it is not there exactly once. */
function patch(file, text, from, to) {
  const at = text.indexOf(from);
  if (at === -1 || text.indexOf(from, at + 1) !== -1) throw new Error(`${path.relative(repo, file)}: expected "${from}" exactly once; the package changed, review the patch`);
  return text.replace(from, to);
}

const YARGS_COMMAND = /[\\/]node_modules[\\/]yargs[\\/]build[\\/]lib[\\/]command\.js$/;
const YARGS_SHIM = /[\\/]node_modules[\\/]yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/;

/** What makes start-up cheaper without changing what harden does (see the top of this file). */
const startupPlugin = {
  name: 'harden-startup',
  setup(build) {
    // yargs checks two invariants of its own with node:assert, which would be loaded at start for that alone.
    build.onResolve({ filter: /^assert$/ }, (args) => (YARGS_SHIM.test(args.importer) ? { path: 'assert', namespace: 'harden-yargs-assert' } : undefined));
    build.onLoad({ filter: /.*/, namespace: 'harden-yargs-assert' }, () => ({
      contents: [
        'export function strictEqual(actual, expected, message) { if (actual !== expected) throw new Error(message ?? `expected ${String(expected)}, got ${String(actual)}`); }',
        'export function notStrictEqual(actual, expected, message) { if (actual === expected) throw new Error(message ?? `unexpected ${String(actual)}`); }',
      ].join('\n'),
      loader: 'js',
    }));
    // yargs' version guess walks up from the bundle for a package.json; harden gives its version itself.
    build.onResolve({ filter: /^escalade\/sync$/ }, () => ({ path: 'escalade-sync', namespace: 'harden-no-find-up' }));
    build.onLoad({ filter: /.*/, namespace: 'harden-no-find-up' }, () => ({ contents: 'export default function findUp() { return undefined; }', loader: 'js' }));
    // The shim reads process.stdout.columns when it loads, which makes process.stdout: for a pipe, a socket
    // (and node:net) that also holds the process open at exit. Read on use instead, as a getter.
    build.onLoad({ filter: YARGS_SHIM }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const from = "stdColumns: typeof process.stdout.columns !== 'undefined' ? process.stdout.columns : null";
      return { contents: patch(args.path, text, from, `get stdColumns() { return typeof process.stdout.columns !== 'undefined' ? process.stdout.columns : null; }`), loader: 'js' };
    });
    build.onLoad({ filter: YARGS_COMMAND }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      return { contents: patch(args.path, text, 'yargs.getInternalMethods().getUsageInstance().cacheHelpMessage();', '/* harden: help is rendered only when asked for */'), loader: 'js' };
    });
  },
};

// Run as a script (\`node harden.cjs ...\`), or by bin/harden.cjs; the code-cache trainer loads it without running it.
const entry = `const { main } = require('./src/cli.ts');
module.exports = { main };
if (!module.hardenLoadOnly) main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
`;

const result = await esbuild.build({
  stdin: { contents: entry, resolveDir: repo, sourcefile: 'harden-entry.js', loader: 'js' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile,
  write: false,
  // `--no-minify` keeps names, for reading a CPU profile of the shipped build.
  minify: !process.argv.includes('--no-minify'),
  keepNames: false,
  legalComments: 'eof',
  // The compiled modules find their files from import.meta.url; in one CommonJS file, that is this file.
  define: { 'import.meta.url': '__hardenUrl' },
  banner: { js: "#!/usr/bin/env node\nvar __hardenUrl = require('node:url').pathToFileURL(__filename).href;" },
  plugins: [swapModules, startupPlugin],
  metafile: true,
  logLevel: 'warning',
});

// The file's second line names its build, a digest of the rest: the code cache says which build it was made
// for, and bin/harden.cjs uses a cache only with the build it names (V8 itself compares only the length).
const [built] = result.outputFiles;
const shebang = '#!/usr/bin/env node\n';
if (!built.text.startsWith(shebang)) throw new Error('the bundle does not start with its #! line');
const buildId = createHash('sha256').update(built.text).digest('hex');
const text = `${shebang}// harden build ${buildId}\n${built.text.slice(shebang.length)}`;
mkdirSync(path.dirname(outfile), { recursive: true });
rmSync(cacheFile, { force: true });
writeFileSync(`${outfile}.tmp`, text, { mode: 0o755 });
renameSync(`${outfile}.tmp`, outfile);

const bytes = statSync(outfile).size;
const inputs = Object.keys(result.metafile.inputs);
if (/\bimport\(/.test(text)) throw new Error('the bundle calls import(); load the module with require (src/lazy.ts) or bundle it');
if (inputs.some((input) => /node_modules[\\/]ajv[\\/]dist[\\/](core|ajv|compile)/.test(input))) throw new Error('the bundle carries the Ajv compiler: the validator was not swapped');
const byPackage = {};
for (const [input, { bytesInOutput }] of Object.entries(result.metafile.outputs[path.relative(repo, outfile)].inputs)) {
  const name = /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(input)?.[1] ?? 'harden';
  byPackage[name] = (byPackage[name] ?? 0) + bytesInOutput;
}
const largest = Object.entries(byPackage).sort((a, b) => b[1] - a[1]).slice(0, 6).map(([name, size]) => `${name} ${Math.round(size / 1024)} KiB`);
console.log(`dist/harden.cjs: ${bytes} bytes, ${inputs.length} modules (largest: ${largest.join(', ')})`);

// The code cache, made by running typical commands in a fresh Node (the cache holds what they compiled).
const trained = spawnSync(process.execPath, [path.join(repo, 'scripts', 'train-code-cache.cjs'), outfile, `${cacheFile}.tmp`], { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
if (trained.status !== 0) throw new Error(`making the code cache failed (exit ${trained.status}): ${trained.stderr}`);
renameSync(`${cacheFile}.tmp`, cacheFile);
console.log(`dist/harden.cjs.cache: ${statSync(cacheFile).size} bytes, for Node ${process.version}`);
