import http, { type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { startProcessHarness, type ProcessHarness } from './process-harness';

/** The system Chromium (Debian's `chromium` package; .ci/run installs it when missing). No browser is downloaded. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where browser tests keep their screenshots (git-ignored). */
export const ARTIFACTS_DIR = path.join(__dirname, '..', 'artifacts');

const inCi = (process.env.CI ?? '') !== '' && process.env.CI !== 'false' && process.env.CI !== '0';

/**
 * Whether the browser tests run here: always in CI (where a missing Chromium must fail, not skip),
 * elsewhere only when Chromium is installed. `reason` says why they are skipped.
 */
export function browserTests(): { run: true } | { run: false; reason: string } {
  if (inCi || fs.existsSync(CHROMIUM_PATH)) return { run: true };
  return { run: false, reason: `skipped: no Chromium at ${CHROMIUM_PATH} (install it with \`apt-get install -y chromium\`, or set CHROMIUM_PATH); in CI these tests always run` };
}

/** `describe` for a browser test: where Chromium is absent outside CI, skipped, and the reason printed. */
export function describeInBrowser(title: string, body: () => void): void {
  const mode = browserTests();
  if (mode.run) {
    describe(title, body);
    return;
  }
  console.warn(`${title}: ${mode.reason}`);
  describe.skip(`${title} (${mode.reason})`, body);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** The file a screenshot is saved to, the folder made if needed. */
export function artifactPath(name: string): string {
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return path.join(ARTIFACTS_DIR, name);
}

/** An app served on a free port of 127.0.0.1 for the browser to open: its base URL, and how to stop it. */
export async function serveForBrowser(app: RequestListener): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const server = http.createServer(app);
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface BrowserHarness {
  h: ProcessHarness;
  browser: Browser;
  /** Where the app listens for the browser. */
  baseUrl: string;
  close(): Promise<void>;
}

/**
 * What a browser test of a process needs, all real: the process harness with a worker running,
 * Chromium, and the app (the harness's, or one built on it) served on a free port.
 */
export async function startBrowserHarness(options: { startTime?: string; app?: (h: ProcessHarness) => RequestListener } = {}): Promise<BrowserHarness> {
  const [h, browser] = await Promise.all([startProcessHarness({ startTime: options.startTime }), launchChromium()]);
  await h.startWorker();
  const served = await serveForBrowser(options.app ? options.app(h) : h.app);
  return {
    h,
    browser,
    baseUrl: served.baseUrl,
    async close() {
      await browser.close();
      await served.close();
      await h.close();
    },
  };
}
