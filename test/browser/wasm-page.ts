// The sparse-kernels test page: on tfjs-wasm in the browser (single-threaded SIMD build, the kernels run in place on
// its heap), load a sparse model with each `kernels` choice and train a kit with kernels 'sparse' and 'dense'.
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as moon from 'tfjs-moon';
import { sparseInferenceScenario } from '../helpers/sparse-inference-scenario';

/** Two short RigL runs from one seed, dense and sparse kernels: their masks and final weights. */
async function trainBoth(): Promise<{ zerosEqual: boolean; maxWeightDifference: number; losses: number[][] }> {
  const runs: { weights: number[]; losses: number[] }[] = [];
  for (const kernels of ['dense', 'sparse'] as const) {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [20], units: 24, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
        tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      ],
    });
    const kit = moon.createMoon({ model, numClasses: 3, epochs: 3, stepsPerEpoch: 2, seed: 4, sparsity: 0.8, kernels, mask: { interval: 2 } });
    model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.05, 0.9)), loss: kit.loss });
    const x = tf.tensor2d(Array.from({ length: 32 * 20 }, (_, k) => Math.sin(0.37 * k)), [32, 20]);
    const y = kit.labels(Array.from({ length: 32 }, (_, i) => i % 3));
    const history = await model.fit(x, y, { epochs: 3, batchSize: 16, shuffle: false, verbose: 0, callbacks: [...kit.callbacks] });
    const weights = await Promise.all(model.getWeights().map((w) => w.data()));
    runs.push({ weights: weights.flatMap((w) => Array.from(w)), losses: history.history.loss as number[] });
    tf.dispose([x, y]);
    kit.dispose();
    model.dispose();
  }
  const maxWeightDifference = Math.max(...runs[0].weights.map((w, i) => Math.abs(w - runs[1].weights[i])));
  // Off-mask weights are exactly 0 in both runs: the same zeros mean the same masks.
  const zerosEqual = runs[0].weights.every((w, i) => (w === 0) === (runs[1].weights[i] === 0));
  return { zerosEqual, maxWeightDifference, losses: runs.map((r) => r.losses) };
}

(globalThis as unknown as { sparseResult: Promise<unknown> }).sparseResult = (async () => {
  setWasmPaths('/');
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not start in this browser');
  // The condition under which the kernels run in place (kernel-heap.ts): a reachable, unshared wasm memory.
  const memory = (tf.backend() as unknown as { wasm?: { asm?: { memory?: unknown } } }).wasm?.asm?.memory;
  const heapInPlace = memory instanceof WebAssembly.Memory && !(typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer);
  const inference = await sparseInferenceScenario(tf, moon);
  const training = await trainBoth();
  return { heapInPlace, inference, training };
})();
