import * as tf from '@tensorflow/tfjs';
import { createMoon } from '../src';
import { mnistSubset } from './helpers/data';
import { buildMlp, expectExactMasks } from './helpers/models';

/** The model's weights as numbers; -0 and 0 compare equal (x + 0 turns -0 into 0). */
const weightsOf = (model: tf.LayersModel): number[][] => model.getWeights().map((w) => Array.from(w.dataSync(), (v) => v + 0));

const optimizers: [string, () => tf.Optimizer][] = [
  ['sgd', () => tf.train.sgd(0.1)],
  ['momentum', () => tf.train.momentum(0.05, 0.9)],
  ['adam', () => tf.train.adam(0.01)],
  ['rmsprop', () => tf.train.rmsprop(0.01, 0.9, 0.5)],
  ['adagrad', () => tf.train.adagrad(0.1)],
];

describe('the masked optimizer wraps every common optimizer', () => {
  it.each(optimizers)('%s: trains, keeps masks exact and zero off the mask', async (_name, make) => {
    const model = buildMlp(3);
    const { xs, ys } = mnistSubset(4);
    const kit = createMoon({ model, numClasses: 10, epochs: 2, stepsPerEpoch: 2, seed: 4, unknownAware: false, mask: { interval: 1, endStep: 3 } });
    const planned = kit.masks.map((m) => m.active);
    const start = model.getWeights().map((w) => Array.from(w.dataSync()));
    model.compile({ optimizer: kit.optimizer(make()), loss: 'categoricalCrossentropy' });
    await model.fit(xs, ys, { epochs: 2, batchSize: 20, shuffle: false, verbose: 0, callbacks: [...kit.callbacks] });
    expectExactMasks(kit, planned);
    expect(model.getWeights().map((w) => Array.from(w.dataSync()))).not.toEqual(start);
    tf.dispose([xs, ys]);
    kit.dispose();
    model.dispose();
  });

  it.each([
    ['sgd', () => tf.train.sgd(0.1)],
    ['momentum', () => tf.train.momentum(0.1, 0.9)],
    ['adam', () => tf.train.adam(0.01)],
  ] as [string, () => tf.Optimizer][])('%s: setLearningRate reaches the inner optimizer', async (_name, make) => {
    const model = buildMlp(3);
    const { xs, ys } = mnistSubset(2);
    const kit = createMoon({ model, numClasses: 10, epochs: 2, stepsPerEpoch: 1, sparsifier: 'static', unknownAware: false, lr: false });
    const wrapper = kit.optimizer(make());
    wrapper.setLearningRate(0);
    expect(wrapper.learningRate).toBe(0);
    model.compile({ optimizer: wrapper, loss: 'categoricalCrossentropy' });
    const before = weightsOf(model);
    await model.fit(xs, ys, { epochs: 1, batchSize: 20, verbose: 0, callbacks: [...kit.callbacks] });
    expect(weightsOf(model)).toEqual(before); // lr 0: nothing moved
    wrapper.learningRate = 0.05;
    await model.fit(xs, ys, { epochs: 1, batchSize: 20, verbose: 0, callbacks: [...kit.callbacks] });
    expect(weightsOf(model)).not.toEqual(before);
    tf.dispose([xs, ys]);
  });

  it('counts every step, update steps included, and round-trips its weights', async () => {
    const model = buildMlp(3);
    const { xs, ys } = mnistSubset(4);
    const kit = createMoon({ model, numClasses: 10, epochs: 3, stepsPerEpoch: 2, unknownAware: false, mask: { interval: 1, endStep: 2 } });
    const wrapper = kit.optimizer(tf.train.adam(0.01));
    model.compile({ optimizer: wrapper, loss: 'categoricalCrossentropy' });
    await model.fit(xs, ys, { epochs: 3, batchSize: 20, verbose: 0, callbacks: [...kit.callbacks] });
    expect(wrapper.iterations).toBe(6);
    const saved = await wrapper.getWeights();
    expect(saved[0].name).toBe('iter');
    expect(saved.some((w) => w.name === 'inner/iter')).toBe(true);
    const innerIter = (await saved.find((w) => w.name === 'inner/iter')!.tensor.data())[0];
    expect(innerIter).toBe(4); // update steps 1 and 2 replaced the optimizer step
    await wrapper.setWeights(saved);
    expect(wrapper.iterations).toBe(6);
    const again = await wrapper.getWeights();
    expect((await again.find((w) => w.name === 'inner/iter')!.tensor.data())[0]).toBe(4);
    tf.dispose([xs, ys, saved[0].tensor, again[0].tensor, saved.find((w) => w.name === 'inner/iter')!.tensor]);
  });
});

describe('weightDecay (coupled L2, as SGD weight_decay)', () => {
  /** One SGD step of one batch with a kit (static masks at 50%), returning the weights before and after. */
  async function oneStep(weightDecay: number, sparsity: number): Promise<{ before: number[][]; after: number[][] }> {
    const model = buildMlp(5);
    const { xs, ys } = mnistSubset(2); // 20 samples: one batch
    const kit = createMoon({ model, numClasses: 10, epochs: 1, stepsPerEpoch: 1, seed: 2, sparsity, sparsifier: 'static', unknownAware: false, weightDecay });
    const before = weightsOf(model);
    model.compile({ optimizer: kit.optimizer(tf.train.sgd(0.1)), loss: 'categoricalCrossentropy' });
    await model.fit(xs, ys, { epochs: 1, batchSize: 20, shuffle: false, verbose: 0, callbacks: [...kit.callbacks] });
    const after = weightsOf(model);
    tf.dispose([xs, ys]);
    model.optimizer.dispose();
    kit.dispose();
    model.dispose();
    return { before, after };
  }

  it.each([0.5, 0])('sparsity %s: each weight moves by −lr·λ·w more than without decay; masked weights stay 0', async (sparsity) => {
    const lambda = 0.01;
    const plain = await oneStep(0, sparsity);
    const decayed = await oneStep(lambda, sparsity);
    expect(decayed.before).toEqual(plain.before);
    decayed.after.forEach((layer, l) =>
      layer.forEach((w, i) => {
        const w0 = plain.before[l][i];
        if (plain.after[l][i] === 0 && w0 === 0) expect(w).toBe(0); // off the mask
        else expect(w).toBeCloseTo(plain.after[l][i] - 0.1 * lambda * w0, 6);
      }),
    );
  });

  it('rejects a negative or non-numeric decay with a typed error', () => {
    const model = buildMlp(1);
    expect(() => createMoon({ model, numClasses: 10, epochs: 1, stepsPerEpoch: 1, unknownAware: false, weightDecay: -1 })).toThrow(/weightDecay must be/);
    expect(() => createMoon({ model, numClasses: 10, epochs: 1, stepsPerEpoch: 1, unknownAware: false, weightDecay: '5e-4' as never })).toThrow(/weightDecay/);
    model.dispose();
  });
});
