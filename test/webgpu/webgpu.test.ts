import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import * as moon from '../../src';
import { trainScenario, type ScenarioResult } from '../browser/scenario';
import { detectorScenario, type DetectorScenarioResult } from '../helpers/detector-scenario';
import { expectSamePredictions, sparseInferenceScenario, type SparseInferenceResult } from '../helpers/sparse-inference-scenario';

interface Run {
  adapter: { description: string; isFallback: boolean } | null;
  scenario: ScenarioResult;
  evaluation: { accuracy: number; auroc: number; kernelDensity: number; planned: number; msp: number; syncError: string };
  sparseInference: SparseInferenceResult;
  detectors: DetectorScenarioResult;
}

/** The scenario on webgpu, in a Node process of its own (see run-scenario.ts). */
function runOnWebGpu(): Run {
  const root = path.join(__dirname, '..', '..');
  const runtime = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-moon-xdg-'));
  const out = execFileSync(process.execPath, ['-r', '@swc-node/register', path.join(__dirname, 'run-scenario.ts')], {
    cwd: root,
    env: { ...process.env, XDG_RUNTIME_DIR: runtime },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 240_000,
  });
  return JSON.parse(out.trim().split('\n').pop()!) as Run;
}

describe('WebGPU in Node (Dawn), on whatever adapter it finds (CI: Mesa lavapipe)', () => {
  let run: Run;
  beforeAll(() => {
    run = runOnWebGpu();
  }, 300_000);

  it('trains the same MOON run as the cpu backend, and evaluates without a synchronous read', async () => {
    if (run.adapter === null) {
      if (process.env.CI) throw new Error('CI needs a WebGPU adapter: .ci/run installs Mesa lavapipe from bookworm-backports');
      console.warn('webgpu test skipped: Dawn found no adapter (see the README\'s backend section for lavapipe)');
      return;
    }
    await tf.setBackend('cpu');
    const onCpu = await trainScenario(tf, moon);
    const gpu = run.scenario;
    expect(gpu.backend).toBe('webgpu');
    expect(gpu.nonzero).toEqual(gpu.planned); // exact sparsity after finalize
    expect(gpu.planned).toEqual(onCpu.planned);
    expect(gpu.nonzero).toEqual(onCpu.nonzero);
    expect(gpu.maskUpdates).toBe(onCpu.maskUpdates);
    gpu.losses.forEach((loss, i) => expect(loss).toBeCloseTo(onCpu.losses[i], 3));
    gpu.alphas.forEach((a, i) => expect(a.alpha).toBeCloseTo(onCpu.alphas[i].alpha, 3));
    expect(gpu.numTensorsPerEpoch).toEqual(onCpu.numTensorsPerEpoch);
    // The monitor, the async scores and the async sparsity report run on webgpu; a sync read throws there.
    const e = run.evaluation;
    expect(e.accuracy).toBeGreaterThanOrEqual(0);
    expect(e.auroc).toBeGreaterThanOrEqual(0);
    expect(e.auroc).toBeLessThanOrEqual(1);
    expect(e.kernelDensity).toBeCloseTo(e.planned, 6);
    expect(e.msp).toBe(16);
    expect(e.syncError).toMatch(/OffscreenCanvas|readSync|synchronous/i);
  }, 300_000);

  it("loads sparse models there: 'auto' keeps Dense layers, 'sparse' falls back to a dense product, same predictions as cpu", async () => {
    if (run.adapter === null) return; // reported by the test above
    await tf.setBackend('cpu');
    const onCpu = await sparseInferenceScenario(tf, moon);
    const gpu = run.sparseInference;
    expect(gpu.backend).toBe('webgpu');
    expect(gpu.autoLayers).toEqual(['Dense', 'Dense']);
    expect(gpu.autoExpected).toEqual(['Dense', 'Dense']); // no sparse kernels on webgpu, so no probe ran
    expect(onCpu.autoLayers).toEqual(onCpu.autoExpected); // cpu: as this machine's probe measured
    expect(gpu.sparseLayers).toEqual(['SparseDense', 'Dense']);
    expectSamePredictions([gpu.dense, gpu.auto, gpu.sparse, onCpu.auto, onCpu.sparse], onCpu);
  });

  it('fits feature-space detectors there (KNN, ViM): the same scores, threshold and decisions as cpu, no leak', async () => {
    if (run.adapter === null) return; // said above
    await tf.setBackend('cpu');
    const onCpu = await detectorScenario(tf, moon);
    const gpu = run.detectors;
    expect(gpu.backend).toBe('webgpu');
    expect(gpu.leaked).toBe(0);
    expect(gpu.knn).toHaveLength(12);
    gpu.knn.forEach((s, i) => expect(s).toBeCloseTo(onCpu.knn[i], 4));
    gpu.vim.forEach((s, i) => expect(s).toBeCloseTo(onCpu.vim[i], 3));
    expect(gpu.threshold).toBeCloseTo(onCpu.threshold, 4);
    expect(gpu.labels).toEqual(onCpu.labels);
    expect(onCpu.labels.filter((l) => l === -1).length).toBeGreaterThan(0); // the far inputs get "unknown"
  });
});
