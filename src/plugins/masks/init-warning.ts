import * as tf from '@tensorflow/tfjs';
import type { MaskWarningEvent } from '../../core/events';
import type { MaskableKernel } from '../../core/maskable-kernels';

/**
 * Checks, before random masks are applied, whether they would overwrite what the model learnt: kernels that already
 * hold exact zeros (fresh initializers never produce them; a model from `loadSparse` or pruned elsewhere does), or
 * a model whose optimizer has taken steps (trained in this process). A model loaded from files after training cannot
 * be told from a fresh one this way: its weights' statistics barely move in training (measured: the std of a
 * LeNet's kernels within 4% of the initializer's after 5 epochs). The statistics are computed on the device now and
 * read asynchronously, so the kit stays synchronous and nothing blocks.
 * @returns a warning, or undefined
 */
export async function checkInitialMasks(model: tf.LayersModel, kernels: readonly MaskableKernel[]): Promise<MaskWarningEvent | undefined> {
  const steps = model.optimizer?.iterations ?? 0;
  const zeroFractions = await readZeroFractions(kernels); // computed before this returns: before the masks apply
  const sparse = kernels.filter((_, i) => zeroFractions[i] > 0.01).map((k) => k.name);
  if (sparse.length > 0) {
    return {
      kind: 'already-sparse',
      zeroFractions,
      message:
        `the masked kernels of ${sparse.map((n) => `"${n}"`).join(', ')} already hold exact zeros (a sparse model, e.g. from loadSparse): ` +
        `random masks (mask.init: 'random', the default) replace that pattern and zero other weights. Pass mask: { init: 'nonzero' } ` +
        `to keep the model's pattern, or mask: { init: 'magnitude' } to keep its largest weights`,
    };
  }
  if (steps === 0) return undefined;
  return {
    kind: 'trained',
    zeroFractions,
    message:
      `the model has been trained (its optimizer took ${steps} steps): random masks (mask.init: 'random', the default) zero ` +
      `most of its trained weights at random. Pass mask: { init: 'magnitude' } to keep its largest weights (see the fine-tuning recipe in docs/guide.md)`,
  };
}

/** Per kernel, the fraction of exact zeros: computed on the device when called, read without blocking. */
async function readZeroFractions(kernels: readonly MaskableKernel[]): Promise<number[]> {
  const fractions = tf.tidy(() => tf.stack(kernels.map((k) => tf.mean(tf.cast(tf.equal(k.variable, 0), 'float32')))));
  try {
    return Array.from(await fractions.data());
  } finally {
    fractions.dispose();
  }
}
