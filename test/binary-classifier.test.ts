import * as tf from '@tensorflow/tfjs';
import { createMoon, MoonConfigError, type MaskWarningEvent } from '../src';
import { mnistSubset } from './helpers/data';
import { buildMlp, ScaledDense } from './helpers/models';

// Issue #22 rows 2 and 3: a binary classifier trains with kit.loss, and a plan without mask updates says so.

/** Digits 0 and 1 of the real MNIST subset, as [N, 784] and 0/1 labels [N, 1]. */
function zerosAndOnes(perDigit: number): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const { xs, labels } = mnistSubset(perDigit);
  const keep = labels.flatMap((l, i) => (l < 2 ? [i] : []));
  const x = tf.tidy(() => tf.gather(xs, keep) as tf.Tensor2D);
  const y = tf.tensor2d(keep.map((i) => [labels[i]]), [keep.length, 1]);
  xs.dispose();
  return { x, y };
}

describe('a one-unit sigmoid head (numClasses: 1, unknownAware: false)', () => {
  it('trains with kit.loss (binary cross-entropy), sparse at 80%', async () => {
    const sigmoid = tf.sequential({
      layers: [
        tf.layers.dense({ units: 32, activation: 'relu', inputShape: [784], kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
        tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      ],
    });
    const { x, y } = zerosAndOnes(20); // 40 digits
    const kit = createMoon({ model: sigmoid, numClasses: 1, unknownAware: false, epochs: 6, stepsPerEpoch: 4, sparsity: 0.8, sparsifier: 'static', seed: 1 });
    sigmoid.compile({ optimizer: kit.optimizer(tf.train.adam(0.01)), loss: kit.loss, metrics: ['binaryAccuracy'] });
    const history = await sigmoid.fit(x, kit.labels(y), { epochs: 6, batchSize: 10, shuffle: false, verbose: 0, callbacks: [...kit.callbacks] });
    const loss = history.history.loss as number[];
    expect(loss[0]).toBeGreaterThan(0.3); // ln 2 ≈ 0.69 at the start, not the 0 of a softmax over one column
    expect(loss[5]).toBeLessThan(loss[0] / 4);
    expect((history.history.binaryAccuracy as number[])[5]).toBeGreaterThan(0.95);
    // The same values as TF.js's own binary cross-entropy.
    const own = tf.tidy(() => tf.metrics.binaryCrossentropy(y, sigmoid.predict(x) as tf.Tensor).mean().dataSync()[0]);
    const ours = tf.tidy(() => kit.loss(y, sigmoid.predict(x) as tf.Tensor).mean().dataSync()[0]);
    expect(ours).toBeCloseTo(own, 6);
    tf.dispose([x, y]);
    kit.dispose();
  });

  it('an unknown-aware kit with one known class is refused at createMoon, saying what to do', () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, activation: 'softmax', inputShape: [4] })] });
    expect(() => createMoon({ model, numClasses: 1, epochs: 2, stepsPerEpoch: 1 })).toThrow(MoonConfigError);
    expect(() => createMoon({ model, numClasses: 1, epochs: 2, stepsPerEpoch: 1 })).toThrow(/numClasses: 2 with a 3-unit softmax head, or unknownAware: false with a 1-unit sigmoid/);
  });
});

describe('a run whose plan has no mask update', () => {
  const warningsOf = async (extra: object): Promise<MaskWarningEvent[]> => {
    const seen: MaskWarningEvent[] = [];
    const kit = createMoon({ model: buildMlp(3), numClasses: 10, unknownAware: false, epochs: 2, stepsPerEpoch: 21, seed: 1, ...extra });
    kit.events.on('mask:warning', (w) => seen.push(w));
    await new Promise((resolve) => setTimeout(resolve, 20));
    kit.dispose();
    return seen.filter((w) => w.kind === 'no-mask-update');
  };

  it('RigL over 42 steps with the default interval of 100 warns once, naming the fix', async () => {
    const seen = await warningsOf({});
    expect(seen).toHaveLength(1);
    expect(seen[0].message).toMatch(/^rigl has no mask update in this run: 42 steps, one update every 100 steps .*mask: \{ interval: 10 \}/);
  });

  it('stays silent when updates are planned, for a static sparsifier, and for a dense run', async () => {
    expect(await warningsOf({ mask: { interval: 10 } })).toEqual([]);
    expect(await warningsOf({ sparsifier: 'set', mask: { interval: 20 } })).toEqual([]);
    expect(await warningsOf({ sparsifier: 'static' })).toEqual([]);
    expect(await warningsOf({ sparsity: 0 })).toEqual([]);
  });
});

describe('layers the kit cannot mask (#22 row 4, the reporting part)', () => {
  it('names them in a layers-left-dense warning, and kit.modelDensity counts them whole', async () => {
    // A custom layer nobody registered: its kernel (8·6) and scale (6) stay dense, and the warning names it.
    const custom = new ScaledDense({ units: 6, seed: 3, inputShape: [8] });
    const model = tf.sequential({ layers: [custom, tf.layers.dense({ units: 10, activation: 'softmax' })] });
    const kit = createMoon({ model, numClasses: 10, unknownAware: false, epochs: 2, stepsPerEpoch: 1, sparsity: 0.9, sparsifier: 'static', seed: 1 });
    const seen: MaskWarningEvent[] = [];
    kit.events.on('mask:warning', (w) => seen.push(w));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const warning = seen.find((w) => w.kind === 'layers-left-dense');
    expect(warning && warning.kind === 'layers-left-dense' && warning.layers).toEqual([custom.name]);
    expect(warning?.message).toMatch(/registerMaskableLayer/);
    // ScaledDense 48 + 6 whole, Dense 6·10 (6 active at 90%) + 10 biases.
    const dense = kit.maskSummary[0];
    expect(kit.maskSummary.map((m) => m.total)).toEqual([60]);
    expect(kit.modelDensity).toBeCloseTo((48 + 6 + dense.active + 10) / (48 + 6 + 60 + 10), 12);
    expect(kit.density).toBeCloseTo(dense.active / 60, 12);
    expect(warning?.message).toMatch(/model's density is 0\.5\d\d while the masked kernels' is 0\.10\d/);
    kit.dispose();
  });

  it('stays silent for a model of maskable layers; there modelDensity counts only the biases whole', async () => {
    const model = buildMlp(5);
    const kit = createMoon({ model, numClasses: 10, unknownAware: false, epochs: 2, stepsPerEpoch: 1, sparsity: 0.9, sparsifier: 'static', seed: 1 });
    const seen: MaskWarningEvent[] = [];
    kit.events.on('mask:warning', (w) => seen.push(w));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen.filter((w) => w.kind === 'layers-left-dense')).toEqual([]);
    const active = kit.maskSummary.reduce((s, m) => s + m.active, 0);
    expect(kit.modelDensity).toBeCloseTo((active + 32 + 16 + 10) / (784 * 32 + 32 * 16 + 16 * 10 + 32 + 16 + 10), 12);
    kit.dispose();
  });
});
