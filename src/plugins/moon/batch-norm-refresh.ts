import * as tf from '@tensorflow/tfjs';
import { leafLayers } from '../../core/layers';

/** TF.js keeps BatchNormalization's momentum private but reads it on every call. */
type WithMomentum = { momentum: number };

/** Every BatchNormalization layer of `model`, nested models included. */
export function findBatchNormLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return leafLayers(model).filter((layer) => layer.getClassName() === 'BatchNormalization');
}

/**
 * Re-estimates the moving mean and variance of every BatchNormalization layer from one pass over `x`, as the
 * sample-weighted average of the per-batch statistics (the reference's `bn_update`). TF.js updates them only under
 * `model.apply(x, { training: true })`, as moving ← moving − (moving − batch)·(1 − momentum); setting the momentum
 * to n/(n + b) before a batch of b samples (n seen so far) makes that update the exact running average. The first
 * batch has momentum 0, so the old statistics do not matter. Momenta are restored afterwards, even on error.
 * @returns the number of samples seen.
 */
export function refreshBatchNorm(model: tf.LayersModel, layers: readonly tf.layers.Layer[], x: tf.Tensor, batchSize: number): number {
  const momenta = layers.map((l) => (l as unknown as WithMomentum).momentum);
  let seen = 0;
  try {
    for (let start = 0; start < x.shape[0]; start += batchSize) {
      const size = Math.min(batchSize, x.shape[0] - start);
      for (const l of layers) (l as unknown as WithMomentum).momentum = seen / (seen + size);
      tf.tidy(() => {
        model.apply(tf.slice(x, start, size), { training: true });
      });
      seen += size;
    }
  } finally {
    layers.forEach((l, i) => ((l as unknown as WithMomentum).momentum = momenta[i]));
  }
  return seen;
}
