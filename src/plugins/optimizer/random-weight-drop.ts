import * as tf from '@tensorflow/tfjs';
import { ownedVariable } from '../owned-variable';
import type { PartState } from '../../core/types';
import { applyMask, type MaskSet } from '../masks/mask-set';
import type { RandomSource } from '../random-source';

/**
 * The random weight drop hidden in the reference code's optimizer step (CigL's "random mask", moon-method.md §7.4),
 * reproduced for the `as-released` preset. Before each optimizer step, per masked kernel with mask m and keep-mask d
 * (all ones at first), keep = (dpnum − 1)/dpnum:
 *
 *   raw ← raw·(1 − d·m) + w·d·m·keep          remember the active weights that were kept
 *   w   ← w·d·m + raw·(1 − d·m) / keep        restore the weights dropped at the last step
 *   d   ← Bernoulli(keep)                     a fresh drop of about 1/dpnum of the weights
 *   w   ← w·d·m
 *
 * so every step a random ~1/dpnum of the active weights sits at 0 for one step. `raw` starts from the unmasked
 * initial weights, as in the reference (it aliases the weights before masking).
 */
export class RandomWeightDrop {
  private readonly raw: tf.Variable[];
  private readonly keepMask: tf.Variable[];

  /**
   * @param masks the kit's mask set
   * @param dpnum 1/dpnum of the weights are dropped each step
   * @param random the kit's random source (seeds the drops)
   * @param initialWeights copies of the kernels before masking, one per mask entry (taken over by this object)
   */
  constructor(
    private readonly masks: MaskSet,
    private readonly dpnum: number,
    private readonly random: RandomSource,
    initialWeights: tf.Tensor[],
  ) {
    this.raw = initialWeights.map((w) => {
      const raw = tf.variable(w, false);
      w.dispose(); // the variable holds its own reference to the data
      return raw;
    });
    this.keepMask = masks.entries.map((e) => ownedVariable(() => tf.onesLike(e.mask)));
  }

  /** Runs the drop before the inner optimizer steps. */
  beforeStep(): void {
    const keep = (this.dpnum - 1) / this.dpnum;
    tf.tidy(() => {
      this.masks.entries.forEach((e, i) => {
        const w = e.kernel.variable;
        const kept = tf.mul(this.keepMask[i], e.mask);
        const notKept = tf.sub(1, kept);
        this.raw[i].assign(tf.add(tf.mul(this.raw[i], notKept), tf.mul(tf.mul(w, kept), keep)));
        const restored = tf.add(tf.mul(w, kept), tf.div(tf.mul(this.raw[i], notKept), keep));
        const draw = tf.randomUniform(e.mask.shape, 0, 1, 'float32', this.random.nextUint32());
        this.keepMask[i].assign(tf.cast(tf.less(draw, keep), 'float32'));
        w.assign(applyMask(restored, tf.mul(this.keepMask[i], e.mask)));
      });
    });
  }

  /** The remembered weights and the current keep-masks. */
  exportState(): PartState {
    return {
      tensors: Object.fromEntries([...this.raw.map((r, i) => [`raw${i}`, r.clone()]), ...this.keepMask.map((d, i) => [`keep${i}`, d.clone()])]),
      values: {},
    };
  }

  importState(state: PartState): void {
    this.raw.forEach((r, i) => r.assign(state.tensors[`raw${i}`]));
    this.keepMask.forEach((d, i) => d.assign(state.tensors[`keep${i}`]));
  }

  dispose(): void {
    tf.dispose([...this.raw, ...this.keepMask]);
  }
}
