/**
 * The guide's fine-tuning recipe (docs/guide.md, "From a trained dense model"), runnable: it loads a plain TF.js
 * model from disk with `@tensorflow/tfjs` alone (no tfjs-node), adds the unknown output, prunes it to 90% while it
 * fine-tunes, and saves it compact. test/plain-models.test.ts runs it on a model it trains first, and checks that
 * the guide shows exactly the code between the region markers.
 */
import * as tf from '@tensorflow/tfjs';
import { addUnknownHead, createMoon, exportSparse, fileSystem } from 'tfjs-moon';

export async function fineTune(x: tf.Tensor, y: tf.Tensor, K: number, from: string, to: string, epochs = 10): Promise<tf.LayersModel> {
  const batchSize = 64;
  const stepsPerEpoch = Math.ceil(x.shape[0] / batchSize);
  // #region fine-tune
  const trained = await tf.loadLayersModel(fileSystem(`file://${from}`)); // or loadSparse(…); K outputs; no tfjs-node needed
  const model = addUnknownHead(trained); // K + 1 outputs: "unknown" last
  const kit = createMoon({
    model, numClasses: K, epochs, stepsPerEpoch, sparsity: 0.9,
    sparsifier: 'static', // prune and fine-tune, no regrowth (or 'rigl' after pruning)
    mask: { init: 'magnitude' }, // start from the largest weights, not random ones
    prune: { schedule: 'polynomial' }, // dense → 90% over the first half of the run
  });
  model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.01, 0.9)), loss: kit.loss });
  await model.fit(x, kit.labels(y), { epochs, batchSize, callbacks: [...kit.callbacks] });
  await kit.finalize(x);
  await exportSparse(model, `file://${to}`); // compact: about a tenth of the dense bytes
  // #endregion fine-tune
  kit.dispose();
  return model;
}
