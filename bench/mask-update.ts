/**
 * Cost of a RigL mask update per 1M weights, host top-k vs device selection, as a ratio to one training step, on
 * cpu and wasm (in this process) and webgl (in headless Debian Chromium, if installed). See mask-update-core.ts.
 *
 *   npm run bench:mask-update                   # 5 repetitions per arm and backend
 *   npm run bench:mask-update -- --reps 9
 *   npm run bench:mask-update -- --webgl-topk off   # skip webgl's tf.topk arm (about 5 minutes)
 */
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { chromium } from 'playwright-core';
import * as moon from '../src';
import { bundlePage, chromiumPath, CHROMIUM_ARGS, servePage } from '../scripts/web';
import { measureMaskUpdate, type MaskUpdateTiming } from './mask-update-core';
import { execSync } from 'child_process';

const option = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};

async function inBrowser(repetitions: number, topkRepetitions: number): Promise<MaskUpdateTiming | string> {
  const executablePath = chromiumPath();
  if (!executablePath) return 'webgl skipped: no Chromium (apt-get install chromium)';
  execSync('npm run build:esm', { cwd: path.join(__dirname, '..'), stdio: 'ignore' });
  const bundle = await bundlePage(path.join(__dirname, 'mask-update-page.ts'));
  const server = await servePage({ '/index.html': `<!doctype html><script>window.REPS=${repetitions}; window.TOPK_REPS=${topkRepetitions}</script><script src="page.js"></script>`, '/page.js': bundle });
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    page.on('console', (m) => process.stderr.write(`page: ${m.text()}\n`));
    page.on('crash', () => process.stderr.write('page: crashed\n'));
    await page.goto(server.url);
    return (await page.evaluate(() => (globalThis as unknown as { timing: Promise<MaskUpdateTiming> }).timing)) as MaskUpdateTiming;
  } catch (error) {
    return `webgl failed: ${(error as Error).message.split('\n')[0]}`;
  } finally {
    await browser.close();
    await server.close();
  }
}

async function main(): Promise<void> {
  const repetitions = Number(option('reps', '5'));
  const rows: (MaskUpdateTiming | string)[] = [];
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    rows.push(await measureMaskUpdate(tf, moon, repetitions));
  }
  // webgl: the device path and the step, then tf.topk once in a page of its own (minutes on SwiftShader).
  const webgl = await inBrowser(repetitions, 0);
  const webglTopK = option('webgl-topk', 'on') === 'on' ? await inBrowser(1, 1) : 'not measured (--webgl-topk off)';
  if (typeof webgl !== 'string' && typeof webglTopK !== 'string') rows.push({ ...webgl, updateTopK: webglTopK.updateTopK, same: webglTopK.same });
  else rows.push(webgl, ...(typeof webglTopK === 'string' ? [`webgl tf.topk: ${webglTopK}`] : []));
  console.log(`mask update of a 1024×1024 kernel (10% active, drop 30%), ${repetitions} interleaved repetitions, medians; ${os.cpus()[0].model}, ${os.cpus().length} cores, ${new Date().toISOString().slice(0, 10)}`);
  console.log('| backend | train step (ms) | update via tf.topk (ms) | update on the device (ms) | topk / step | device / step | same mask |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    if (typeof r === 'string') console.log(`| ${r} | | | | | | |`);
    else console.log(`| ${r.backend} | ${r.trainStep.toFixed(1)} | ${r.updateTopK.toFixed(1)} | ${r.updateDevice.toFixed(1)} | ${(r.updateTopK / r.trainStep).toFixed(2)} | ${(r.updateDevice / r.trainStep).toFixed(2)} | ${r.same} |`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
