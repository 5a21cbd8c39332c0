import * as tf from '@tensorflow/tfjs';
import { MoonConfigError } from '../../core/errors';
import { stateTensor, type DetectorFitData, type DetectorMethod, type DetectorState } from './detector-method';
import { pseudoInverseSymmetric } from './symmetric-eigen';

/** Per-class means [C, D] of the features and their class-centred features, on the device. */
function classMeans(data: DetectorFitData): { means: tf.Tensor2D; centred: tf.Tensor2D } {
  const labels = data.labels!;
  const counts = new Array(data.numClasses).fill(0);
  for (const l of labels) counts[l]++;
  const empty = counts.findIndex((c) => c === 0);
  if (empty >= 0) throw new MoonConfigError(`class ${empty} has no sample in the data the detector is fitted on: every class needs at least one`);
  return tf.tidy(() => {
    const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), data.numClasses).toFloat();
    const means = tf.div(tf.matMul(onehot, data.features, true, false), tf.tensor1d(counts).reshape([-1, 1])) as tf.Tensor2D;
    return { means, centred: tf.sub(data.features, tf.matMul(onehot, means)) as tf.Tensor2D };
  });
}

/**
 * The pseudo-inverse (scipy's `pinvh`) of the maximum-likelihood covariance Xᵀ X / N of centred rows X (sklearn's
 * EmpiricalCovariance on centred data, as OpenOOD fits it): the D × D covariance is formed on the device, read once,
 * and inverted in float64 on the host.
 */
export async function precisionOf(centred: tf.Tensor2D): Promise<tf.Tensor2D> {
  const [n, d] = centred.shape;
  const covariance = tf.tidy(() => tf.div(tf.matMul(centred, centred, true, false), n));
  const values = await covariance.data();
  covariance.dispose();
  return tf.tensor2d(Float32Array.from(pseudoInverseSymmetric(values, d)), [d, d]);
}

/** −(z − μ)ᵀ P (z − μ) per row. */
function negativeDistance(z: tf.Tensor2D, mean: tf.Tensor, precision: tf.Tensor2D): tf.Tensor1D {
  const diff = tf.sub(z, mean) as tf.Tensor2D;
  return tf.neg(tf.sum(tf.mul(tf.matMul(diff, precision), diff), 1)) as tf.Tensor1D;
}

/** The class-conditional statistics both methods share: class means and the shared (class-centred) precision. */
async function fitClassGaussians(data: DetectorFitData): Promise<DetectorState> {
  const { means, centred } = classMeans(data);
  const precision = await precisionOf(centred);
  centred.dispose();
  return { means, precision };
}

/** Per row, −(d_c) for every class c: [B, C]. */
function classScores(z: tf.Tensor2D, state: DetectorState): tf.Tensor2D {
  const means = stateTensor<tf.Tensor2D>(state, 'means');
  const precision = stateTensor<tf.Tensor2D>(state, 'precision');
  const columns = tf.unstack(means).map((mean) => negativeDistance(z, mean, precision));
  return tf.stack(columns, 1) as tf.Tensor2D;
}

/**
 * Mahalanobis (Lee et al. 2018; OpenOOD's MDS): class means and one shared covariance of the features it is fitted
 * on (maximum likelihood, divided by N); score = max_c −(z − μ_c)ᵀ Σ⁻¹ (z − μ_c). Needs labels.
 */
export const mahalanobis: DetectorMethod<Record<string, never>> = {
  name: 'mahalanobis', needs: ['features', 'labels'], defaults: {},
  fit: fitClassGaussians,
  score: (batch, state) => tf.max(classScores(batch.features, state), 1) as tf.Tensor1D,
};

/**
 * Relative Mahalanobis (Ren et al. 2021; OpenOOD's RMDS): the class distances minus the distance under one global
 * mean and covariance of the same features (the "background"); score = max_c −(d_c − d_background). Needs labels.
 */
export const rmds: DetectorMethod<Record<string, never>> = {
  name: 'rmds', needs: ['features', 'labels'], defaults: {},
  fit: async (data) => {
    const classes = await fitClassGaussians(data);
    const wholeMean = tf.tidy(() => tf.mean(data.features, 0));
    const centred = tf.tidy(() => tf.sub(data.features, wholeMean) as tf.Tensor2D);
    const wholePrecision = await precisionOf(centred);
    centred.dispose();
    return { ...classes, wholeMean, wholePrecision };
  },
  score: (batch, state) => {
    const background = negativeDistance(batch.features, stateTensor(state, 'wholeMean'), stateTensor(state, 'wholePrecision'));
    return tf.max(tf.sub(classScores(batch.features, state), background.reshape([-1, 1])), 1) as tf.Tensor1D;
  },
};
