// What ships: the npm package (packed, installed globally, run through its `harden` link) and the single file
// dist/harden.cjs copied alone to an empty directory. Both must answer exactly as the compiled modules do
// in-process, which read the profiles from profiles/ on disk and compile the schema with Ajv at run time:
// so the embedded, pre-parsed profiles and the ahead-of-time schema check are checked against the originals.
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BIN, colourlessEnv, runInProcess, type Run } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/node-root.js';
import { repoRoot } from '../helpers/paths.js';
import { badProfile } from '../helpers/bad-profile.js';

const EXAMPLE = path.join(repoRoot, 'examples', 'node-1.28');
const BUNDLE = path.join(repoRoot, 'dist', 'harden.cjs');

function run(command: string, args: readonly string[], cwd: string): Run {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: colourlessEnv() });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function npm(args: readonly string[], cwd: string): string {
  const result = spawnSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8' });
  assert.is(result.status, 0, `npm ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

const BAD_PROFILE = badProfile('baseline');

const RUNS: readonly (readonly string[])[] = [
  ['--root', EXAMPLE, 'plan'],
  ['--root', EXAMPLE, 'plan', '--profile', 'cis'],
  ['--root', EXAMPLE, 'check', '--profile', 'cis'],
  ['profiles', 'list'],
  ['--version'],
];

test('npm pack holds the bin, the bundle, the profiles and the docs, and nothing else', async () => {
  const out = await makeTempDir('harden-pack-');
  const [packed] = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', out], repoRoot)) as { files: { path: string }[] }[];
  const files = packed.files.map((file) => file.path).sort();
  const profiles = (await fs.readdir(path.join(repoRoot, 'profiles'), { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(repoRoot, path.join(entry.parentPath, entry.name)));
  assert.equal(files, ['README.md', 'SECURITY.md', 'bin/harden.cjs', 'dist/harden.cjs', 'dist/harden.cjs.cache', 'package.json', ...profiles].sort());
});

test('the packed package installs globally, offline, and its harden answers as the compiled modules do', async () => {
  const work = await makeTempDir('harden-pack-');
  const [packed] = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], repoRoot)) as { filename: string }[];
  const prefix = path.join(work, 'global');
  // No runtime dependencies: the bundle carries them, so the install needs no registry.
  npm(['install', '--global', '--offline', '--ignore-scripts', '--cache', path.join(work, 'cache'), '--prefix', prefix, path.join(work, packed.filename)], work);
  const harden = path.join(prefix, 'bin', 'harden');
  assert.equal(await fs.readdir(path.join(prefix, 'lib', 'node_modules', 'harden')).then((names) => names.includes('node_modules')), false);
  for (const args of RUNS.slice(0, 2)) {
    const installed = run(harden, args, work);
    const expected = await runInProcess(args);
    assert.equal(installed, expected, `harden ${args.join(' ')}`);
    assert.ok(installed.stdout.includes('Plan:'), installed.stdout);
  }
});

test('dist/harden.cjs copied alone to an empty directory runs every command as the compiled modules do', async () => {
  const alone = await makeTempDir('harden-single-');
  await fs.copyFile(BUNDLE, path.join(alone, 'harden.cjs'));
  await fs.writeFile(path.join(alone, 'mine.yaml'), BAD_PROFILE);
  assert.equal(await fs.readdir(alone), ['harden.cjs', 'mine.yaml']);
  const mine = path.join(alone, 'mine.yaml');
  for (const args of [...RUNS, ['--root', EXAMPLE, 'plan', '--profile', mine], ['profiles', 'validate', mine]]) {
    const single = run(process.execPath, ['harden.cjs', ...args], alone);
    const expected = await runInProcess(args);
    assert.equal(single, expected, `node harden.cjs ${args.join(' ')}`);
  }
  const invalid = run(process.execPath, ['harden.cjs', 'profiles', 'validate', mine], alone);
  assert.is(invalid.status, 1);
  assert.is(invalid.stderr, `error: ${mine}:10: rule kubelet.hostname: severity: must be one of "low", "medium", "high", "critical"\nerror: ${mine}:14: rule kubelet.hostname: value: it holds U+0020 (a space) at character 2; a value may hold only ASCII letters, digits and ! # % * + , - . / : = ? @ [ ] ^ _ ~, and $ only in \${SNAP}, \${SNAP_DATA} or \${SNAP_COMMON}\nhint: fix the profile; profiles/schema.json describes the format\n`);
});

test('the build made a code cache for this build, and this Node uses it', () => {
  const { compileBundle } = createRequire(import.meta.url)(BIN) as { compileBundle(file: string, cacheFile: string): { usedCache: boolean; buildId: string | null } };
  const compiled = compileBundle(BUNDLE, `${BUNDLE}.cache`);
  assert.match(compiled.buildId ?? '', /^[0-9a-f]{64}$/);
  assert.is(compiled.usedCache, true);
});

test('a code cache that is not this build\'s, cut short, or not a cache at all is ignored: the bin answers exactly', async () => {
  const copy = await makeTempDir('harden-cache-');
  await fs.mkdir(path.join(copy, 'bin'));
  await fs.mkdir(path.join(copy, 'dist'));
  await fs.copyFile(BIN, path.join(copy, 'bin', 'harden.cjs'));
  await fs.copyFile(BUNDLE, path.join(copy, 'dist', 'harden.cjs'));
  const cache = await fs.readFile(`${BUNDLE}.cache`);
  const id = cache.subarray(0, 65).toString('latin1');
  const otherBuild = Buffer.concat([Buffer.from(`${'0'.repeat(64)}\n`), cache.subarray(65)]);
  const cutShort = cache.subarray(0, cache.length >> 1);
  const notACache = Buffer.from(`${id}not a code cache`);
  for (const [what, bytes] of [['another build', otherBuild], ['cut short', cutShort], ['not a cache', notACache]] as const) {
    await fs.writeFile(path.join(copy, 'dist', 'harden.cjs.cache'), bytes);
    for (const args of RUNS.slice(1, 3)) {
      assert.equal(run(process.execPath, [path.join(copy, 'bin', 'harden.cjs'), ...args], copy), await runInProcess(args), `${what}: harden ${args.join(' ')}`);
    }
  }
  // Whether the last one was used, asked of a fresh Node (this one may have compiled the bundle already).
  const probe = run(process.execPath, ['-e', `const { compileBundle } = require(${JSON.stringify(path.join(copy, 'bin', 'harden.cjs'))}); console.log(compileBundle(${JSON.stringify(path.join(copy, 'dist', 'harden.cjs'))}, ${JSON.stringify(path.join(copy, 'dist', 'harden.cjs.cache'))}).usedCache)`], copy);
  assert.is(probe.stdout, 'false\n');
});

test.run();
