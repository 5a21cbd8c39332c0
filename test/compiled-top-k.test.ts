import * as tf from '@tensorflow/tfjs';
import { MoonConfigError, SeededRandom, randomPermutation } from '../src';
import { compiledTopKMask, compiledTopKServes } from '../src/plugins/sparsifiers/compiled-top-k';
import { randomTieOrder, selectionScores } from '../src/plugins/sparsifiers/mask-ops';

/** The reference: tf.topk of the scores (as the sparsifiers rank them) permuted into the tie order, mapped back. */
function referenceMask(scores: Float32Array, k: number, forward?: Int32Array): number[] {
  return tf.tidy(() => {
    const order = forward ?? Int32Array.from({ length: scores.length }, (_, i) => i);
    const permuted = selectionScores(tf.tensor1d(Array.from(order, (p) => scores[p])));
    const picked = tf.topk(permuted, k, true).indices.dataSync();
    const mask = new Array<number>(scores.length).fill(0);
    for (const i of picked) mask[order[i]] = 1;
    return mask;
  });
}

/** Scores with many exact ties (a few distinct values), NaN, ±∞, −0 and +0, as gradients and magnitudes give. */
function tiedScores(n: number, seed: number): Float32Array {
  const random = new SeededRandom(seed);
  const specials = [0, -0, NaN, Infinity, -Infinity, 3.4028234663852886e38, -3.4028234663852886e38, 1e-45];
  return Float32Array.from({ length: n }, () => {
    const r = random.next();
    if (r < 0.15) return specials[Math.floor(random.next() * specials.length)];
    if (r < 0.6) return Math.floor(random.next() * 5) - 2; // ties
    return random.next() * 8 - 4;
  });
}

describe(`compiled top-k selection (${tf.getBackend()})`, () => {
  it('serves cpu and wasm', () => {
    expect(compiledTopKServes()).toBe(true);
  });

  it.each([
    [1, 1], [7, 3], [100, 1], [100, 37], [100, 100], [1000, 999], [5000, 1234],
  ])('n = %p, k = %p: the same mask as tf.topk, ties by index and by a seeded order', async (n, k) => {
    const scores = tiedScores(n, n + k);
    const byIndex = compiledTopKMask(tf.tensor1d(scores), k);
    expect(Array.from(await byIndex.data())).toEqual(referenceMask(scores, k));
    const order = randomTieOrder(n, new SeededRandom(k));
    const byOrder = compiledTopKMask(tf.tensor1d(scores), k, order.inverse);
    expect(Array.from(await byOrder.data())).toEqual(referenceMask(scores, k, randomPermutation(n, new SeededRandom(k))));
    tf.dispose([byIndex, byOrder, order.forward, order.inverse]);
  });

  it('keeps the shape and counts exactly k when every score ties (a zero gradient)', async () => {
    const mask = compiledTopKMask(tf.zeros([30, 40]), 77);
    expect(mask.shape).toEqual([30, 40]);
    const values = Array.from(await mask.data());
    expect(values.reduce((s, v) => s + v, 0)).toBe(77);
    expect(values.slice(0, 77).every((v) => v === 1)).toBe(true); // by index: the first 77
  });

  it('scores spanning every 16-bit bin boundary select as tf.topk does', async () => {
    // Values whose keys share high 16 bits but differ in the low ones, and the reverse.
    const base = Float32Array.from({ length: 4096 }, (_, i) => 1 + i * 2 ** -23); // consecutive float32s above 1
    const mixed = Float32Array.from([...base, ...base.map((v) => -v), ...base.map((v) => v * 2 ** 20)]);
    for (const k of [1, 4095, 4097, 8192, 12287]) {
      const mask = compiledTopKMask(tf.tensor1d(mixed), k);
      expect(Array.from(await mask.data())).toEqual(referenceMask(mixed, k));
      mask.dispose();
    }
  });

  it('says what is wrong with bad arguments', () => {
    const scores = tf.zeros([10]);
    expect(() => compiledTopKMask(scores, 0)).toThrow(MoonConfigError);
    expect(() => compiledTopKMask(scores, 11)).toThrow(/k must be an integer in \[1, 10\], got 11/);
    expect(() => compiledTopKMask(tf.zeros([10], 'int32'), 2)).toThrow(/scores must be float32/);
    expect(() => compiledTopKMask(scores, 2, tf.zeros([9], 'int32'))).toThrow(/ranks must be int32 with one entry per score \(10\)/);
  });
});
