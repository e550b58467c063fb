#!/usr/bin/env node
// Builds dist/harden.mjs: the whole CLI in one ES module for Node 20, with no node_modules and no profiles/
// beside it. Runs after tsc (it checks the shipped profiles with the compiled parser):
//  - the profile schema is compiled ahead of time into Ajv standalone code, which replaces
//    src/effects/profile-validator.ts, so Ajv is neither loaded nor run at start-up;
//  - the shipped profiles are parsed and validated here (a bad one fails the build) and carried pre-parsed,
//    with the templates, the flag catalogue and the version, in place of src/effects/embedded-files.ts.
// Users' own profile files still go through the YAML parser and the schema check, with file:line errors.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import * as esbuild from 'esbuild';

const repo = fileURLToPath(new URL('..', import.meta.url));
const profilesDir = path.join(repo, 'profiles');
const outfile = path.join(repo, 'dist', 'harden.mjs');

const { parseProfile, formatProblem } = await import(new URL('../dist/src/core/profile.js', import.meta.url).href);
const { AJV_OPTIONS } = await import(new URL('../dist/src/effects/profile-validator.js', import.meta.url).href);

/** The schema check as standalone code: `profileValidator()` returns the function Ajv would have compiled. */
function validatorModule() {
  const schema = JSON.parse(readFileSync(path.join(profilesDir, 'schema.json'), 'utf8'));
  const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true, esm: true } });
  const validate = ajv.compile(schema);
  return { validate, source: `${standaloneCode(ajv, validate)}\nexport function profileValidator() { return validate; }\n` };
}

/** The shipped files, the profiles parsed and validated. */
function embeddedFiles(validate) {
  const profiles = {};
  for (const file of readdirSync(profilesDir).filter((name) => name.endsWith('.yaml')).sort()) {
    const parsed = parseProfile(readFileSync(path.join(profilesDir, file), 'utf8'), `profiles/${file}`, validate);
    if (!parsed.ok) throw new Error(`shipped profile does not pass the schema:\n${parsed.problems.map(formatProblem).join('\n')}`);
    profiles[file.slice(0, -'.yaml'.length)] = parsed.profile;
  }
  const templates = {};
  for (const file of readdirSync(path.join(profilesDir, 'templates')).sort()) {
    const name = `templates/${file}`;
    if (statSync(path.join(profilesDir, name)).isFile()) templates[name] = readFileSync(path.join(profilesDir, name), 'utf8');
  }
  const { version } = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8'));
  const flagCatalogue = readFileSync(path.join(profilesDir, 'flag-catalogue.tsv'), 'utf8');
  return `export const embeddedFiles = ${JSON.stringify({ version, profiles, templates, flagCatalogue })};\n`;
}

const { validate, source: validatorSource } = validatorModule();
const replaced = {
  [path.join(repo, 'src', 'effects', 'profile-validator.ts')]: validatorSource,
  [path.join(repo, 'src', 'effects', 'embedded-files.ts')]: embeddedFiles(validate),
};

/** Swaps the two modules above for what was made here; everything else is bundled as written. */
const swapModules = {
  name: 'harden-swap-modules',
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]effects[\\/](profile-validator|embedded-files)\.ts$/ }, (args) => {
      const contents = replaced[args.path];
      if (contents === undefined) return undefined;
      return { contents, loader: 'js', resolveDir: repo };
    });
  },
};

// Run as a script: `node harden.mjs ...`, or imported by bin/harden.js, which runs the same lines.
const entry = `import { main } from './src/cli.ts';
// \`harden check | head\`: a reader that goes away is not an error of ours; stop quietly.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
process.exitCode = await main(process.argv.slice(2));
`;

const result = await esbuild.build({
  stdin: { contents: entry, resolveDir: repo, sourcefile: 'harden-entry.js', loader: 'js' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile,
  minify: true,
  keepNames: false,
  legalComments: 'eof',
  // Bundled CommonJS packages call require() for Node's own modules; give them one.
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __hardenCreateRequire } from 'node:module';\nconst require = __hardenCreateRequire(import.meta.url);" },
  plugins: [swapModules],
  metafile: true,
  logLevel: 'warning',
});

const bytes = statSync(outfile).size;
const inputs = Object.keys(result.metafile.inputs);
if (inputs.some((input) => /node_modules[\\/]ajv[\\/]dist[\\/](core|ajv|compile)/.test(input))) throw new Error('the bundle carries the Ajv compiler: the validator was not swapped');
const byPackage = {};
for (const [input, { bytesInOutput }] of Object.entries(result.metafile.outputs[path.relative(repo, outfile)].inputs)) {
  const name = /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(input)?.[1] ?? 'harden';
  byPackage[name] = (byPackage[name] ?? 0) + bytesInOutput;
}
const largest = Object.entries(byPackage).sort((a, b) => b[1] - a[1]).slice(0, 6).map(([name, size]) => `${name} ${Math.round(size / 1024)} KiB`);
console.log(`dist/harden.mjs: ${bytes} bytes, ${inputs.length} modules (largest: ${largest.join(', ')})`);
