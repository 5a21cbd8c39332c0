import type * as tf from '@tensorflow/tfjs';
import type { MaskUpdateContext } from './sparsifier';

/**
 * The drop half of a prune-and-grow sparsifier: scores the active weights of one layer; the `dropCount` lowest
 * scores are dropped. Called inside `tf.tidy`; return a tensor of the kernel's shape (values off the mask are
 * ignored). Register one with `registerDropCriterion(name, Class)`.
 */
export interface DropCriterion {
  score(context: MaskUpdateContext): tf.Tensor;
}

/**
 * The grow half of a prune-and-grow sparsifier: scores the inactive positions of one layer (the just-dropped ones
 * included); the `dropCount` highest scores are grown. Called inside `tf.tidy`. Register one with
 * `registerGrowCriterion(name, Class)`.
 */
export interface GrowCriterion {
  /** Whether {@link MaskUpdateContext.gradient} must be filled (it costs one gradient copy per update). */
  readonly needsGradients: boolean;
  score(context: MaskUpdateContext): tf.Tensor;
}
