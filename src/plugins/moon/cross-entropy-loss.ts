import * as tf from '@tensorflow/tfjs';
import type { OutputKind } from '../../core/types';

/**
 * Per-sample cross-entropy over the outputs, for a plain (baseline) kit: the same values as TF.js's own
 * `'categoricalCrossentropy'` (probabilities) or `softmaxCrossEntropy` (logits), unreduced so that `fit` weights
 * them (classWeight) and averages them as it does for its own losses.
 */
export function crossEntropyLoss(from: OutputKind): (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor1D {
  return (yTrue, yPred) =>
    (from === 'logits'
      ? tf.losses.softmaxCrossEntropy(yTrue, yPred, undefined, undefined, tf.Reduction.NONE)
      : tf.metrics.categoricalCrossentropy(yTrue, yPred)) as tf.Tensor1D;
}
