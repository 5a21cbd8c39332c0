import * as tf from '@tensorflow/tfjs';
import type { MaskEntry } from './mask-set';

/** How many output units a masked kernel has: its last axis, or channels × multiplier for a depthwise kernel. */
function outputUnits(entry: MaskEntry): number {
  const shape = entry.kernel.shape;
  const last = shape[shape.length - 1];
  return entry.kernel.className === 'DepthwiseConv2D' ? shape[shape.length - 2] * last : last;
}

/**
 * Rescales the surviving weights of each masked kernel to its sparse fan-in (Evci et al. 2022, "Gradient flow in
 * sparse neural networks"): the initializers of TF.js draw with a variance for the dense fan-in, so after a mask
 * keeps a fraction d of a unit's inputs its pre-activation variance is d times too small, and a deep net at 90%
 * starts with activations shrinking layer after layer (a CNN without BatchNorm stalls at chance). Each output
 * unit's weights are multiplied by √(fan-in / active inputs of that unit); a unit with no active input is left
 * alone. Runs on the device, no read. For fresh (random) weights only: a trained model keeps its scale.
 */
export function scaleToSparseFanIn(entries: readonly MaskEntry[]): void {
  for (const entry of entries) {
    const units = outputUnits(entry);
    const fanIn = entry.kernel.size / units;
    tf.tidy(() => {
      const mask = tf.reshape(entry.mask, [-1, units]);
      const active = tf.sum(mask, 0);
      const factor = tf.where(tf.greater(active, 0), tf.sqrt(tf.div(fanIn, tf.maximum(active, 1))), tf.onesLike(active));
      const scaled = tf.mul(tf.reshape(entry.kernel.variable, [-1, units]), factor);
      entry.kernel.variable.assign(tf.reshape(scaled, entry.kernel.shape as number[]));
    });
  }
}
