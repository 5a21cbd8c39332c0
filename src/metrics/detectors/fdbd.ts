import * as tf from '@tensorflow/tfjs';
import { MoonConfigError } from '../../core/errors';
import { stateTensor, type DetectorMethod } from './detector-method';

/**
 * fDBD (Liu & Qin 2024): Σ_{j ≠ ŷ} |logit_ŷ − logit_j| / ‖w_ŷ − w_j‖ (the feature's distance to each decision
 * boundary), divided by ‖z − μ‖ (`normalizer: 'mean'`, μ the mean feature of the data it is fitted on; the
 * default) or by ‖z‖ (`'norm'`).
 */
export const fdbd: DetectorMethod<{ normalizer: 'mean' | 'norm' }> = {
  name: 'fdbd', needs: ['features'], defaults: { normalizer: 'mean' }, grid: { normalizer: ['mean', 'norm'] },
  check: ({ normalizer }) => {
    if (normalizer !== 'mean' && normalizer !== 'norm') throw new MoonConfigError(`fdbd: normalizer must be 'mean' or 'norm', got ${JSON.stringify(normalizer)}`);
  },
  fit: async (data) =>
    tf.tidy(() => {
      const w = tf.transpose(data.head.kernel); // [K, D]: one row per class
      const differences = tf.sub(tf.expandDims(w, 1), tf.expandDims(w, 0)); // [K, K, D]
      const norms = tf.norm(differences, 'euclidean', 2);
      const denominators = tf.add(norms, tf.eye(w.shape[0])); // the diagonal's 0 / 0 becomes 0 / 1
      return { trainMean: tf.mean(data.features, 0), denominators };
    }),
  score: (batch, state, _head, { normalizer }) => {
    const logits = batch.logits;
    const predicted = tf.argMax(logits, 1);
    const top = tf.max(logits, 1, true);
    const distances = tf.div(tf.abs(tf.sub(logits, top)), tf.gather(stateTensor(state, 'denominators'), predicted));
    const scale = normalizer === 'mean' ? tf.norm(tf.sub(batch.features, stateTensor(state, 'trainMean')), 'euclidean', 1) : tf.norm(batch.features, 'euclidean', 1);
    return tf.div(tf.sum(distances, 1), scale) as tf.Tensor1D;
  },
};
