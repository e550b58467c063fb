#!/usr/bin/env node
// Plan snapshots: the exact `harden plan` text of each shipped profile on a node laid out from each fixture
// version's default args, so that a change to a profile or to the planner shows its effect in review. Run after
// `npm run build`; `--write` rewrites snapshots/, and test/snapshots.test.ts compares them with what this makes.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { layOutNode } from '../dist/test/helpers/node-root.js';
import { fixtureVersions } from '../dist/test/helpers/paths.js';

export const PROFILES = ['baseline', 'cis', 'cis-1-12'];
const repo = fileURLToPath(new URL('..', import.meta.url));
export const SNAPSHOTS_DIR = path.join(repo, 'snapshots');

/** `{ 'plan-baseline-1.28.txt': text, … }`. Node roots are named after their version, so the text is stable. */
export async function planSnapshots() {
  process.umask(0o022);
  const base = mkdtempSync(path.join(os.tmpdir(), 'harden-snapshots-'));
  try {
    const snapshots = {};
    for (const version of fixtureVersions) {
      const root = path.join(base, `node-${version}`);
      mkdirSync(root);
      await layOutNode(root, { version, snapVersion: `v${version}.0` });
      for (const profile of PROFILES) {
        const run = spawnSync(process.execPath, [path.join(repo, 'bin/harden.cjs'), '--root', `node-${version}`, 'plan', '--profile', profile, '--no-color'], {
          cwd: base,
          encoding: 'utf8',
          env: { ...process.env, NO_COLOR: '1' },
        });
        if (run.status !== 0) throw new Error(`plan --profile ${profile} on ${version} exited ${run.status}: ${run.stderr}`);
        snapshots[`plan-${profile}-${version}.txt`] = run.stdout;
      }
    }
    return snapshots;
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const snapshots = await planSnapshots();
  if (process.argv.includes('--write')) {
    for (const name of readdirSync(SNAPSHOTS_DIR)) if (name.startsWith('plan-')) rmSync(path.join(SNAPSHOTS_DIR, name));
    for (const [name, text] of Object.entries(snapshots)) writeFileSync(path.join(SNAPSHOTS_DIR, name), text);
    console.log(`snapshots/: ${Object.keys(snapshots).length} plans written`);
  } else {
    for (const [name, text] of Object.entries(snapshots)) console.log(`==> ${name}\n${text}`);
  }
}
