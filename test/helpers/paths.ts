// Where the repository's own files are, seen from a compiled test under dist/test/.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const fixturesDir = path.join(repoRoot, 'test', 'fixtures', 'microk8s');
export const fixtureVersions = ['1.13', '1.18', '1.20', '1.21', '1.26', '1.28', '1.36'] as const;
export type FixtureVersion = (typeof fixtureVersions)[number];

export function fixtureArgsDir(version: FixtureVersion): string {
  return path.join(fixturesDir, version, 'args');
}
