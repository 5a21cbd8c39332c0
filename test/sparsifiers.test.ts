import * as tf from '@tensorflow/tfjs';
import { dropSmallestMagnitude, fromTieOrder, growLargestScores, intoTieOrder, RigLSparsifier, SeededRandom, SETSparsifier, StaticSparsifier, topKMask } from '../src';
import { randomTieOrder } from '../src/plugins/sparsifiers/mask-ops';

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

describe('tie-breaking in drop and grow (mask.tieBreak)', () => {
  // A 20×20 kernel, 40 active weights in the first rows, a zero gradient everywhere: every inactive position ties.
  const size = 400;
  const weights = Array.from({ length: size }, (_, i) => (i < 40 ? 1 + i / 100 : 0));
  const mask = weights.map((w) => (w !== 0 ? 1 : 0));
  const context = (tieOrder?: ReturnType<typeof randomTieOrder>) => ({
    layerName: 'l', step: 1, weights: tf.tensor2d(weights, [20, 20]), mask: tf.tensor2d(mask, [20, 20]), gradient: tf.zeros([20, 20]),
    active: 40, dropFraction: 0.25, dropCount: 10, random: new SeededRandom(1), tieOrder,
  });
  const grownPositions = async (updated: tf.Tensor): Promise<number[]> => {
    const m = await updated.data();
    return Array.from(m).flatMap((v, i) => (v === 1 && mask[i] === 0 ? [i] : []));
  };

  it("by 'index', RigL grows the first zero-gradient positions (the bias random tie-breaking removes)", async () => {
    const updated = tf.tidy(() => new RigLSparsifier().updateMask(context()));
    // The 10 smallest weights (positions 0–9) are dropped, then the lowest-index candidates, which are those same
    // just-dropped positions: the update changes nothing.
    expect(await grownPositions(updated)).toEqual([]);
    expect(Array.from(await updated.data())).toEqual(mask);
  });

  it("by a seeded order: spread over the kernel, repeatable, and the same through tf.topk and the device selection", async () => {
    const picks: number[][] = [];
    for (const selection of ['top-k', 'device', 'top-k'] as const) {
      const order = randomTieOrder(size, new SeededRandom(7));
      const rigl = new RigLSparsifier();
      rigl.selection = selection;
      const updated = await rigl.updateMaskAsync(context(order));
      expect(Array.from(await updated.data()).reduce((s, v) => s + v, 0)).toBe(40); // the count stays exact
      picks.push(await grownPositions(updated));
      tf.dispose([updated, order.forward, order.inverse]);
    }
    expect(picks[0].length).toBeGreaterThan(5);
    expect(Math.max(...picks[0])).toBeGreaterThan(100); // not the first rows
    expect(picks[1]).toEqual(picks[0]);
    expect(picks[2]).toEqual(picks[0]);
    const other = randomTieOrder(size, new SeededRandom(8));
    const updated = tf.tidy(() => new RigLSparsifier().updateMask(context(other)));
    expect(await grownPositions(updated)).not.toEqual(picks[0]); // another seed, another draw
  });

  it('a seeded order is a permutation with its inverse', async () => {
    const { forward, inverse } = randomTieOrder(1000, new SeededRandom(3));
    const [f, inv] = [await forward.data(), await inverse.data()];
    expect(Array.from(f).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    f.forEach((p, i) => expect(inv[p]).toBe(i));
    tf.dispose([forward, inverse]);
  });

  it('intoTieOrder flattens a tensor into the order, fromTieOrder restores positions and shape; without an order both pass it through', async () => {
    const order = randomTieOrder(6, new SeededRandom(5));
    const t = tf.tensor2d([10, 11, 12, 13, 14, 15], [2, 3]);
    const permuted = intoTieOrder(t, order);
    const f = await order.forward.data();
    expect(Array.from(await permuted.data())).toEqual(Array.from(f, (p) => 10 + p));
    const back = fromTieOrder(permuted, order, [2, 3]);
    expect(back.shape).toEqual([2, 3]);
    expect(Array.from(await back.data())).toEqual([10, 11, 12, 13, 14, 15]);
    expect(intoTieOrder(t, undefined)).toBe(t);
    expect(fromTieOrder(t, undefined, [2, 3])).toBe(t);
    tf.dispose([t, permuted, back, order.forward, order.inverse]);
  });
});
