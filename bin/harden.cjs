#!/usr/bin/env node
// The command-line entry point. It runs dist/harden.cjs, the whole CLI in one file (built by `npm run build`,
// which `npm ci` and `npm pack` run), with dist/harden.cjs.cache: V8's code cache for that file, made at build
// time by running typical commands, so that start-up neither parses the file nor compiles the functions a
// command runs. The cache is used only with the build it names, and V8 uses it only if it was made by this
// V8 with these flags, for a source of this length, and is whole; otherwise the file is compiled from its
// source as usual. V8 does not checksum the payload (asking it to would cost a few milliseconds of every start): the cache is
// as trusted as the code beside it (SECURITY.md). From a checkout that was only compiled with tsc, it runs the
// compiled modules under dist/src.
'use strict';
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');
const vm = require('node:vm');

const BUNDLE = path.join(__dirname, '..', 'dist', 'harden.cjs');
/** The bundle's second line: `// harden build <sha256>`. */
const BUILD_LINE = /^\/\/ harden build ([0-9a-f]{64})$/m;

/** `<build id>\n` and V8's data: what the trainer writes and compileBundle reads. */
function cacheFileFor(buildId, data) {
  return Buffer.concat([Buffer.from(`${buildId}\n`, 'latin1'), data]);
}

/**
 * Compiles the bundle as Node compiles a CommonJS file, with the code cache when it was made for this build.
 * The `#!` line becomes a comment of the same length: a function body cannot start with one.
 */
function compileBundle(file, cacheFile) {
  const source = fs.readFileSync(file, 'utf8').replace(/^#!/, '//');
  const buildId = BUILD_LINE.exec(source.slice(0, 200))?.[1] ?? null;
  const cachedData = buildId === null ? undefined : cacheFor(buildId, cacheFile);
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
  return {
    script,
    buildId,
    usedCache: cachedData !== undefined && !script.cachedDataRejected,
    /** Runs the file's body: the CLI starts, unless `loadOnly` (its `main` is then module.exports.main). */
    run(loadOnly = false) {
      const module = new Module(file, null);
      module.filename = file;
      module.hardenLoadOnly = loadOnly;
      script.runInThisContext().call(module.exports, module.exports, Module.createRequire(file), module, file, path.dirname(file));
      return module.exports;
    },
  };
}

/** V8's data from the cache file, when there is one and it names this build. */
function cacheFor(buildId, cacheFile) {
  let bytes;
  try {
    bytes = fs.readFileSync(cacheFile);
  } catch {
    return undefined;
  }
  const header = `${buildId}\n`;
  return bytes.length > header.length && bytes.toString('latin1', 0, header.length) === header ? bytes.subarray(header.length) : undefined;
}

module.exports = { compileBundle, cacheFileFor };

if (require.main === module) {
  if (fs.existsSync(BUNDLE)) {
    compileBundle(BUNDLE, `${BUNDLE}.cache`).run();
  } else {
    import('../dist/src/cli.js').then(async ({ main }) => {
      process.exitCode = await main(process.argv.slice(2));
    });
  }
}
