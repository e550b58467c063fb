#!/usr/bin/env node
// The README's evidence table: `harden check --profile cis` on a node laid out from each fixture version's
// default args. Run after `npm run build`; `--write` replaces the table between the README's markers, and
// test/readme-table.test.ts keeps the committed table equal to what this prints.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { layOutNode } from '../dist/test/helpers/node-root.js';
import { fixtureVersions } from '../dist/test/helpers/paths.js';

export const START = '<!-- cis-table:start (scripts/cis-table.js writes this) -->';
export const END = '<!-- cis-table:end -->';
const SHORT = { PASS: 'pass', FAIL: '**FAIL**', BLOCKED: 'blocked', MANUAL: 'manual', 'NOT APPLICABLE': '–' };

const repo = fileURLToPath(new URL('..', import.meta.url));

/** The table as markdown. */
export async function cisTable() {
  const base = mkdtempSync(path.join(os.tmpdir(), 'harden-cis-table-'));
  try {
    const roots = [];
    for (const version of fixtureVersions) {
      const root = path.join(base, version);
      mkdirSync(root);
      await layOutNode(root, { version, snapVersion: `v${version}.0` });
      roots.push(root);
    }
    const run = spawnSync(process.execPath, [path.join(repo, 'bin/harden.cjs'), ...roots.flatMap((r) => ['--root', r]), 'check', '--profile', 'cis', '--json'], {
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
  const table = await cisTable();
  if (process.argv.includes('--write')) {
    const file = path.join(repo, 'README.md');
    const readme = readFileSync(file, 'utf8');
    const [before, rest] = readme.split(START);
    if (rest === undefined) throw new Error(`README.md has no ${START} marker`);
    const after = rest.slice(rest.indexOf(END));
    writeFileSync(file, `${before}${START}\n${table}\n${after}`);
    console.log('README.md: table written');
  } else {
    console.log(table);
  }
}
