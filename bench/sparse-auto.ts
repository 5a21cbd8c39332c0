/**
 * 'auto' never makes a layer slower (issue #24, item 5): for single Dense layers of several shapes and densities,
 * loads the same export with `kernels: 'auto'` and `'dense'`, and for every layer 'auto' converted, times both
 * models' predict interleaved (dense, auto, dense, …) at batch 1 and 32. Exits 1 when a converted layer's median
 * auto / dense ratio is above 1 at either batch.
 *
 *   npm run bench:auto                  # wasm, 7 repetitions
 *   npm run bench:auto -- --backend cpu --reps 5
 */
import * as os from 'os';
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { loadSparse, probeResults } from '../src';
import { inMemory } from './helpers/sparse-models';

const option = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
// Read before the wasm glue rewrites process.argv at setBackend.
const backend = option('backend', 'wasm');
const reps = Number(option('reps', '7'));

const SHAPES: Array<[number, number]> = [[64, 64], [100, 10], [300, 100], [784, 300], [1024, 1024]];
const DENSITIES = [0.05, 0.15, 0.3];
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One Dense layer with about `density` of its weights kept, seeded. */
function layer(inDim: number, units: number, density: number): tf.LayersModel {
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [inDim], units, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) })] });
  const [kernel, bias] = model.getWeights();
  let state = 5;
  const values = kernel.dataSync().map((v) => (((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32 < density ? v : 0)));
  model.setWeights([tf.tensor(values, kernel.shape), bias]);
  return model;
}

function msPerPredict(model: tf.LayersModel, x: tf.Tensor, calls: number): number {
  const start = performance.now();
  for (let i = 0; i < calls; i++) tf.dispose(model.predict(x));
  return (performance.now() - start) / calls;
}

async function main(): Promise<void> {
  await tf.setBackend(backend);
  const rows: Array<Record<string, unknown>> = [];
  let slower = 0;
  for (const [inDim, units] of SHAPES) {
    for (const density of DENSITIES) {
      const source = await inMemory(layer(inDim, units, density));
      const [auto, dense] = [await loadSparse(source, { kernels: 'auto' }), await loadSparse(source, { kernels: 'dense' })];
      const converted = auto.layers[0].getClassName() === 'SparseDense';
      const ratios: Record<string, number> = {};
      if (converted) {
        for (const batch of [1, 32]) {
          const x = tf.randomNormal([batch, inDim], 0, 1, 'float32', 1);
          const calls = Math.max(1, Math.round(20 / Math.max(msPerPredict(dense, x, 3), 1e-3)));
          const samples: number[] = [];
          for (let r = 0; r < reps; r++) {
            const d = msPerPredict(dense, x, calls);
            samples.push(msPerPredict(auto, x, calls) / d);
          }
          ratios[`batch ${batch}`] = +median(samples).toFixed(3);
          if (ratios[`batch ${batch}`] > 1) slower++;
          x.dispose();
        }
      }
      const row = { shape: `${inDim}x${units}`, density, converted, autoOverDense: ratios };
      console.log(JSON.stringify(row));
      rows.push(row);
      tf.dispose([auto, dense].flatMap((m) => m.getWeights()));
    }
  }
  const out = { command: `npm run bench:auto -- --backend ${backend} --reps ${reps}`, date: new Date().toISOString().slice(0, 10), machine: `${os.cpus().length} × ${os.cpus()[0].model.trim()}`, node: process.version, tfjs: tf.version.tfjs, rows, probes: probeResults() };
  fs.mkdirSync('bench/results', { recursive: true });
  fs.writeFileSync(`bench/results/sparse-auto-${backend}.json`, JSON.stringify(out, null, 1));
  console.log(slower === 0 ? 'every layer auto converted is at least as fast as dense' : `${slower} converted layer/batch pairs were slower than dense`);
  process.exitCode = slower === 0 ? 0 : 1;
}

void main();
