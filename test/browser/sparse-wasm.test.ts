import { execSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { bundlePage, servePage } from '../../scripts/web';
import * as moon from '../../src';
import { expectSamePredictions, sparseInferenceScenario, type SparseInferenceResult } from '../helpers/sparse-inference-scenario';
import { describeInBrowser, pageGlobal, useBrowser } from './harness';

const ROOT = path.join(__dirname, '..', '..');
const WASM_DIR = path.join(ROOT, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');

/** The page (wasm-page.ts) and tfjs-wasm's binaries, served from one origin. */
async function startWasmPage() {
  execSync('npm run build:esm', { cwd: ROOT, stdio: 'ignore' });
  const bundle = await bundlePage(path.join(__dirname, 'wasm-page.ts'));
  const binaries = Object.fromEntries(fs.readdirSync(WASM_DIR).filter((f) => f.endsWith('.wasm')).map((f) => [`/${f}`, fs.readFileSync(path.join(WASM_DIR, f))]));
  return servePage({ '/index.html': '<!doctype html><title>tfjs-moon sparse kernels</title><script src="page.js"></script>', '/page.js': bundle, ...binaries });
}

interface PageResult {
  heapInPlace: boolean;
  inference: SparseInferenceResult;
  training: { zerosEqual: boolean; maxWeightDifference: number; losses: number[][] };
}

describeInBrowser('sparse kernels on tfjs-wasm in a real browser (headless Chromium)', () => {
  const engine = useBrowser(startWasmPage);

  it("loads sparse models (SparseDense on the page's wasm heap) and trains with kernels 'sparse' as with 'dense'", async () => {
    const result = await pageGlobal<PageResult>(engine, 'sparseResult');
    expect(result.heapInPlace).toBe(true); // tfjs-wasm's single-threaded build: the kernels run on its heap, no copies
    await tf.setBackend('cpu');
    const onCpu = await sparseInferenceScenario(tf, moon);
    const inPage = result.inference;
    expect(inPage.backend).toBe('wasm');
    expect(inPage.autoLayers).toEqual(inPage.autoExpected); // as the page's own probe measured
    expect(inPage.sparseLayers).toEqual(['SparseDense', 'Dense']);
    expectSamePredictions([inPage.dense, inPage.auto, inPage.sparse], onCpu);
    expect(result.training.zerosEqual).toBe(true);
    expect(result.training.maxWeightDifference).toBeLessThan(1e-5);
    result.training.losses[1].forEach((loss, i) => expect(loss).toBeCloseTo(result.training.losses[0][i], 4));
  }, 180_000);
});
