#!/usr/bin/env node
// Builds dist/harden-<platform>-<arch> (dist/harden-linux-x64 here): harden as one executable that needs no
// Node on the machine, Node's single executable application. After `npm run build` (it reads dist/harden.cjs
// and dist/harden.cjs.cache):
//  1. `node --experimental-sea-config sea-config.json` makes dist/harden.blob: scripts/sea-main.cjs as the
//     entry point, the bundle and its trained code cache as assets, and no "experimental feature" warning on
//     stderr. Node's own `useCodeCache` is off: it caches only the entry point's top level, and the trained
//     cache (scripts/train-code-cache.cjs) starts `plan` faster (README "A standalone executable");
//  2. the Node running this script (process.execPath) is copied: the executable is that Node, so it runs on
//     what that binary runs on (its glibc floor: README "A standalone executable"), for its CPU only;
//  3. postject puts the blob into the copy as the NODE_SEA_BLOB section and flips the fuse that makes Node run
//     it instead of its usual command line.
// The bundle already carries the profiles, the templates and the flag catalogue (scripts/build-bundle.js), so
// the executable reads nothing of its own from disk.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const config = JSON.parse(readFileSync(path.join(repo, 'sea-config.json'), 'utf8'));
const blob = path.join(repo, config.output);
const output = path.join(repo, 'dist', `harden-${process.platform}-${process.arch}`);
// The fuse Node looks for in its own binary; postject flips it (Node's documentation gives this value).
const SENTINEL_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

for (const asset of Object.values(config.assets)) {
  try {
    statSync(path.join(repo, asset));
  } catch {
    throw new Error(`${asset} is missing: run \`npm run build\` first (\`npm run build:sea\` does both)`);
  }
}
if (!readFileSync(process.execPath).includes(SENTINEL_FUSE)) {
  throw new Error(`${process.execPath} was built without single executable application support (no ${SENTINEL_FUSE})`);
}

if (typeof createRequire(import.meta.url)('node:sea').getAsset !== 'function') {
  throw new Error(`Node ${process.version} cannot put assets into an executable: build with Node 20.12 or later`);
}

const made = spawnSync(process.execPath, ['--experimental-sea-config', 'sea-config.json'], { cwd: repo, encoding: 'utf8' });
if (made.status !== 0) throw new Error(`node --experimental-sea-config failed (exit ${made.status}): ${made.stderr}`);

const partial = `${output}.tmp`;
rmSync(partial, { force: true });
copyFileSync(process.execPath, partial);
chmodSync(partial, 0o755);
// In a child, to keep what its ELF library says about the sections it does not know (one line per note of a
// binary like Debian's, built with debug info) off the output unless the injection fails.
const postject = createRequire(import.meta.url).resolve('postject/dist/cli.js');
const injected = spawnSync(process.execPath, [postject, partial, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SENTINEL_FUSE], { cwd: repo, encoding: 'utf8' });
if (injected.status !== 0) throw new Error(`postject failed (exit ${injected.status}): ${injected.stdout}${injected.stderr}`);
rmSync(blob, { force: true });
renameSync(partial, output);
console.log(`${path.relative(repo, output)}: ${statSync(output).size} bytes, Node ${process.version} from ${process.execPath}`);
