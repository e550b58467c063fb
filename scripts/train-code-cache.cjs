// Makes V8's code cache for the single-file build: `node scripts/train-code-cache.cjs BUNDLE CACHE`, run by
// scripts/build-bundle.js in a fresh Node with default flags (a cache only fits the Node and flags that made it).
// It compiles the bundle exactly as bin/harden.cjs does, runs the commands people run most on the example node
// (their output goes nowhere: the build starts this with stdout ignored), and saves what V8 compiled, so that
// bin/harden.cjs starts with those functions ready.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { cacheFileFor, compileBundle } = require('../bin/harden.cjs');

const [bundle, cacheFile] = process.argv.slice(2).map((file) => path.resolve(file));
const example = path.join(__dirname, '..', 'examples', 'node-1.28');
const COMMANDS = [
  ['plan', '--profile', 'cis'],
  ['plan', '--profile', 'baseline', '--json'],
  ['check', '--profile', 'cis'],
  ['check', '--json'],
  ['inspect'],
  ['ports'],
];

async function train() {
  const compiled = compileBundle(bundle, null);
  if (compiled.buildId === null) throw new Error(`${bundle} does not name its build on its second line`);
  const { main } = compiled.run(true);
  for (const args of COMMANDS) {
    const code = await main(['--root', example, ...args]);
    if (code !== 0 && code !== 2) throw new Error(`harden ${args.join(' ')} exited ${code} on ${example}`);
  }
  fs.writeFileSync(cacheFile, cacheFileFor(compiled.buildId, compiled.script.createCachedData()));
}

train().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exitCode = 1;
});
