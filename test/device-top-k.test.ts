import * as tf from '@tensorflow/tfjs';
import { createMoon, registerSparsifier, RigLSparsifier, SETSparsifier, type MaskUpdateContext } from '../src';
import { topKMaskAsync } from '../src/plugins/sparsifiers/device-top-k';
import { topKMask } from '../src/plugins/sparsifiers/mask-ops';
import { buildMlp, maskedKernels } from './helpers/models';

/**
 * The reference selection: the k largest values, equal values by lowest index (tf.topk's documented rule). Not
 * tf.topk on the cpu backend itself: its comparator computes −∞ − (−∞) = NaN, so with several −∞ its selection
 * among ties is arbitrary (wasm's and webgl's follow the rule).
 */
function referenceTopK(values: ArrayLike<number>, k: number): number[] {
  const order = Array.from(values, (value, index) => ({ value, index })).sort((a, b) => (a.value === b.value ? a.index - b.index : b.value > a.value ? 1 : -1));
  const mask = new Array<number>(values.length).fill(0);
  for (const { index } of order.slice(0, k)) mask[index] = 1;
  return mask;
}

/** Deterministic scores with many ties (few distinct values) and some −∞ positions. */
function scores(n: number, distinct: number, negInf: number, seed: number): tf.Tensor2D {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const values = Array.from({ length: n }, () => Math.round(next() * distinct) / distinct - 0.5);
  for (let i = 0; i < negInf; i++) values[Math.floor(next() * n)] = -Infinity;
  return tf.tensor2d(values, [n / 10, 10]);
}

describe('on-device top-k (topKMaskAsync)', () => {
  it('selects the k largest scores, ties broken by lowest index (tf.topk\'s rule), for every k', async () => {
    for (const [n, distinct, negInf, seed] of [[200, 7, 20, 1], [1000, 1000, 0, 2], [500, 1, 0, 3], [300, 50, 150, 4]]) {
      const s = scores(n, distinct, negInf, seed);
      for (const k of [0, 1, 2, 17, n / 2, n - 151, n - 1, n]) {
        if (k < 0) continue;
        const actual = await topKMaskAsync(s, k);
        expect(Array.from(await actual.data())).toEqual(referenceTopK(await s.data(), k));
        expect(actual.shape).toEqual(s.shape);
        expect((await tf.sum(actual).data())[0]).toBe(k);
        actual.dispose();
      }
      s.dispose();
    }
  });

  it('handles extreme magnitudes, negative zero and k beyond the finite scores', async () => {
    const s = tf.tensor1d([3e38, -3e38, 1e-38, -1e-38, 0, -0, 5, 5, -Infinity, -Infinity]);
    for (const k of [1, 3, 5, 6, 8, 9]) {
      const actual = await topKMaskAsync(s, k);
      expect(Array.from(await actual.data())).toEqual(referenceTopK(await s.data(), k));
      actual.dispose();
    }
    s.dispose();
  });

  it('agrees with topKMask (tf.topk) when scores hold ±∞ and NaN: ±∞ rank as the extreme finite values, NaN lowest', async () => {
    const cases = [[1, -Infinity, 2, -Infinity, -Infinity, 0], [Infinity, 1, Infinity, Infinity, 0, 2], [NaN, 1, NaN, 3, 0, -Infinity]];
    let s = 11;
    const next = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const specials = [Infinity, -Infinity, NaN, 0, 1];
    for (let c = 0; c < 20; c++) cases.push(Array.from({ length: 40 }, () => specials[Math.floor(next() * specials.length)]));
    for (const values of cases) {
      const t = tf.tensor1d(values);
      // The rule both follow: NaN as −∞, then the k largest, ties by lowest index.
      const ranked = values.map((v) => (Number.isNaN(v) ? -Infinity : v));
      for (let k = 1; k < values.length; k++) {
        const device = await topKMaskAsync(t, k);
        const host = tf.tidy(() => topKMask(t, k));
        expect(Array.from(await device.data())).toEqual(referenceTopK(ranked, k));
        expect(Array.from(await host.data())).toEqual(referenceTopK(ranked, k));
        tf.dispose([device, host]);
      }
      t.dispose();
    }
  });

  it('leaves no tensor behind', async () => {
    const s = scores(400, 13, 10, 9);
    const before = tf.memory().numTensors;
    for (const k of [0, 123, 400]) (await topKMaskAsync(s, k)).dispose();
    expect(tf.memory().numTensors).toBe(before);
    s.dispose();
  });
});

describe('mask updates select on the device', () => {
  /** RigL and SET selecting on the device whatever the backend (the default does so on webgl and webgpu only). */
  class DeviceRigL extends RigLSparsifier {
    override selection = 'device' as const;
  }
  class DeviceSET extends SETSparsifier {
    override selection = 'device' as const;
  }
  /** The same rule through the synchronous path (tf.topk), by overriding updateMask. */
  class SyncRigL extends RigLSparsifier {
    override updateMask(ctx: MaskUpdateContext): tf.Tensor {
      return super.updateMask(ctx);
    }
  }
  class SyncSET extends SETSparsifier {
    override updateMask(ctx: MaskUpdateContext): tf.Tensor {
      return super.updateMask(ctx);
    }
  }

  it.each([['rigl', DeviceRigL, SyncRigL], ['set', DeviceSET, SyncSET]] as const)('%s: the same masks as through tf.topk, update for update', async (name, Device, Sync) => {
    registerSparsifier(`device-${name}`, Device);
    registerSparsifier(`sync-${name}`, Sync);
    const run = async (sparsifier: string) => {
      const model = buildMlp(4);
      const kit = createMoon({ model, numClasses: 10, epochs: 2, stepsPerEpoch: 4, sparsity: 0.9, seed: 8, sparsifier, unknownAware: false, mask: { interval: 2, endStep: 8 } });
      const xs = tf.randomNormal([16, 784], 0, 1, 'float32', 6);
      model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.05, 0.9)), loss: kit.loss });
      const updates: number[] = [];
      kit.events.on('mask:update', (e) => updates.push(e.grown));
      await model.fit(xs, kit.labels(Array.from({ length: 16 }, (_, i) => i % 10)), { epochs: 2, batchSize: 4, shuffle: false, verbose: 0, callbacks: [...kit.callbacks] });
      const masks = maskedKernels(kit).map((k) => Array.from(k.mask.dataSync()));
      xs.dispose();
      return { masks, updates };
    };
    const device = await run(`device-${name}`);
    const host = await run(`sync-${name}`);
    expect(device.updates.length).toBe(4 * 3); // 4 updates × 3 layers
    expect(device.updates).toEqual(host.updates);
    expect(device.masks).toEqual(host.masks);
  });
});
