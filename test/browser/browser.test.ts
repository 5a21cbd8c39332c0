import { execSync } from 'child_process';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { bundlePage, servePage } from '../../scripts/web';
import * as moon from '../../src';
import { describeInBrowser, pageGlobal, useBrowser } from './harness';
import { trainScenario, type ScenarioResult } from './scenario';

/** The page trains the shared scenario; it imports `tfjs-moon` through the package's exports map (the ESM build). */
async function startTestPage() {
  execSync('npm run build:esm', { cwd: path.join(__dirname, '..', '..'), stdio: 'ignore' });
  const bundle = await bundlePage(path.join(__dirname, 'page.ts'));
  return servePage({ '/index.html': '<!doctype html><title>tfjs-moon test</title><script src="page.js"></script>', '/page.js': bundle });
}

describeInBrowser('in a real browser (headless Chromium, webgl on SwiftShader)', () => {
  const engine = useBrowser(startTestPage);

  it('trains a MOON kit on webgl exactly as the cpu backend does, and round-trips the export through IndexedDB', async () => {
    const inBrowser = await pageGlobal<ScenarioResult>(engine, 'scenario');
    await tf.setBackend('cpu');
    const inNode = await trainScenario(tf, moon);

    expect(inBrowser.backend).toBe('webgl');
    // Exact sparsity: every masked kernel holds exactly its planned count after finalize.
    expect(inBrowser.nonzero).toEqual(inBrowser.planned);
    expect(inBrowser.density).toBeCloseTo(0.2, 2);
    // The α ramp: set from epoch 1 (after one warm-up epoch), linear to 1 at the last epoch.
    expect(inBrowser.alphas.map((a) => a.epoch)).toEqual([1, 2, 3]);
    expect(inBrowser.alphas[2].alpha).toBeCloseTo(1, 5);
    expect(inBrowser.maskUpdates).toBe(inNode.maskUpdates);
    expect(inBrowser.maskUpdates).toBeGreaterThan(0);
    expect(inBrowser.snapshots).toBe(inNode.snapshots);
    // The same run as on cpu: masks, losses and weights.
    expect(inBrowser.planned).toEqual(inNode.planned);
    expect(inBrowser.nonzero).toEqual(inNode.nonzero);
    inBrowser.losses.forEach((loss, i) => expect(loss).toBeCloseTo(inNode.losses[i], 4));
    inBrowser.alphas.forEach((a, i) => expect(a.alpha).toBeCloseTo(inNode.alphas[i].alpha, 4));
    const maxDelta = Math.max(...inBrowser.weights.map((w, i) => Math.abs(w - inNode.weights[i])));
    expect(maxDelta).toBeLessThan(1e-4);
    // exportSparse → IndexedDB → loadSparse predicts what the model predicts.
    expect(inBrowser.roundTrip).toBeLessThan(1e-6);
    // No tensor leaks in the page: flat across epochs, but for the voter's average (6 copies of the 6 trainable
    // weights) allocated at its first snapshot, in the last epoch — the same counts as in Node. (26: the loss-stall
    // watch's two scalars are among the kit's state since #22.)
    expect(inBrowser.numTensorsPerEpoch).toEqual([26, 26, 26, 32]);
    expect(inBrowser.numTensorsPerEpoch).toEqual(inNode.numTensorsPerEpoch);
  }, 180_000);

  it('bundles the package root for the browser as it is; Node-only features fail there with a typed error', async () => {
    const result = await pageGlobal<unknown>(engine, 'nodeOnly');
    expect(result).toEqual({
      threw: true, name: 'MoonConfigError', isMoonError: true,
      message: expect.stringMatching(/checkpoints \(kit.checkpoint, resumeFrom\) needs Node's file system .*exportSparse\(model, 'indexeddb:\/\/name'\)/),
    });
  }, 120_000);
});
