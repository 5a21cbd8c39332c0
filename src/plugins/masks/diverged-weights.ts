import * as tf from '@tensorflow/tfjs';
import { MoonTrainingError } from '../../core/errors';
import type { MaskEntry } from './mask-set';

/**
 * The error for a mask change refused because a layer's weights hold NaN or ±∞: a selection by magnitude would
 * treat them as ties with the masked-out sentinel (−∞) and could pick inactive positions (a −1 in the mask).
 * @param when the change refused, e.g. "the mask update of step 12"
 */
export function divergedWeightsError(maskName: string, nonFinite: number, when: string): MoonTrainingError {
  return new MoonTrainingError(
    `the weights of "${maskName}" hold ${nonFinite} NaN or infinite values at ${when}: ` +
      'the training diverged, so no mask was changed. Likely causes: a learning rate too high (try 10× lower) or inputs with NaN or unscaled values',
  );
}

/** Counts, per entry, the kernel's NaN and ±∞ values (one read for all); throws {@link divergedWeightsError} if any. */
export async function assertFiniteKernels(entries: readonly MaskEntry[], when: string): Promise<void> {
  if (entries.length === 0) return;
  const counts = tf.tidy(() => tf.stack(entries.map((e) => tf.sum(tf.cast(tf.logicalNot(tf.isFinite(e.kernel.variable)), 'float32')))));
  let values: Float32Array;
  try {
    values = (await counts.data()) as Float32Array;
  } finally {
    counts.dispose();
  }
  const bad = values.findIndex((n) => n > 0);
  if (bad >= 0) throw divergedWeightsError(entries[bad].kernel.name, values[bad], when);
}
