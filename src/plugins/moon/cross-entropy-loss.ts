import * as tf from '@tensorflow/tfjs';
import type { OutputKind } from '../../core/types';

/**
 * Per-sample cross-entropy over the outputs, for a plain (baseline) kit: the same values as TF.js's own
 * `'categoricalCrossentropy'` (probabilities) or `softmaxCrossEntropy` (logits), unreduced so that `fit` weights
 * them (classWeight) and averages them as it does for its own losses. A one-column output (a binary classifier,
 * `numClasses: 1`: a sigmoid probability or one logit) gets the binary cross-entropy instead: a softmax over one
 * column is always 1, so the categorical loss would be 0 and nothing would train.
 */
export function crossEntropyLoss(from: OutputKind, binary = false): (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor1D {
  if (binary) {
    return (yTrue, yPred) =>
      (from === 'logits'
        ? tf.mean(tf.losses.sigmoidCrossEntropy(yTrue, yPred, undefined, 0, tf.Reduction.NONE), -1)
        : tf.metrics.binaryCrossentropy(yTrue, yPred)) as tf.Tensor1D;
  }
  return (yTrue, yPred) =>
    (from === 'logits'
      ? tf.losses.softmaxCrossEntropy(yTrue, yPred, undefined, undefined, tf.Reduction.NONE)
      : tf.metrics.categoricalCrossentropy(yTrue, yPred)) as tf.Tensor1D;
}
