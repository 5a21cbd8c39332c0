import * as tf from '@tensorflow/tfjs';
import { MoonConfigError } from '../../core/errors';
import { leafLayers } from '../../core/layers';

/** TF.js keeps BatchNormalization's momentum private but reads it on every call. */
type WithMomentum = { momentum: number };

/** Every BatchNormalization layer of `model`, nested models included. */
export function findBatchNormLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return leafLayers(model).filter((layer) => layer.getClassName() === 'BatchNormalization');
}

/**
 * Checks that `x` can be fed to `model` for the BatchNorm refresh, before any weight is written: a live tensor of
 * at least one sample whose shape matches the model's single input, and one sample that runs through the model
 * (inference mode, so no statistic moves). Throws a {@link MoonConfigError} saying what was expected.
 */
export function checkRefreshInput(model: tf.LayersModel, x: tf.Tensor): void {
  const where = 'finalize: the BatchNorm refresh input';
  if (x.isDisposed) throw new MoonConfigError(`${where} was disposed: pass the training inputs as a live tensor`);
  if (model.inputs.length !== 1) {
    throw new MoonConfigError(`${where}: the model has ${model.inputs.length} inputs; refresh takes one tensor (pass refreshBatchNorm: false and refresh the statistics yourself)`);
  }
  const expected = model.inputs[0].shape;
  const fits = x.shape.length === expected.length && expected.every((d, i) => i === 0 || d === null || d === x.shape[i]);
  if (!fits || x.shape[0] < 1) {
    const want = `[N, ${expected.slice(1).map((d) => d ?? '?').join(', ')}] with N ≥ 1`;
    throw new MoonConfigError(`${where} has shape [${x.shape.join(', ')}], the model takes ${want}: pass the training inputs (kit.finalize(xTrain))`);
  }
  try {
    tf.tidy(() => {
      model.apply(tf.slice(x, 0, 1), { training: false });
    });
  } catch (err) {
    throw new MoonConfigError(`${where} does not run through the model (${(err as Error).message}): pass the training inputs (kit.finalize(xTrain))`);
  }
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
