/**
 * Sparse inference speed: a model loaded with `loadSparse(…, { kernels: 'auto' })` against the same export
 * loaded dense, as the ratio sparse time / dense time of `model.predict`, interleaved in one process (dense, sparse,
 * dense, sparse…; the median of per-repetition ratios), on the cpu and wasm backends. Also checks that both give
 * the same predictions, and sweeps the density to find where sparse stops paying (the crossover `kernels: 'auto'`
 * uses).
 *
 *   npm run bench:sparse                  # 7 repetitions, all cases (about 10 minutes on 2 cores)
 *   npm run bench:sparse -- --reps 3 --skip-cpu-4096
 */
import * as os from 'os';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { loadSparse } from '../src';
import { applyErkMasks, inMemory, lenet, square } from './helpers/sparse-models';

const option = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

interface Case {
  name: string;
  build: () => tf.LayersModel;
  /** Global density; per-layer densities follow ERK (which keeps LeNet's small head dense at 90%). */
  density: number;
  batches: number[];
  /** Repetitions on the cpu backend, where the dense product is slow. */
  cpuReps?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Milliseconds per predict of `x` in one batch, over `calls` calls (the read makes the work finish). */
function timePredict(model: tf.LayersModel, x: tf.Tensor, calls: number): number {
  const start = performance.now();
  for (let i = 0; i < calls; i++) {
    const y = model.predict(x, { batchSize: x.shape[0] }) as tf.Tensor;
    y.dataSync();
    y.dispose();
  }
  return (performance.now() - start) / calls;
}

/** Calls per timed sample so that the slower model takes about 30 ms (sub-millisecond calls are timer noise). */
const callsPerSample = (slowerMs: number): number => Math.max(1, Math.round(30 / slowerMs));

interface Row {
  backend: string;
  name: string;
  densities: string;
  /** Per layer: S where 'auto' made a SparseDense layer, D where it kept Dense. */
  layers: string;
  batch: number;
  denseMs: number;
  sparseMs: number;
  ratio: number;
  maxDiff: number;
}

/** Dense and sparse predicts of the same batch, interleaved, after two warm-up calls each. */
function compare(dense: tf.LayersModel, sparse: tf.LayersModel, batch: number, inDim: number, reps: number): Omit<Row, 'backend' | 'name' | 'densities' | 'layers'> {
  const x = tf.randomNormal([batch, inDim], 0, 1, 'float32', batch);
  const [a, b] = [dense.predict(x) as tf.Tensor, sparse.predict(x) as tf.Tensor];
  const maxDiff = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
  tf.dispose([a, b]);
  // Warm-up (JIT, XNNPACK's packed weights), then enough calls per sample.
  const warm = Math.max(timePredict(dense, x, 3), timePredict(sparse, x, 3));
  const calls = callsPerSample(warm);
  timePredict(dense, x, calls), timePredict(sparse, x, calls);
  const ratios: number[] = [];
  const denseTimes: number[] = [];
  const sparseTimes: number[] = [];
  for (let r = 0; r < reps; r++) {
    const d = timePredict(dense, x, calls);
    const s = timePredict(sparse, x, calls);
    denseTimes.push(d);
    sparseTimes.push(s);
    ratios.push(s / d);
  }
  x.dispose();
  return { batch, denseMs: median(denseTimes), sparseMs: median(sparseTimes), ratio: median(ratios), maxDiff };
}

async function runCase(c: Case, backend: string, reps: number): Promise<Row[]> {
  const model = c.build();
  const densities = applyErkMasks(model, c.density, 1);
  const source = await inMemory(model);
  const dense = await loadSparse(source, { kernels: 'dense' });
  const sparse = await loadSparse(source, { kernels: 'auto' });
  const inDim = model.inputs[0].shape[1]!;
  const layers = sparse.layers.map((l) => (l.getClassName() === 'SparseDense' ? 'S' : 'D')).join('');
  const rows = c.batches.map((batch) => ({ backend, name: c.name, densities, layers, ...compare(dense, sparse, batch, inDim, reps) }));
  [model, dense, sparse].forEach((m) => m.dispose());
  return rows;
}

async function main(): Promise<void> {
  const reps = Number(option('reps', '7'));
  const cases: Case[] = [
    { name: 'LeNet-300-100, 90% (ERK)', build: lenet, density: 0.1, batches: [1, 32, 256] },
    { name: 'LeNet-300-100, 95% (ERK)', build: lenet, density: 0.05, batches: [1, 32, 256] },
    { name: '4096² layer, 90%', build: square(4096), density: 0.1, batches: [1, 32, 64, 256], cpuReps: 3 },
    { name: '4096² layer, 95%', build: square(4096), density: 0.05, batches: [1, 32, 64, 256], cpuReps: 3 },
  ];
  const rows: Row[] = [];
  for (const backend of ['wasm', 'cpu']) {
    await tf.setBackend(backend);
    for (const c of cases) {
      if (backend === 'cpu' && c.name.startsWith('4096') && flag('skip-cpu-4096')) continue;
      process.stderr.write(`${backend}: ${c.name}\n`);
      rows.push(...(await runCase(c, backend, backend === 'cpu' ? Math.min(reps, c.cpuReps ?? reps) : reps)));
      await sleep(0); // let stderr flush
    }
  }
  console.log(`sparse/dense predict time, ${reps} interleaved repetitions (medians; 3 for cpu's 4096² cases); ${os.cpus()[0].model}, ${os.cpus().length} cores, Node ${process.version}, tfjs ${tf.version.tfjs}, ${new Date().toISOString().slice(0, 10)}`);
  console.log('| backend | model | layer densities | layers (auto) | batch | dense (ms) | sparse (ms) | sparse / dense | speed-up | max |Δ| |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    console.log(`| ${r.backend} | ${r.name} | ${r.densities} | ${r.layers} | ${r.batch} | ${r.denseMs.toFixed(3)} | ${r.sparseMs.toFixed(3)} | ${r.ratio.toFixed(3)} | ${(1 / r.ratio).toFixed(1)}× | ${r.maxDiff.toExponential(1)} |`);
  }
  if (!flag('skip-crossover')) await crossover(reps);
}

/** Where sparse stops paying: one 1024×1024 layer (ReLU) at densities 0.05…0.9, batch 1 and 32. */
async function crossover(reps: number): Promise<void> {
  const densities = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 0.9];
  console.log('\ncrossover: one 1024×1024 ReLU layer, sparse / dense predict time');
  console.log(`| backend | batch | ${densities.join(' | ')} |`);
  console.log(`| --- | --- | ${densities.map(() => '---').join(' | ')} |`);
  for (const backend of ['wasm', 'cpu']) {
    await tf.setBackend(backend);
    for (const batch of [1, 32]) {
      const ratios: string[] = [];
      for (const density of densities) {
        const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [1024], units: 1024, activation: 'relu' })] });
        applyErkMasks(model, density, 2);
        const source = await inMemory(model);
        const [dense, sparse] = [await loadSparse(source), await loadSparse(source, { kernels: 'sparse' })]; // 'sparse': the layer converts at any density
        ratios.push(compare(dense, sparse, batch, 1024, reps).ratio.toFixed(2));
        [model, dense, sparse].forEach((m) => m.dispose());
      }
      console.log(`| ${backend} | ${batch} | ${ratios.join(' | ')} |`);
    }
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
