#!/usr/bin/env node
// The HTML report of a fleet: `node bench/html-report.js [--quick]`, after `npm ci` (which builds dist/; needs
// /usr/bin/chromium, as the browser test does). Lays out 1,000 node roots (100 with --quick): the seven fixture
// versions in turn, one in ten a worker, and in each a few args lines dropped at random (seeded) so that found
// values and their lines differ from node to node, as in a real fleet. Then `harden check --roots DIR --profile
// cis --format html` beside `--format json` of the same roots (interleaved, 3 runs each, 1 with --quick: median
// wall time, peak RSS), the page's size (goal < 10 MB), and
// the page opened from its file in headless chromium 3 times: the median time to first paint and to first
// contentful paint (the Paint Timing API) and to the load event, from the start of navigation. A missed goal is
// reported, never a failure; the exit status is non-zero only when a command crashes.
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { launchChromium } from '../dist/test/helpers/browser.js';
import { DEFAULT_REVISIONS, layOutNode } from '../dist/test/helpers/node-root.js';
import { makeRng } from '../dist/test/helpers/prng.js';
import { BIN, machine, mb, median, ms, quickOption, reportCrashes, series, table, timer } from './measure.js';

const quick = quickOption('html-report.js');
const nodes = quick ? 100 : 1000;
const runs = quick ? 1 : 3;
const { work, crashes, measure, cleanup } = timer('harden-bench-html-');
try {
  const fleet = path.join(work, 'fleet');
  const rng = makeRng(19);
  const versions = Object.keys(DEFAULT_REVISIONS);
  for (let i = 0; i < nodes; i += 1) {
    const root = path.join(fleet, `node-${String(i + 1).padStart(4, '0')}`);
    mkdirSync(root, { recursive: true });
    const dataDir = await layOutNode(root, { version: versions[i % versions.length], worker: i % 10 === 9 });
    for (const name of ['kubelet', 'kube-apiserver']) {
      const file = path.join(dataDir, 'args', name);
      let lines;
      try { lines = readFileSync(file, 'utf8').split('\n'); } catch { continue; }
      for (let drop = Math.floor(rng() * 3); drop > 0 && lines.length > 2; drop -= 1) lines.splice(Math.floor(rng() * (lines.length - 1)), 1);
      writeFileSync(file, lines.join('\n'));
    }
  }
  const report = path.join(work, 'report.html');
  const argv = ['sh', '-c', `"${process.execPath}" "${BIN}" check --roots "${fleet}" --profile cis --format html > "${report}"`];
  const json = ['sh', '-c', `"${process.execPath}" "${BIN}" check --roots "${fleet}" --profile cis --format json > /dev/null`];
  const [render, baseline] = series(measure, [{ label: `check --format html, ${nodes} roots`, argv, ok: [2] }, { label: `check --format json, ${nodes} roots`, argv: json, ok: [2] }], runs);
  const bytes = statSync(report).size;

  const browser = await launchChromium();
  const paints = [];
  try {
    for (let run = 0; run < 3; run += 1) {
      const page = await browser.newPage();
      await page.setViewport({ width: 1200, height: 900 });
      await page.goto(pathToFileURL(report).href, { waitUntil: 'load' });
      // Given as text: the project compiles without the DOM's types, and this runs in the page.
      paints.push(await page.evaluate(`(() => {
        const paint = Object.fromEntries(performance.getEntriesByType('paint').map((e) => [e.name, e.startTime]));
        const [navigation] = performance.getEntriesByType('navigation');
        return { first: paint['first-paint'] ?? null, contentful: paint['first-contentful-paint'] ?? null, load: navigation.loadEventStart };
      })()`));
      await page.close();
    }
  } finally {
    await browser.close();
  }
  const at = (key) => median(paints.map((p) => p[key]));
  const goal = 10 * 1024 * 1024;
  console.log(machine('harden HTML report', quick));
  console.log('');
  console.log(table({ what: 'benchmark', measured: 'measured', goal: 'goal', verdict: 'verdict', rss: 'peak RSS' }, [
    { what: `check --roots DIR --profile cis --format json, ${nodes} roots (median of ${runs})`, measured: ms(baseline.ms), goal: '', verdict: '', rss: mb(baseline.rss) },
    { what: `check --roots DIR --profile cis --format html, ${nodes} roots (median of ${runs})`, measured: `${ms(render.ms)} (${(render.ms / baseline.ms).toFixed(1)}x)`, goal: '', verdict: '', rss: mb(render.rss) },
    { what: `report size, ${nodes} nodes`, measured: `${(bytes / 1024 / 1024).toFixed(2)} MB (${bytes} bytes)`, goal: '< 10 MB', verdict: bytes < goal ? 'met' : `missed by ${((bytes - goal) / 1024 / 1024).toFixed(2)} MB`, rss: '' },
    { what: 'chromium: first paint (median of 3)', measured: ms(at('first')), goal: '', verdict: '', rss: '' },
    { what: 'chromium: first contentful paint (median of 3)', measured: ms(at('contentful')), goal: '', verdict: '', rss: '' },
    { what: 'chromium: load event (median of 3)', measured: ms(at('load')), goal: '', verdict: '', rss: '' },
  ]));
} finally {
  reportCrashes(crashes);
  cleanup();
}
