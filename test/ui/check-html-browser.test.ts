// The HTML report in a real browser (Debian's chromium, headless, driven by puppeteer-core): it loads from its
// file with no console error and no request but its own, it shows each rule's verdict as --format json says it,
// one node and a fleet, node text that holds markup stays text, and it prints. (What runs in the page is given
// as text: this project compiles without the DOM's types.)
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Browser } from 'puppeteer-core';
import { launchChromium, openReport } from '../helpers/browser.js';
import { runBin } from '../helpers/cli.js';
import { layOutNode, makeTempDir } from '../helpers/node-root.js';

let browser: Browser;
test.before(async () => { browser = await launchChromium(); });
test.after(async () => { await browser.close(); });

type Statuses = Record<string, string>;
const STATUS = /^(PASS|FAIL|BLOCKED|WAIVED|MANUAL|NOT ASSESSED|NOT APPLICABLE)\s+(\S+)$/;

const jsonStatuses = (doc: { results: { id: string; status: string }[] }): Statuses => Object.fromEntries(doc.results.map((r) => [r.id, r.status]));

test('the example node against cis: loads cleanly, a screenshot, and every rule\'s verdict on the page is the JSON one', async () => {
  const html = runBin(['--root', 'examples/node-1.28', 'check', '--profile', 'cis', '--format', 'html']);
  const json = runBin(['--root', 'examples/node-1.28', 'check', '--profile', 'cis', '--format', 'json']);
  assert.is(html.status, 2, html.stderr);
  const { page, url, problems, requests } = await openReport(browser, html.stdout);
  try {
    assert.equal(problems, []);
    assert.equal(requests, [url], 'the page asks for nothing but itself');
    const shot = await page.screenshot({ type: 'png', fullPage: false });
    assert.equal([...shot.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    // What a person reads: each rule section's heading, as rendered text.
    const headings = await page.evaluate("[...document.querySelectorAll('section.rule > h3')].map((node) => node.innerText)") as string[];
    const shown = Object.fromEntries(headings.map((heading) => {
      const match = STATUS.exec(heading.trim());
      assert.ok(match, heading);
      return [match![2], match![1]];
    }));
    assert.equal(shown, jsonStatuses(JSON.parse(json.stdout)));
    const text = await page.evaluate('document.body.innerText') as string;
    // The summary line as the text output words it, from the JSON's counts.
    const { counts } = (JSON.parse(json.stdout) as { summary: { counts: Record<string, number> } }).summary;
    const summary = `108 rules: ${counts.PASS} passed, ${counts.FAIL} failed, ${counts.BLOCKED} blocked, ${counts.MANUAL} manual, ${counts['NOT APPLICABLE']} not applicable`;
    assert.ok(counts.FAIL > 0 && text.includes(summary), `${summary}\n${text.slice(0, 600)}`);
  } finally {
    await page.close();
  }
});

test('a fleet (--roots): the matrix as rendered holds each node\'s verdict per rule exactly as --format json', async () => {
  const dir = await makeTempDir('harden-fleet-');
  for (const [name, version] of [['node-a', '1.28'], ['node-b', '1.21'], ['node-c', '1.13']] as const) {
    await fs.mkdir(path.join(dir, name));
    await layOutNode(path.join(dir, name), { version });
  }
  const html = runBin(['check', '--roots', dir, '--profile', 'cis', '--format', 'html']);
  const json = JSON.parse(runBin(['check', '--roots', dir, '--profile', 'cis', '--format', 'json']).stdout) as Record<string, { results: { id: string; status: string }[] }>;
  const { page, problems } = await openReport(browser, html.stdout);
  try {
    assert.equal(problems, []);
    // Columns are numbered; the node table says which root each number is.
    const roots = await page.evaluate("[...document.querySelectorAll('table.nodes tbody tr')].map((row) => row.children[1].innerText)") as string[];
    const rows = await page.evaluate("[...document.querySelectorAll('table.matrix tbody tr')].map((tr) => [...tr.children].map((cell) => cell.innerText))") as string[][];
    const matrix: Record<string, Statuses> = Object.fromEntries(roots.map((root) => [root, {}]));
    for (const [id, ...cells] of rows) cells.forEach((status, index) => { if (status !== '—') matrix[roots[index]][id] = status; });
    assert.equal(matrix, Object.fromEntries(Object.entries(json).map(([root, doc]) => [root, jsonStatuses(doc)])));
  } finally {
    await page.close();
  }
});

test('a root and an args file holding </style>, <script> and <img onerror>: shown as text, nothing runs, nothing is fetched', async () => {
  const root = path.join(await makeTempDir(), 'a</style><script>window.pwned=1</script>');
  await fs.mkdir(root, { recursive: true });
  await layOutNode(root, { version: '1.28' });
  const args = path.join(root, 'var/snap/microk8s/current/args/kube-apiserver');
  const value = 'AlwaysAllow,<img/src=x/onerror=window.pwned=2></style><script>window.pwned=3</script>';
  await fs.writeFile(args, (await fs.readFile(args, 'utf8')).replace('--authorization-mode=AlwaysAllow', `--authorization-mode="${value}"`));
  const html = runBin(['--root', root, 'check', '--format', 'html']);
  assert.is(html.status, 2, html.stderr);
  const { page, url, problems, requests } = await openReport(browser, html.stdout);
  try {
    assert.equal(problems, []);
    assert.equal(requests, [url]);
    assert.is(await page.evaluate('window.pwned'), undefined);
    assert.is(await page.evaluate("document.querySelectorAll('script, img').length"), 0);
    const text = await page.evaluate('document.body.innerText') as string;
    assert.ok(text.includes(`Root\t${root}`), 'the root, as text');
    assert.ok(text.includes(`--authorization-mode=${value} (line 3)`), 'the found value, as text');
  } finally {
    await page.close();
  }
});

test('printed: the print stylesheet applies (10pt, rule sections kept whole) and the page makes a PDF', async () => {
  const html = runBin(['--root', 'examples/node-1.28', 'check', '--profile', 'cis', '--format', 'html']);
  const { page } = await openReport(browser, html.stdout);
  try {
    await page.emulateMediaType('print');
    const style = await page.evaluate("[getComputedStyle(document.body).fontSize, getComputedStyle(document.querySelector('section.rule')).breakInside]");
    assert.equal(style, ['13.3333px', 'avoid']);
    const pdf = await page.pdf({ format: 'A4' });
    assert.is(Buffer.from(pdf.subarray(0, 5)).toString('latin1'), '%PDF-');
  } finally {
    await page.close();
  }
});

test.run();
