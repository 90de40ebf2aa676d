/**
 * A real browser for the page tests: Debian's chromium (installed by the test-services harness)
 * driven by playwright-core, headless. Console errors and failed requests are collected, since a
 * page must have none; screenshots go to the artifacts folder.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type Page, chromium } from 'playwright-core';
import { findChromium } from '../services/chromium.js';
import { ENV_CHROMIUM } from '../services/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Where screenshots go: $ECHOLAKE_TEST_ARTIFACTS, else test-artifacts/ in the repo (ignored by git). */
export function artifactsDir(): string {
  const dir = process.env.ECHOLAKE_TEST_ARTIFACTS ?? join(root, 'test-artifacts', 'web');
  mkdirSync(dir, { recursive: true });
  return dir;
}

export async function launchBrowser(): Promise<Browser> {
  const executablePath = process.env[ENV_CHROMIUM] || findChromium();
  if (executablePath === undefined) {
    throw new Error(
      `no chromium: set ${ENV_CHROMIUM}, run the tests through the harness (npm test, or test/services/cli.ts run), ` +
        'or apt-get install -y chromium',
    );
  }
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

export interface WatchedPage {
  page: Page;
  /** Console errors, uncaught exceptions and failed requests seen so far. */
  problems: string[];
}

/** `timezoneId`: the viewer's time zone (the browser's own by default), to tell it from a site's. */
export async function openPage(browser: Browser, options: { width: number; height: number; locale?: string; timezoneId?: string }): Promise<WatchedPage> {
  const context = await browser.newContext({
    viewport: { width: options.width, height: options.height },
    locale: options.locale ?? 'en-GB',
    ...(options.timezoneId === undefined ? {} : { timezoneId: options.timezoneId }),
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`exception: ${err.message}`));
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`));
  return { page, problems };
}
