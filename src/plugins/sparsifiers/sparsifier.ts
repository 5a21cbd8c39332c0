import type * as tf from '@tensorflow/tfjs';
import type { RandomSource } from '../random-source';

/** What a sparsifier is given for one layer at one mask update. Every tensor is owned by the caller. */
export interface MaskUpdateContext {
  /** Name of the layer that owns the kernel. */
  readonly layerName: string;
  /** Optimizer step (1-based) of this update. */
  readonly step: number;
  /** The kernel's current weights (0 wherever `mask` is 0). */
  readonly weights: tf.Tensor;
  /** The current 0/1 mask, float32, the kernel's shape. */
  readonly mask: tf.Tensor;
  /**
   * The dense gradient of the loss with respect to the kernel on this step's batch, masked positions included.
   * Present only when the sparsifier sets `needsGradients`.
   */
  readonly gradient?: tf.Tensor;
  /** Number of ones in `mask`. */
  readonly active: number;
  /** The scheduled fraction of active weights to drop at this update. */
  readonly dropFraction: number;
  /** floor(dropFraction · active): how many weights to drop (and grow) to keep the density. */
  readonly dropCount: number;
  /** The kit's seeded random source. */
  readonly random: RandomSource;
}

/**
 * A prune-and-grow strategy. Register one with `registerSparsifier(name, ctor)` and select it with
 * `createMoon({ sparsifier: name })`. See `docs/custom-sparsifier.md` for a worked example.
 *
 * The kit calls {@link updateMask} once per masked layer at every scheduled update, inside `tf.tidy`, and then:
 * sets the weights of newly grown positions (0 → 1) to 0, zeroes the optimizer slots there, and re-masks the
 * weights. The new mask may change the number of active weights; the built-in sparsifiers keep it exact.
 */
export interface Sparsifier {
  /** Whether {@link MaskUpdateContext.gradient} must be filled (it costs one gradient copy per update). */
  readonly needsGradients: boolean;
  /**
   * false when the sparsifier never changes a mask (static sparse training): the kit then schedules no mask
   * update, so no optimizer step is replaced by one. Default (undefined): true.
   */
  readonly changesMasks?: boolean;
  /** Returns the new 0/1 mask (float32, same shape as `context.mask`). */
  updateMask(context: MaskUpdateContext): tf.Tensor;
  /**
   * The same mask, computed without synchronous reads (optional). The kit uses it when present, one layer after the
   * other (so random draws keep their order); the caller owns the result. The built-in prune-and-grow sparsifiers
   * select on the device with it.
   */
  updateMaskAsync?(context: MaskUpdateContext): Promise<tf.Tensor>;
}
