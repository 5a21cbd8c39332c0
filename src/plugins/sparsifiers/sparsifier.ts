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
  /** dropFraction · active, rounded as scheduled (floor, or ceil with `as-released`): how many to drop and grow. */
  readonly dropCount: number;
  /** The kit's seeded random source. */
  readonly random: RandomSource;
  /**
   * A seeded random order of the kernel's positions (`mask.tieBreak: 'random'`, the default): select in this order
   * so that equal scores are broken at random rather than by position ({@link TieOrder}). Absent with 'index'.
   */
  readonly tieOrder?: TieOrder;
}

/**
 * A permutation of a kernel's flat positions and its inverse (int32 [size] tensors), drawn on the host from the
 * kit's seeded random source, so it is the same on every backend. Selecting the top k of `gather(scores, forward)`
 * — every selection breaks ties by the lower index — and mapping the result back with `gather(·, inverse)` breaks
 * ties at random. Zero-gradient growth candidates (dead ReLUs, MNIST's blank border pixels) are common: without it
 * RigL would always grow the first of them.
 */
export interface TieOrder {
  readonly forward: tf.Tensor1D;
  readonly inverse: tf.Tensor1D;
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
