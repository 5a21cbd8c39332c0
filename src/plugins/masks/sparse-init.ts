import * as tf from '@tensorflow/tfjs';
import type { UnitAxes } from '../../core/maskable-layers';
import type { MaskEntry } from './mask-set';

/** The axes of a weight that do not index its output units: a unit's inputs are summed over these. */
function inputAxes(rank: number, units: UnitAxes): number[] {
  const unitAxes = units === 'depthwise' ? [rank - 2, rank - 1] : units === 'second-last' ? [rank - 2] : [rank - 1];
  return [...Array(rank).keys()].filter((axis) => !unitAxes.includes(axis));
}

/**
 * Rescales the surviving weights of each masked kernel to its sparse fan-in (Evci et al. 2022, "Gradient flow in
 * sparse neural networks"): the initializers of TF.js draw with a variance for the dense fan-in, so after a mask
 * keeps a fraction d of a unit's inputs its pre-activation variance is d times too small, and a deep net at 90%
 * starts with activations shrinking layer after layer (a CNN without BatchNorm stalls at chance). Each output
 * unit's weights are multiplied by √(fan-in / active inputs of that unit); a unit with no active input is left
 * alone, and so is an embedding table (a lookup has no fan-in). Runs on the device, no read. For fresh (random)
 * weights only: a trained model keeps its scale.
 */
export function scaleToSparseFanIn(entries: readonly MaskEntry[]): void {
  for (const entry of entries) {
    const { units, shape } = entry.kernel;
    if (units === 'none' || shape.length < 2) continue;
    const axes = inputAxes(shape.length, units);
    const fanIn = axes.reduce((p, axis) => p * shape[axis], 1);
    tf.tidy(() => {
      const active = tf.sum(entry.mask, axes, true);
      const factor = tf.where(tf.greater(active, 0), tf.sqrt(tf.div(fanIn, tf.maximum(active, 1))), tf.onesLike(active));
      entry.kernel.variable.assign(tf.mul(entry.kernel.variable, factor));
    });
  }
}
