#!/usr/bin/env node
// The README's evidence tables: `harden check --profile cis` (CIS 1.24) and `--profile cis-1-12` (CIS 1.12) on a
// node laid out from each fixture version's default args, on an Ubuntu host (its /var/log, /proc/sys values and
// systemd-sysctl files: test/helpers/node-root.ts). Run after `npm run build`; `--write` replaces each
// table between its README markers, and test/readme-table.test.ts keeps the committed tables equal to what this
// prints.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { layOutNode } from '../dist/test/helpers/node-root.js';
import { fixtureVersions } from '../dist/test/helpers/paths.js';

export const START = '<!-- cis-table:start (scripts/cis-table.js writes this) -->';
export const END = '<!-- cis-table:end -->';
/** One table per CIS profile, each between its own markers. */
export const TABLES = [
  { profile: 'cis', START, END },
  { profile: 'cis-1-12', START: '<!-- cis-1-12-table:start (scripts/cis-table.js writes this) -->', END: '<!-- cis-1-12-table:end -->' },
];
const SHORT = { PASS: 'pass', FAIL: '**FAIL**', BLOCKED: 'blocked', MANUAL: 'manual', 'NOT APPLICABLE': '–' };

const repo = fileURLToPath(new URL('..', import.meta.url));

/** The table of one profile as markdown. */
export async function cisTable(profile = 'cis') {
  const base = mkdtempSync(path.join(os.tmpdir(), 'harden-cis-table-'));
  try {
    const roots = [];
    for (const version of fixtureVersions) {
      const root = path.join(base, version);
      mkdirSync(root);
      await layOutNode(root, { version, snapVersion: `v${version}.0`, host: {} });
      roots.push(root);
    }
    const run = spawnSync(process.execPath, [path.join(repo, 'bin/harden.cjs'), ...roots.flatMap((r) => ['--root', r]), 'check', '--profile', profile, '--json'], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    if (run.status !== 0 && run.status !== 2) throw new Error(`harden check failed (${run.status}): ${run.stderr}`);
    const documents = JSON.parse(run.stdout);
    const byVersion = fixtureVersions.map((version, i) => documents[roots[i]]);
    const rules = byVersion[0].results;
    const header = `| rule | CIS | ${fixtureVersions.join(' | ')} |`;
    const rule = `| --- | --- | ${fixtureVersions.map(() => ':-:').join(' | ')} |`;
    const rows = rules.map((result, index) => {
      const cells = byVersion.map((doc) => SHORT[doc.results[index].status]);
      return `| \`${result.id}\` | ${result.cis.join(', ')} | ${cells.join(' | ')} |`;
    });
    const totals = ['PASS', 'FAIL', 'BLOCKED', 'MANUAL', 'NOT APPLICABLE'].map(
      (status) => `| *${SHORT[status].replace(/\*/g, '')}* | | ${byVersion.map((doc) => doc.summary.counts[status]).join(' | ')} |`,
    );
    return [header, rule, ...rows, ...totals].join('\n');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  for (const { profile, START: start, END: end } of TABLES) {
    const table = await cisTable(profile);
    if (process.argv.includes('--write')) {
      const file = path.join(repo, 'README.md');
      const readme = readFileSync(file, 'utf8');
      const [before, rest] = readme.split(start);
      if (rest === undefined) throw new Error(`README.md has no ${start} marker`);
      const after = rest.slice(rest.indexOf(end));
      writeFileSync(file, `${before}${start}\n${table}\n${after}`);
      console.log(`README.md: ${profile} table written`);
    } else {
      console.log(`${profile}:\n${table}\n`);
    }
  }
}
