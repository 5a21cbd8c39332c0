import * as tf from '@tensorflow/tfjs';
import {
  createMoon, MoonConfigError, MoonModelError, MoonOptimizerError, MoonRegistryError, type MoonOptions,
} from '../src';
import { buildMlp } from './helpers/models';

/** Every failing createMoon must leave the model's weights exactly as they were. */
function expectRejected(options: Partial<MoonOptions>, type: new (...a: never[]) => Error, message: RegExp): void {
  const model = (options.model as tf.LayersModel | undefined) ?? buildMlp();
  const before = model.getWeights().map((w) => Array.from(w.dataSync()));
  const full = { model, numClasses: 10, epochs: 2, stepsPerEpoch: 5, unknownAware: false, ...options } as MoonOptions;
  expect(() => createMoon(full)).toThrow(type);
  expect(() => createMoon(full)).toThrow(message);
  expect(model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(before);
}

describe('bad input gets a typed error before any weight is touched', () => {
  it.each([1, 1.5, -0.1, NaN, '0.9'])('sparsity %p', (sparsity) => {
    expectRejected({ sparsity: sparsity as number }, MoonConfigError, /sparsity must be a number in \[0, 1\)/);
  });

  it('a model with no maskable layer', () => {
    const model = tf.sequential({ layers: [tf.layers.activation({ activation: 'relu', inputShape: [4] })] });
    expectRejected({ model, numClasses: 4 }, MoonModelError, /no maskable layer.*Dense, Conv1D, Conv2D.*LSTM.*registerMaskableLayer/);
  });

  it.each([0, -5, 2.5])('mask.interval %p', (interval) => {
    expectRejected({ mask: { interval } }, MoonConfigError, /mask.interval must be a positive integer/);
  });

  it('endStep before startStep', () => {
    expectRejected({ mask: { startStep: 50, endStep: 10 } }, MoonConfigError, /endStep \(10\) is before mask.startStep \(50\)/);
  });

  it('unknown sparsifier and distribution names', () => {
    expectRejected({ sparsifier: 'rigL' }, MoonRegistryError, /unknown sparsifier "rigL": valid names are/);
    expectRejected({ distribution: 'ERK' }, MoonRegistryError, /unknown distribution "ERK": valid names are/);
  });

  it.each([
    [{ epochs: 0 }, /epochs must be a positive integer/],
    [{ epochs: undefined }, /epochs must be a positive integer, got undefined/],
    [{ stepsPerEpoch: 1.5 }, /stepsPerEpoch must be a positive integer/],
    [{ numClasses: 0 }, /numClasses must be a positive integer/],
    [{ mask: { dropFraction: 1.2 } }, /mask.dropFraction must be a number in \[0, 1\]/],
    [{ mask: { decay: 'cos' as never } }, /mask.decay must be 'cosine', 'linear' or 'constant'/],
    [{ mask: { denseLayers: ['nope'] } }, /mask.denseLayers names "nope", which is not a maskable layer/],
    [{ unknownAware: 'yes' as never }, /unknownAware must be true or false/],
  ] as const)('option %p', (options, message) => {
    expectRejected(options as Partial<MoonOptions>, MoonConfigError, message);
  });

  it('a model that is not a LayersModel', () => {
    const options = { model: {} as tf.LayersModel, numClasses: 10, epochs: 1, stepsPerEpoch: 1 };
    expect(() => createMoon(options)).toThrow(MoonConfigError);
    expect(() => createMoon(options)).toThrow(/options.model must be a tf.LayersModel/);
    expect(() => createMoon(undefined as unknown as MoonOptions)).toThrow(/createMoon needs an options object/);
  });

  it('an output width that is not numClasses', () => {
    expectRejected({ numClasses: 11 }, MoonModelError, /model has 10 outputs but numClasses is 11/);
  });

  it('an unbuilt layer', () => {
    const model = tf.sequential();
    const inner = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [2] })] });
    model.add(inner);
    const fresh = tf.layers.dense({ units: 3 });
    (model.layers as unknown as tf.layers.Layer[]).push(fresh); // a layer that never saw an input
    expect(() => createMoon({ model, numClasses: 3, epochs: 1, stepsPerEpoch: 1, unknownAware: false })).toThrow(/is not built yet/);
  });
});

describe('optimizer and model misuse inside fit', () => {
  const data = () => ({ xs: tf.randomNormal([8, 784], 0, 1, 'float32', 2), ys: tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32'), 10).toFloat() });

  it('RigL without the optimizer wrapper fails before the first batch', async () => {
    const model = buildMlp();
    const kit = createMoon({ model, numClasses: 10, epochs: 1, stepsPerEpoch: 2, unknownAware: false, mask: { interval: 1 } });
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
    const before = model.getWeights().map((w) => Array.from(w.dataSync()));
    const { xs, ys } = data();
    await expect(model.fit(xs, ys, { epochs: 1, batchSize: 4, verbose: 0, callbacks: [...kit.callbacks] })).rejects.toThrow(
      MoonOptimizerError,
    );
    expect(model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(before);
    tf.dispose([xs, ys]);
  });

  it('an optimizer wrapped twice', () => {
    const kit = createMoon({ model: buildMlp(), numClasses: 10, epochs: 1, stepsPerEpoch: 2, unknownAware: false });
    const other = createMoon({ model: buildMlp(), numClasses: 10, epochs: 1, stepsPerEpoch: 2, unknownAware: false });
    const inner = tf.train.adam(0.01);
    const wrapped = kit.optimizer(inner);
    expect(() => kit.optimizer(wrapped)).toThrow(/already a kit wrapper/);
    expect(() => kit.optimizer(inner)).toThrow(/already wrapped by a kit/);
    expect(() => other.optimizer(inner)).toThrow(MoonOptimizerError);
    expect(() => kit.optimizer({} as tf.Optimizer)).toThrow(/expects a tf.Optimizer/);
  });

  it('a kit used with a different model than it was created for', async () => {
    const kit = createMoon({ model: buildMlp(), numClasses: 10, epochs: 1, stepsPerEpoch: 2, unknownAware: false });
    const otherModel = buildMlp();
    otherModel.compile({ optimizer: kit.optimizer(tf.train.sgd(0.1)), loss: 'categoricalCrossentropy' });
    const { xs, ys } = data();
    await expect(otherModel.fit(xs, ys, { epochs: 1, batchSize: 4, verbose: 0, callbacks: [...kit.callbacks] })).rejects.toThrow(
      /this kit was created for another model/,
    );
    // Without the callbacks, the wrapper itself notices at the first step.
    await expect(otherModel.fit(xs, ys, { epochs: 1, batchSize: 4, verbose: 0 })).rejects.toThrow(MoonModelError);
    tf.dispose([xs, ys]);
  });
});
