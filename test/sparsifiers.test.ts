import * as tf from '@tensorflow/tfjs';
import { dropSmallestMagnitude, growLargestScores, RigLSparsifier, SeededRandom, SETSparsifier, StaticSparsifier, topKMask } from '../src';

const ctxFor = (weights: number[], mask: number[], gradient: number[] | undefined, dropCount: number) => ({
  layerName: 'l',
  step: 1,
  weights: tf.tensor2d(weights, [2, 4]),
  mask: tf.tensor2d(mask, [2, 4]),
  gradient: gradient ? tf.tensor2d(gradient, [2, 4]) : undefined,
  active: mask.reduce((s, v) => s + v, 0),
  dropFraction: 0.5,
  dropCount,
  random: new SeededRandom(1),
});

describe('mask operations', () => {
  it('topKMask marks the k largest scores', () => {
    const m = tf.tidy(() => topKMask(tf.tensor1d([0.1, 5, -2, 3, 4]), 2));
    expect(Array.from(m.dataSync())).toEqual([0, 1, 0, 0, 1]);
    expect(Array.from(tf.tidy(() => topKMask(tf.tensor1d([1, 2]), 0)).dataSync())).toEqual([0, 0]);
  });

  it('dropSmallestMagnitude drops the k smallest |w| among active weights only', () => {
    const m = tf.tidy(() => dropSmallestMagnitude(tf.tensor1d([0, -0.1, 0.5, -3, 0.01, 2]), tf.tensor1d([0, 1, 1, 1, 0, 1]), 2));
    // active |w|: 0.1 (1), 0.5 (2), 3 (3), 2 (5) → drop positions 1 and 2; inactive 0 and 4 stay off.
    expect(Array.from(m.dataSync())).toEqual([0, 0, 0, 1, 0, 1]);
  });

  it('growLargestScores grows the k best inactive positions only', () => {
    const m = tf.tidy(() => growLargestScores(tf.tensor1d([9, 1, 8, 7, 2]), tf.tensor1d([1, 0, 0, 1, 0]), 2));
    expect(Array.from(m.dataSync())).toEqual([1, 0, 1, 1, 1]);
  });
});

describe('built-in sparsifiers on a crafted layer', () => {
  const weights = [0.9, -0.05, 0, 0.4, 0, -0.7, 0.02, 0];
  const mask = [1, 1, 0, 1, 0, 1, 1, 0];
  const gradient = [0, 0, 5, 0, -9, 0, 0, 0.1];

  it('RigL drops the smallest |w| and grows the top |gradient| among inactive positions', () => {
    const out = tf.tidy(() => new RigLSparsifier().updateMask(ctxFor(weights, mask, gradient, 2)));
    // drop: active |w| 0.9, 0.05, 0.4, 0.7, 0.02 → drop positions 6 (0.02) and 1 (0.05)
    // grow among {1,2,4,6,7}: |g| = 0, 5, 9, 0, 0.1 → grow 4 and 2
    expect(Array.from(out.dataSync())).toEqual([1, 0, 1, 1, 1, 1, 0, 0]);
  });

  it('SET keeps the count exact and grows only positions that were off after the drop', () => {
    const out = tf.tidy(() => new SETSparsifier().updateMask(ctxFor(weights, mask, undefined, 2)));
    const m = Array.from(out.dataSync());
    expect(m.reduce((s, v) => s + v, 0)).toBe(5);
    for (const kept of [0, 3, 5]) expect(m[kept]).toBe(1); // the three largest stay
  });

  it('RigL without a gradient fails with a typed error that says what to pass', () => {
    expect(() => tf.tidy(() => new RigLSparsifier().updateMask(ctxFor(weights, mask, undefined, 2)))).toThrow(
      /RigL needs the dense gradient of layer "l" \(context.gradient\)/,
    );
  });

  it('static returns the mask unchanged', () => {
    const out = tf.tidy(() => new StaticSparsifier().updateMask(ctxFor(weights, mask, undefined, 2)));
    expect(Array.from(out.dataSync())).toEqual(mask);
  });
});
