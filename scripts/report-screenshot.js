#!/usr/bin/env node
// Makes docs/check-report.png, the README's picture of the HTML report: `harden check --format html` of the
// example node (examples/node-1.28) against the cis profile, opened in Debian's chromium (as the browser test
// does) and captured at 1200 px wide, the top of the page. Run after `npm run build`:
//   node scripts/report-screenshot.js
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { runBin } from '../dist/test/helpers/cli.js';
import { launchChromium, openReport } from '../dist/test/helpers/browser.js';
import { repoRoot } from '../dist/test/helpers/paths.js';

const run = runBin(['--root', 'examples/node-1.28', 'check', '--profile', 'cis', '--format', 'html']);
if (run.status !== 2 || run.stderr !== '') throw new Error(`harden check exited ${run.status}: ${run.stderr}`);
const browser = await launchChromium();
try {
  const { page, problems } = await openReport(browser, run.stdout, { width: 1200, height: 1500 });
  if (problems.length > 0) throw new Error(`the report did not load cleanly:\n${problems.join('\n')}`);
  const out = path.join(repoRoot, 'docs', 'check-report.png');
  await page.screenshot({ path: out, type: 'png', clip: { x: 0, y: 0, width: 1200, height: 1500 } });
  console.log(`wrote ${path.relative(repoRoot, out)} (${(await fs.stat(out)).size} bytes)`);
} finally {
  await browser.close();
}
