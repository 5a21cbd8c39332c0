import { chromium, type Browser } from 'playwright-core';
import { chromiumPath, CHROMIUM_ARGS, type PageServer } from '../../scripts/web';

const executablePath = chromiumPath();

/**
 * `describe` when Debian's Chromium is there (or under CI, where its absence must fail), else `describe.skip` with a
 * warning: a newcomer's `npm test` without a browser skips these suites and says why.
 */
export const describeInBrowser = executablePath || process.env.CI ? describe : describe.skip;
if (!executablePath && !process.env.CI) console.warn('browser tests skipped: no Chromium (apt-get install chromium, or set CHROMIUM_PATH)');

/**
 * Starts a page server and a headless Chromium for the suite it is called in, and stops both after it.
 * @returns getters for the two (set once beforeAll has run)
 */
export function useBrowser(startServer: () => Promise<PageServer>): { browser: () => Browser; server: () => PageServer } {
  let browser: Browser | undefined;
  let server: PageServer | undefined;
  beforeAll(async () => {
    if (!executablePath) throw new Error('CI needs Chromium for the browser tests: apt-get install chromium');
    server = await startServer();
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  return { browser: () => browser!, server: () => server! };
}

/**
 * Opens a page of the suite's server, awaits the promise the page publishes as `globalThis[name]`, and closes the
 * page. Fails on any uncaught error in the page.
 */
export async function pageGlobal<T>(engine: { browser: () => Browser; server: () => PageServer }, name: string): Promise<T> {
  const page = await engine.browser().newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(engine.server().url);
    const value = await page.evaluate((key) => (globalThis as unknown as Record<string, unknown>)[key], name);
    expect(errors).toEqual([]);
    return value as T;
  } finally {
    await page.close();
  }
}
