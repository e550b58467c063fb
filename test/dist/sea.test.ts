// The standalone executable, dist/harden-<platform>-<arch> (scripts/build-sea.js): run with no `node` on its
// PATH (an empty directory), it must answer exactly as `node bin/harden.cjs` does, stdout, stderr and exit
// code byte for byte, on the example node. `npm test` builds it after the bundle; run alone, this suite builds
// it when the one in dist/ was not made from the current dist/harden.cjs (a few seconds).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BIN, colourlessEnv, type Run } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/node-root.js';
import { repoRoot } from '../helpers/paths.js';
import { badProfile } from '../helpers/bad-profile.js';
import { EXECUTABLE, buildLine, carriesThisBundle, currentExecutable } from '../helpers/executable.js';

const EXAMPLE = path.join(repoRoot, 'examples', 'node-1.28');

let noNode = '';
let work = '';

test.before(async () => {
  await currentExecutable();
  noNode = await makeTempDir('harden-sea-path-');
  work = await makeTempDir('harden-sea-work-');
});

function collect(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Run {
  const result = spawnSync(command, args, { cwd: work, encoding: 'utf8', env });
  assert.is(result.error, undefined);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The executable, with PATH an empty directory: neither `node` nor anything else can be found on it. */
const standalone = (args: readonly string[]): Run => collect(EXECUTABLE, args, { ...colourlessEnv(), PATH: noNode });
/** The bundle as installed users run it. */
const bundled = (args: readonly string[]): Run => collect(process.execPath, [BIN, ...args], colourlessEnv());

const BAD_PROFILE = badProfile('cis');

test('the executable is made from this build of the bundle, and no node is on the PATH it runs with', async () => {
  assert.ok(await carriesThisBundle(), `${EXECUTABLE} does not hold ${buildLine()}`);
  assert.equal(await fs.readdir(noNode), []);
  const probe = collect('/bin/sh', ['-c', 'command -v node || echo none'], { PATH: noNode });
  assert.is(probe.stdout, 'none\n');
});

test('it runs the bundle with the code cache its build trained, and V8 takes the cache', () => {
  const run = collect(EXECUTABLE, ['--version'], { ...colourlessEnv(), PATH: noNode, HARDEN_SEA_DEBUG_CACHE: '1' });
  const { version } = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  assert.equal(run, { status: 0, stdout: `${version}\n`, stderr: 'cache used\n' });
});

test('every command answers byte for byte as node bin/harden.cjs does, with no node on PATH', async () => {
  const mine = path.join(work, 'mine.yaml');
  await fs.writeFile(mine, BAD_PROFILE);
  const cases: readonly { args: readonly string[]; status: number }[] = [
    { args: ['--help'], status: 0 },
    { args: ['--version'], status: 0 },
    { args: ['profiles', 'list'], status: 0 },
    { args: ['--root', EXAMPLE, 'inspect'], status: 0 },
    { args: ['--root', EXAMPLE, 'check'], status: 2 },
    { args: ['--root', EXAMPLE, 'plan'], status: 0 },
    // The cis profile, its templates and the flag catalogue are read from inside the executable.
    { args: ['--root', EXAMPLE, 'check', '--profile', 'cis'], status: 2 },
    { args: ['--root', EXAMPLE, 'check', '--profile', 'cis', '--format', 'sarif'], status: 2 },
    { args: ['--root', EXAMPLE, 'plan', '--profile', 'cis'], status: 0 },
    { args: ['profiles', 'show', 'cis'], status: 0 },
    // Errors: one line naming what is wrong, a hint, exit 1.
    { args: ['--root', path.join(work, 'absent'), 'plan'], status: 1 },
    { args: ['--root', EXAMPLE, 'plan', '--profile', 'no-such-profile'], status: 1 },
    { args: ['profiles', 'validate', mine], status: 1 },
    { args: ['no-such-command'], status: 1 },
  ];
  for (const { args, status } of cases) {
    const expected = bundled(args);
    assert.is(expected.status, status, `node bin/harden.cjs ${args.join(' ')}: ${expected.stderr}`);
    assert.equal(standalone(args), expected, `harden-${process.platform}-${process.arch} ${args.join(' ')}`);
  }
});

test('plan --json: the same document but for when it was made, and each sealed with its own digest', () => {
  const args = ['--root', EXAMPLE, 'plan', '--profile', 'cis', '--json'];
  const [mine, theirs] = [standalone(args), bundled(args)];
  assert.equal([mine.status, mine.stderr], [theirs.status, theirs.stderr]);
  const unsealed = (text: string): string => {
    const { sha256, ...rest } = JSON.parse(text) as { sha256: string; createdAt: string };
    // The digest planJson writes: sha256 of the document without its sha256 field (src/ui/plan-view.ts).
    assert.is(sha256, `sha256:${createHash('sha256').update(JSON.stringify(rest, null, 2)).digest('hex')}`);
    assert.match(rest.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    return text.replace(/^ {2}"createdAt": "[^"]+",$/m, '  "createdAt": "",').replace(/^ {2}"sha256": "sha256:[0-9a-f]{64}"$/m, '  "sha256": ""');
  };
  assert.is(unsealed(mine.stdout), unsealed(theirs.stdout));
});

test('options Node would take are harden\'s arguments: --require and --eval run nothing, as with the bundle', async () => {
  const marker = path.join(work, 'ran');
  const preload = path.join(work, 'preload.cjs');
  await fs.writeFile(preload, `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\n`);
  for (const args of [['--require', preload, 'profiles', 'list'], ['--eval', `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran')`, '--version'], ['--inspect', 'profiles', 'list']]) {
    const expected = bundled(args);
    assert.equal(standalone(args), expected, args.join(' '));
    assert.not.ok(await fs.access(marker).then(() => true, () => false), `${args.join(' ')} ran code`);
  }
});

test.run();
