import * as tf from '@tensorflow/tfjs';
import { createMoon, MoonOptimizerError } from '../src';
import { mnistSubset } from './helpers/data';
import { buildMlp } from './helpers/models';

// Issue #22 rows 12 and 13: the optimizer names every TF.js example compiles with, and plain-object callbacks.

const kitFor = (model: tf.LayersModel) => createMoon({ model, numClasses: 10, epochs: 2, stepsPerEpoch: 2, sparsity: 0.8, seed: 2, unknownAware: false, sparsifier: 'static' });

describe("kit.optimizer('rmsprop') and the other names model.compile accepts", () => {
  it("builds TF.js's optimizer with tfjs-layers' defaults, in either spelling", () => {
    const expected: Record<string, [string, number]> = { sgd: ['SGD', 0.01], adam: ['Adam', 0.001], rmsprop: ['RMSProp', 0.001], adagrad: ['Adagrad', 0.01], adadelta: ['Adadelta', 1] };
    for (const [name, [className, learningRate]] of Object.entries(expected)) {
      for (const spelling of [name, className]) {
        const model = buildMlp(1);
        const kit = kitFor(model);
        const wrapper = kit.optimizer(spelling as never);
        const inner = (wrapper as unknown as { inner: tf.Optimizer }).inner;
        expect(inner.getClassName()).toBe(className);
        expect((inner as unknown as { learningRate: number }).learningRate).toBe(learningRate);
        kit.dispose();
      }
    }
  });

  it("trains exactly as the same optimizer passed as an object", async () => {
    const { xs, ys } = mnistSubset(2);
    const weights: Float32Array[][] = [];
    for (const make of [() => 'rmsprop' as const, () => tf.train.rmsprop(0.001, 0.9, 0, tf.backend().epsilon())]) {
      const model = buildMlp(3);
      const kit = kitFor(model);
      model.compile({ optimizer: kit.optimizer(make()), loss: kit.loss });
      await model.fit(xs, ys, { epochs: 2, batchSize: 10, shuffle: false, verbose: 0, callbacks: [...kit.callbacks] });
      weights.push(model.getWeights().map((w) => w.dataSync() as Float32Array));
      kit.dispose();
    }
    expect(weights[0]).toEqual(weights[1]);
    tf.dispose([xs, ys]);
  });

  it('an unknown name and adamax are typed errors naming what works', () => {
    const kit = kitFor(buildMlp(1));
    expect(() => kit.optimizer('nadam' as never)).toThrow(MoonOptimizerError);
    expect(() => kit.optimizer('nadam' as never)).toThrow(/takes 'sgd', 'adam', 'rmsprop', 'adagrad' or 'adadelta'/);
    expect(() => kit.optimizer('adamax' as never)).toThrow(/Adamax is not supported.*'adam'/);
    kit.dispose();
  });
});

describe('kit.withCallbacks', () => {
  it("runs the kit's callbacks and plain-object ones side by side (a plain mix fails in TF.js itself)", async () => {
    const { xs, ys } = mnistSubset(2);
    const model = buildMlp(4);
    const kit = kitFor(model);
    model.compile({ optimizer: kit.optimizer('sgd'), loss: kit.loss });
    const mixed = [...kit.callbacks, { onEpochEnd: async () => undefined }] as never;
    await expect(model.fit(xs, ys, { epochs: 1, batchSize: 10, verbose: 0, callbacks: mixed })).rejects.toThrow(/setParams is not a function/);
    const epochs: number[] = [];
    let initialised = 0;
    kit.events.on('mask:init', () => initialised++);
    const own = new tf.CustomCallback({ onBatchEnd: async () => undefined });
    await model.fit(xs, ys, { epochs: 2, batchSize: 10, verbose: 0, callbacks: kit.withCallbacks({ onEpochEnd: async (epoch: number) => void epochs.push(epoch) }, own) });
    expect(epochs).toEqual([0, 1]);
    expect(initialised).toBe(1); // the kit's mask-updater callback ran
    tf.dispose([xs, ys]);
    kit.dispose();
  });
});
