import type * as tf from '@tensorflow/tfjs';

/**
 * The saved state of one part of a kit: named tensors (copied, owned by the caller) and plain JSON values.
 * Parts export it for checkpoints and import it on resume.
 */
export interface PartState {
  tensors: Record<string, tf.Tensor>;
  values: Record<string, unknown>;
}
