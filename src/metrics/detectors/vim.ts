import * as tf from '@tensorflow/tfjs';
import { MoonConfigError } from '../../core/errors';
import { headLogits, stateTensor, type DetectorMethod } from './detector-method';
import { pseudoInverseSymmetric, symmetricEigen } from './symmetric-eigen';

/**
 * ViM (Wang et al. 2022): the origin u = −pinv(Wᵀ) b; the principal space is spanned by the top `dimensions`
 * eigenvectors of the covariance of (z − u) over the data it is fitted on (maximum likelihood, centred at u); the
 * residual r = ‖(z − u) on the complement‖; α = mean max-logit / mean r over that data; score = logsumexp(logits) − α r.
 * `dimensions` must be below the feature width: default min(256, ⌊width / 2⌋) (OpenOOD's 256 is half a ResNet-18's 512).
 */
export const vim: DetectorMethod<{ dimensions: number }> = {
  name: 'vim', needs: ['features'], defaults: { dimensions: 0 }, grid: { dimensions: [256, 1000] },
  check: ({ dimensions }, { width }) => {
    if (dimensions !== 0 && (!Number.isInteger(dimensions) || dimensions < 1 || dimensions >= width)) {
      throw new MoonConfigError(`vim: dimensions must be an integer in [1, ${width - 1}] (below the feature width ${width}), got ${dimensions}`);
    }
  },
  fit: async (data, { dimensions }) => {
    const width = data.features.shape[1];
    const kept = dimensions === 0 ? Math.min(256, Math.floor(width / 2)) : dimensions;
    const u = await originOf(data.head.kernel, data.head.bias);
    const centred = tf.tidy(() => tf.sub(data.features, u) as tf.Tensor2D);
    const covariance = tf.tidy(() => tf.div(tf.matMul(centred, centred, true, false), centred.shape[0]));
    const values = await covariance.data();
    covariance.dispose();
    const { vectors } = symmetricEigen(values, width); // ascending: the complement is the first width − kept columns
    const complementWidth = width - kept;
    const complement = new Float32Array(width * complementWidth);
    for (let i = 0; i < width; i++) for (let j = 0; j < complementWidth; j++) complement[i * complementWidth + j] = vectors[i * width + j];
    const space = tf.tensor2d(complement, [width, complementWidth]);
    const stats = tf.tidy(() => tf.stack([tf.mean(tf.max(headLogits(data.features, data.head), 1)), tf.mean(tf.norm(tf.matMul(centred, space), 'euclidean', 1))]));
    const [meanMaxLogit, meanResidual] = await stats.data();
    tf.dispose([centred, stats]);
    return { u, space, alpha: meanMaxLogit / meanResidual };
  },
  score: (batch, state) => {
    const residual = tf.norm(tf.matMul(tf.sub(batch.features, stateTensor(state, 'u')), stateTensor(state, 'space')), 'euclidean', 1);
    return tf.sub(tf.logSumExp(batch.logits, 1), tf.mul(residual, state.alpha as number)) as tf.Tensor1D;
  },
};

/** u = −pinv(Wᵀ) b for the kernel W [D, K]: pinv(Wᵀ) = W (WᵀW)⁺ (the K × K Gram matrix inverted in float64). */
async function originOf(kernel: tf.Tensor2D, bias: tf.Tensor1D): Promise<tf.Tensor1D> {
  const k = kernel.shape[1];
  if (k > kernel.shape[0]) throw new MoonConfigError(`vim needs at least as many features as classes (${kernel.shape[0]} < ${k})`);
  const gram = tf.tidy(() => tf.matMul(kernel, kernel, true, false));
  const values = await gram.data();
  gram.dispose();
  const inverse = tf.tensor2d(Float32Array.from(pseudoInverseSymmetric(values, k)), [k, k]);
  const u = tf.tidy(() => tf.neg(tf.matMul(tf.matMul(kernel, inverse), bias.reshape([-1, 1]))).reshape([-1]) as tf.Tensor1D);
  inverse.dispose();
  return u;
}
