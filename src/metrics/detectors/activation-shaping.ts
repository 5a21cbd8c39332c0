import * as tf from '@tensorflow/tfjs';
import { MoonConfigError } from '../../core/errors';
import { energyOf, headLogits, stateTensor, type DetectorMethod } from './detector-method';
import { percentile } from './percentile';

type Percentile = { percentile: number };

function checkPercentile(method: string, p: number): void {
  if (!(typeof p === 'number' && p >= 0 && p < 100)) throw new MoonConfigError(`${method}: percentile must be a number in [0, 100), got ${p}`);
}

/** The k = n − round(n · p / 100) largest entries of each row (at least one), as ASH and SCALE keep them. */
function largestEntries(z: tf.Tensor2D, p: number): { k: number; values: tf.Tensor2D } {
  const n = z.shape[1];
  const k = Math.max(1, n - Math.round((n * p) / 100));
  return { k, values: tf.topk(z, k).values as tf.Tensor2D };
}

/**
 * ReAct (Sun et al. 2021): clip the features at τ, the p-th percentile of every activation of the data it is fitted
 * on (flattened), then the energy of W min(z, τ) + b. p = 90.
 */
export const react: DetectorMethod<Percentile> = {
  name: 'react', needs: ['features'], defaults: { percentile: 90 }, grid: { percentile: [85, 90, 95, 99] },
  check: ({ percentile: p }) => checkPercentile('react', p),
  fit: async (data, { percentile: p }) => ({ threshold: percentile(await data.features.data(), p) }),
  score: (batch, state, head) => energyOf(headLogits(tf.minimum(batch.features, state.threshold as number), head)),
};

/**
 * ASH-B (Djurisic et al. 2023): keep the k = n − round(n · p / 100) largest entries of z, each set to Σz / k, the rest
 * zero; then the energy of W z' + b. p = 90. Unreliable on narrow penultimate layers (at 100 units p = 90 keeps 10).
 */
export const ash: DetectorMethod<Percentile> = {
  name: 'ash', needs: [], defaults: { percentile: 90 }, grid: { percentile: [65, 70, 75, 80, 85, 90, 95] },
  check: ({ percentile: p }) => checkPercentile('ash', p),
  fit: async () => ({}),
  score: (batch, _state, head, { percentile: p }) => {
    const z = batch.features;
    const { k, values } = largestEntries(z, p);
    const kth = values.slice([0, k - 1], [-1, 1]);
    const fill = tf.div(tf.sum(z, 1, true), k);
    // Ties at the k-th value keep every tied entry; OpenOOD's topk keeps exactly k (ties are measure-zero in floats).
    const shaped = tf.where(tf.greaterEqual(z, kth), tf.mul(tf.onesLike(z), fill), tf.zerosLike(z)) as tf.Tensor2D;
    return energyOf(headLogits(shaped, head));
  },
};

/** SCALE (Xu et al. 2024): z' = z · exp(Σz / Σ of its k largest entries), k as ASH; the energy of W z' + b. p = 85. */
export const scale: DetectorMethod<Percentile> = {
  name: 'scale', needs: [], defaults: { percentile: 85 }, grid: { percentile: [65, 70, 75, 80, 85, 90, 95] },
  check: ({ percentile: p }) => checkPercentile('scale', p),
  fit: async () => ({}),
  score: (batch, _state, head, { percentile: p }) => {
    const z = batch.features;
    const ratio = tf.div(tf.sum(z, 1, true), tf.sum(largestEntries(z, p).values, 1, true));
    return energyOf(headLogits(tf.mul(z, tf.exp(ratio)) as tf.Tensor2D, head));
  },
};

/**
 * DICE (Sun & Li 2022): contributions c = mean(z) ⊙ W over the data it is fitted on; keep the weights whose
 * contribution is above its p-th percentile; the energy of (W ⊙ keep) z + b. p = 90. On a sparse head the
 * percentile is taken over the nonzero weights only (the structural zeros would otherwise fill the low percentiles).
 */
export const dice: DetectorMethod<Percentile> = {
  name: 'dice', needs: ['features'], defaults: { percentile: 90 },
  check: ({ percentile: p }) => checkPercentile('dice', p),
  fit: async (data, { percentile: p }) => {
    const contribution = tf.tidy(() => tf.mul(tf.mean(data.features, 0).reshape([-1, 1]), data.head.kernel));
    const [values, weights] = await Promise.all([contribution.data(), data.head.kernel.data()]);
    const nonzero = values.filter((_, i) => weights[i] !== 0);
    const threshold = percentile(nonzero.length > 0 ? nonzero : values, p);
    const kernel = tf.tidy(() => tf.where(tf.greater(contribution, threshold), data.head.kernel, tf.zerosLike(data.head.kernel)));
    contribution.dispose();
    return { kernel };
  },
  score: (batch, state, head) => energyOf(headLogits(batch.features, { kernel: stateTensor(state, 'kernel'), bias: head.bias })),
};
