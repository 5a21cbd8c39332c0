import * as tf from '@tensorflow/tfjs';
import { createMoon, MoonConfigError, type MoonKit } from '../src';
import { mnistSubset } from './helpers/data';
import { buildBatchNormMlp, buildMlp, kernelStats, maskedKernels } from './helpers/models';

// Issue #21 §4: a model has one live kit; dispose gives the model back as it was; a disposed kit says so with a
// typed error; finalize checks its input before writing anything.

const options = (model: tf.LayersModel, extra: object = {}) => ({ model, numClasses: 10, epochs: 2, stepsPerEpoch: 1, sparsity: 0.8, seed: 4, ...extra });

/** The real density of the masked kernels (nonzero weights / size), read from the device. */
function realDensity(kit: MoonKit): number {
  const kernels = maskedKernels(kit);
  const nonzero = kernels.reduce((s, k) => s + Array.from(k.kernel.dataSync()).filter((v) => v !== 0).length, 0);
  return nonzero / kernels.reduce((s, k) => s + k.kernel.size, 0);
}

describe('one live kit per model', () => {
  it('a second createMoon on a model with a live kit throws before touching a weight; after dispose it works', () => {
    const model = buildMlp(7, 11);
    const first = createMoon(options(model));
    const before = model.getWeights().map((w) => Array.from(w.dataSync()));
    expect(() => createMoon(options(model, { sparsity: 0.5, seed: 9 }))).toThrow(MoonConfigError);
    expect(() => createMoon(options(model, { sparsity: 0.5, seed: 9 }))).toThrow(/already has a live kit.*kit\.dispose\(\)/);
    expect(model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(before);
    expect(realDensity(first)).toBeCloseTo(first.density, 6); // 0.2, not re-masked to 0.2 × 0.5
    first.dispose();
    const second = createMoon(options(model, { sparsity: 0.5, seed: 9 }));
    expect(second.density).toBeCloseTo(0.5, 2); // a kit of its own (it warns that the kernels already hold zeros)
    second.dispose();
    model.dispose();
  });

  it('a failed createMoon leaves no claim: a correct one on the same model follows', () => {
    const model = buildMlp(7, 11);
    expect(() => createMoon(options(model, { numClasses: 3 }))).toThrow(); // wrong output width
    createMoon(options(model)).dispose();
    model.dispose();
  });

  it("dispose of a sparse-kernel kit restores each Dense layer's own call (the class method, no own property)", () => {
    const model = buildMlp(7, 11);
    const dense = model.layers[0];
    const classCall = Object.getPrototypeOf(dense).call;
    const kit = createMoon(options(model, { kernels: 'sparse' }));
    expect(Object.prototype.hasOwnProperty.call(dense, 'call')).toBe(true); // patched
    kit.dispose();
    for (const layer of model.layers) expect(Object.prototype.hasOwnProperty.call(layer, 'call')).toBe(false);
    expect(dense.call).toBe(classCall);
    model.dispose();
  });
});

describe('a disposed kit', () => {
  it('answers every member with a MoonConfigError naming it; dispose twice is harmless', async () => {
    const model = buildMlp(8, 11);
    const kit = createMoon(options(model));
    const { xs, ys } = mnistSubset(1);
    const labels = kit.labels(ys);
    model.compile({ optimizer: kit.optimizer(tf.train.sgd(0.01)), loss: kit.loss });
    kit.dispose();
    expect(kit.isDisposed).toBe(true);
    kit.dispose();
    const uses: [string, () => unknown][] = [
      ['kit.maskSummary', () => kit.maskSummary],
      ['kit.maskSummary', () => kit.masks],
      ['kit.density', () => kit.density],
      ['kit.optimizer', () => kit.optimizer(tf.train.sgd(0.1))],
      ['kit.labels', () => kit.labels(ys)],
      ['kit.monitor', () => kit.monitor({ id: { x: xs, y: ys }, ood: {} })],
      ['kit.checkpointCallback', () => kit.checkpointCallback({ dir: '/tmp/never' })],
    ];
    for (const [name, use] of uses) {
      expect(use).toThrow(MoonConfigError);
      expect(use).toThrow(new RegExp(`^${name.replace('.', '\\.')}: this kit was disposed`));
    }
    await expect(kit.finalize(xs)).rejects.toThrow(/kit\.finalize: this kit was disposed/);
    await expect(kit.checkpoint('/tmp/never')).rejects.toThrow(/kit\.checkpoint: this kit was disposed/);
    const before = tf.memory().numTensors;
    await expect(model.fit(xs, labels, { epochs: 1, batchSize: 10, verbose: 0, callbacks: [...kit.callbacks] })).rejects.toThrow(/fit with kit\.callbacks: this kit was disposed/);
    // Without the callbacks, the wrapper's own step refuses.
    await expect(model.fit(xs, labels, { epochs: 1, batchSize: 10, verbose: 0 })).rejects.toThrow(MoonConfigError);
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 2); // fit's own leftovers at most, no kit state
    tf.dispose([xs, ys, labels]);
    model.dispose();
  });
});

const bnModel = buildBatchNormMlp;

describe('finalize checks its input before writing', () => {
  it('a wrong width, a wrong rank, no sample or a disposed tensor: typed error, weights unchanged, a retry works', async () => {
    const model = bnModel();
    const { xs, ys } = mnistSubset(2);
    const kit = createMoon({ model, numClasses: 10, epochs: 2, stepsPerEpoch: 1, seed: 1 });
    model.compile({ optimizer: kit.optimizer(tf.train.sgd(0.01)), loss: kit.loss });
    await model.fit(xs, kit.labels(ys), { epochs: 2, batchSize: 20, verbose: 0, callbacks: [...kit.callbacks] });
    const before = model.getWeights().map((w) => Array.from(w.dataSync()));
    const disposed = tf.zeros([2, 784]);
    disposed.dispose();
    const bad = [tf.zeros([4, 100]), tf.zeros([4, 28, 28]), tf.zeros([0, 784]), disposed];
    for (const x of bad) {
      await expect(kit.finalize(x)).rejects.toThrow(MoonConfigError);
      await expect(kit.finalize(x)).rejects.toThrow(/finalize: the BatchNorm refresh input/);
      expect(model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(before);
    }
    await expect(kit.finalize(tf.zeros([4, 100]))).rejects.toThrow(/shape \[4, 100\], the model takes \[N, 784\]/);
    await kit.finalize(xs); // the retry with the training inputs goes through
    expect(model.getWeights().map((w) => Array.from(w.dataSync()))).not.toEqual(before);
    const stats = maskedKernels(kit).map((k) => kernelStats(k.kernel, k.mask));
    expect(stats.every((s) => s.nonzeroOffMask === 0)).toBe(true);
    tf.dispose([xs, ys, ...bad.filter((t) => !t.isDisposed)]);
    kit.dispose();
    model.dispose();
  });
});
