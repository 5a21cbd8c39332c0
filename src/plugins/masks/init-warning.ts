import * as tf from '@tensorflow/tfjs';
import type { MaskWarningEvent } from '../../core/events';
import type { MaskableKernel } from '../../core/maskable-kernels';

/**
 * Checks, before random masks are applied, whether the masked kernels already hold exact zeros (fresh initializers
 * never produce them; a model from `loadSparse` or pruned elsewhere does). The statistics are computed on the device
 * now and read asynchronously, so the kit stays synchronous and nothing blocks.
 * @returns a warning when more than 1% of some kernel is exactly 0, else undefined
 */
export async function checkForExistingSparsity(kernels: readonly MaskableKernel[]): Promise<MaskWarningEvent | undefined> {
  const fractions = tf.tidy(() => tf.stack(kernels.map((k) => tf.mean(tf.cast(tf.equal(k.variable, 0), 'float32')))));
  let zeroFractions: number[];
  try {
    zeroFractions = Array.from(await fractions.data());
  } finally {
    fractions.dispose();
  }
  const sparse = kernels.filter((_, i) => zeroFractions[i] > 0.01).map((k) => k.layerName);
  if (sparse.length === 0) return undefined;
  return {
    kind: 'already-sparse',
    zeroFractions,
    message:
      `the masked kernels of ${sparse.map((n) => `"${n}"`).join(', ')} already hold exact zeros (a sparse model, e.g. from loadSparse): ` +
      `random masks (mask.init: 'random', the default) replace that pattern and zero other weights. Pass mask: { init: 'nonzero' } ` +
      `to keep the model's pattern, or mask: { init: 'magnitude' } to keep its largest weights`,
  };
}
