// The standalone executable's entry point (scripts/build-sea.js puts it in, with sea-config.json): it runs the
// bundle, dist/harden.cjs, carried as an asset, with the code cache the bundle's build trained
// (dist/harden.cjs.cache, also an asset), as bin/harden.cjs does from disk. Node's own `useCodeCache` caches
// only what compiling the main script compiles, the top level; the trained cache holds the functions the
// usual commands run too, and starts `plan` about as fast as the bundle does. The same rules as bin/harden.cjs:
// the cache is used only with the build it names, and V8 uses it only if this V8 and these flags made it;
// otherwise the bundle is compiled from its source, slower, with the same answers.
// Only Node's built-in modules can be required here: this runs inside the executable, never from disk.
'use strict';
const Module = require('node:module');
const path = require('node:path');
const sea = require('node:sea');
const vm = require('node:vm');

const source = sea.getAsset('harden.cjs', 'utf8').replace(/^#!/, '//');
const buildId = /^\/\/ harden build ([0-9a-f]{64})$/m.exec(source.slice(0, 200))?.[1] ?? null;
const cache = Buffer.from(sea.getAsset('harden.cjs.cache'));
const header = buildId === null ? null : Buffer.from(`${buildId}\n`, 'latin1');
const cachedData = header !== null && cache.length > header.length && cache.subarray(0, header.length).equals(header) ? cache.subarray(header.length) : undefined;
// The bundle's files are inside it; its own name is the executable's.
const file = process.execPath;
const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
if (process.env.HARDEN_SEA_DEBUG_CACHE === '1') process.stderr.write(`cache ${cachedData === undefined ? 'absent' : script.cachedDataRejected ? 'rejected' : 'used'}\n`);
const bundle = new Module(file, null);
bundle.filename = file;
script.runInThisContext().call(bundle.exports, bundle.exports, Module.createRequire(file), bundle, file, path.dirname(file));
