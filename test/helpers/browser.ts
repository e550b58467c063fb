// A real browser for the HTML report: Debian's chromium (installed by .ci/run) driven by puppeteer-core, which
// never downloads a browser of its own. Headless and without the sandbox (CI runs as root), nothing fetched in
// the background. A page opened here records every console error, page error and failed request.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { makeTempDir } from './node-root.js';

export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

export function launchChromium(): Promise<Browser> {
  return puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

export interface OpenedReport {
  readonly page: Page;
  readonly url: string;
  /** Console messages of type error, uncaught page errors, and requests that failed or were answered >= 400. */
  readonly problems: string[];
  /** Every URL the page requested (the report's own file:// URL among them). */
  readonly requests: string[];
}

/** Writes `html` to a file and opens it from its file:// URL in a new page, waiting until it has loaded. */
export async function openReport(browser: Browser, html: string, viewport = { width: 1200, height: 900 }): Promise<OpenedReport> {
  const file = path.join(await makeTempDir('harden-report-'), 'report.html');
  await fs.writeFile(file, html);
  const page = await browser.newPage();
  await page.setViewport(viewport);
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => { if (message.type() === 'error') problems.push(`console: ${message.text()}`); });
  page.on('pageerror', (error) => { problems.push(`page error: ${String(error)}`); });
  page.on('request', (request) => { requests.push(request.url()); });
  page.on('requestfailed', (request) => { problems.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`); });
  page.on('response', (response) => { if (response.status() >= 400) problems.push(`response ${response.status()}: ${response.url()}`); });
  const url = pathToFileURL(file).href;
  await page.goto(url, { waitUntil: 'load' });
  return { page, url, problems, requests };
}
