import * as tf from '@tensorflow/tfjs';
import { MoonConfigError } from '../../core/errors';
import { stateTensor, type DetectorMethod } from './detector-method';

/** z / (‖z‖ + 1e-10), per row, as OpenOOD normalises before its faiss search. */
function normalised(z: tf.Tensor2D): tf.Tensor2D {
  return tf.div(z, tf.add(tf.norm(z, 'euclidean', 1, true), 1e-10)) as tf.Tensor2D;
}

/**
 * KNN (Sun et al. 2022): −(squared L2 distance from the normalised feature to its k-th nearest normalised feature of
 * the bank), the bank being the features it is fitted on (kept on the backend; `bankSize` keeps a seeded random
 * subset, for a large training set). Searched with one matrix product per batch. k = 50.
 */
export const knn: DetectorMethod<{ k: number; bankSize: number; seed: number }> = {
  name: 'knn', needs: ['features'], defaults: { k: 50, bankSize: 0, seed: 1 }, grid: { k: [50, 100, 200, 500, 1000] },
  check: ({ k, bankSize }) => {
    if (!Number.isInteger(k) || k < 1) throw new MoonConfigError(`knn: k must be a positive integer, got ${k}`);
    if (!Number.isInteger(bankSize) || bankSize < 0) throw new MoonConfigError(`knn: bankSize must be 0 (the whole set) or a positive integer, got ${bankSize}`);
  },
  fit: async (data, { k, bankSize, seed }) => {
    const n = data.features.shape[0];
    if (k > n) throw new MoonConfigError(`knn: k = ${k} is larger than the ${n} samples it is fitted on; lower k or fit on more data`);
    const bank = tf.tidy(() => {
      const all = normalised(data.features);
      if (bankSize === 0 || bankSize >= n) return all;
      if (bankSize < k) throw new MoonConfigError(`knn: bankSize ${bankSize} is smaller than k = ${k}`);
      return tf.gather(all, seededSample(n, bankSize, seed));
    });
    return { bank, bankNorms: tf.tidy(() => tf.sum(tf.square(bank), 1)) };
  },
  score: (batch, state, _head, { k }) => {
    const bank = stateTensor<tf.Tensor2D>(state, 'bank');
    const q = normalised(batch.features);
    const squared = tf.add(tf.sub(tf.sum(tf.square(q), 1, true), tf.mul(2, tf.matMul(q, bank, false, true))), stateTensor(state, 'bankNorms').reshape([1, -1]));
    const nearest = tf.topk(tf.neg(squared), k).values; // −d², largest first
    return nearest.slice([0, k - 1], [-1, 1]).reshape([-1]) as tf.Tensor1D;
  },
};

/** `count` distinct row indices of [0, n), from a seeded shuffle (a linear congruential stream; no Math.random). */
function seededSample(n: number, count: number, seed: number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  let s = (seed >>> 0) || 1;
  for (let i = n - 1; i > 0; i--) {
    s = Math.imul(s, 1664525) + 1013904223;
    const j = (s >>> 0) % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order.slice(0, count).sort();
}
