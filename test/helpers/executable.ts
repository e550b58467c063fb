// The standalone executable dist/harden-<platform>-<arch> (scripts/build-sea.js), made from this build of the
// bundle: `npm test` builds it after the bundle; a suite run alone builds it when the one in dist/ does not carry
// the current dist/harden.cjs (a few seconds).
import { spawnSync } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { repoRoot } from './paths.js';

export const BUNDLE = path.join(repoRoot, 'dist', 'harden.cjs');
export const EXECUTABLE = path.join(repoRoot, 'dist', `harden-${process.platform}-${process.arch}`);

/** The bundle's `// harden build <sha256>` line: the executable holds the bundle's text, this line with it. */
export function buildLine(): string {
  const line = readFileSync(BUNDLE, 'utf8').split('\n', 2)[1] ?? '';
  assert.match(line, /^\/\/ harden build [0-9a-f]{64}$/);
  return line;
}

export async function carriesThisBundle(): Promise<boolean> {
  try {
    return (await fs.readFile(EXECUTABLE)).includes(buildLine());
  } catch {
    return false;
  }
}

/** Builds the executable unless dist/ already holds one made from the current bundle; returns its path. */
export async function currentExecutable(): Promise<string> {
  if (!(await carriesThisBundle())) {
    const built = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'build-sea.js')], { cwd: repoRoot, encoding: 'utf8' });
    assert.is(built.status, 0, built.stderr);
  }
  return EXECUTABLE;
}
