/// <reference lib="dom" />
import { startDemoServer } from '../../scripts/demo-web';
import { describeInBrowser, useBrowser } from './harness';

describeInBrowser('the demo page (npm run demo:web)', () => {
  const engine = useBrowser(() => startDemoServer(0));

  it('trains in the page with live charts, then answers a drawn digit with its confidence and p(unknown)', async () => {
    const page = await engine.browser().newPage({ viewport: { width: 1400, height: 760 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${engine.server().url}?epochs=2&limit=1200`); // a short run: the default is 8 epochs on every digit
    await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state ?? ''), null, { timeout: 180_000 });
    expect(await page.textContent('#status')).toMatch(/^done: 10\.0% of the weights active, test accuracy \d+\.\d% \(voted weights\)/);
    // Each chart holds data, and its canvas has drawn pixels (not a blank box).
    const charts = await page.evaluate(() =>
      ['chart-progress', 'chart-density', 'chart-scores'].map((id) => {
        const element = document.getElementById(id)!;
        const canvas = element.querySelector('canvas')!;
        const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let inked = 0;
        for (let i = 0; i < pixels.length; i += 4) if (pixels[i + 3] > 0 && pixels[i] + pixels[i + 1] + pixels[i + 2] < 600) inked++;
        return { id, rows: Number(element.dataset.rows), width: canvas.width, inked };
      }),
    );
    for (const c of charts) {
      expect(c.rows).toBeGreaterThan(0);
      expect(c.width).toBeGreaterThan(200);
      expect(c.inked).toBeGreaterThan(500);
    }
    expect(charts[0].rows).toBe(4); // loss and α for each of 2 epochs
    expect(charts[1].rows).toBe(3); // three masked layers
    // Draw a "1" and read the answer.
    const box = (await page.locator('#pad').boundingBox())!;
    await page.mouse.move(box.x + 140, box.y + 50);
    await page.mouse.down();
    for (let y = 50; y <= 230; y += 10) await page.mouse.move(box.x + 140, box.y + y);
    await page.mouse.up();
    await page.waitForFunction(() => document.body.dataset.predicted === 'yes', null, { timeout: 20_000 });
    expect(await page.textContent('#answer')).toMatch(/^([0-5]|I don't know)$/);
    expect(await page.textContent('#confidence')).toMatch(/^\d+\.\d% for [0-5]$/);
    const unknown = Number((await page.textContent('#unknown'))!.replace('%', ''));
    expect(unknown).toBeGreaterThanOrEqual(0);
    expect(unknown).toBeLessThanOrEqual(100);
    const screenshot = await page.screenshot({ path: process.env.DEMO_SCREENSHOT });
    expect(screenshot.length).toBeGreaterThan(30_000); // a rendered page, not a blank one
    expect(errors).toEqual([]);
    await page.close();
  }, 240_000);
});
