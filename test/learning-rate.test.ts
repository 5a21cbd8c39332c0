import * as tf from '@tensorflow/tfjs';
import { createMoon, learningRateMultiplier, type LearningRateEvent } from '../src';

describe('learning-rate schedule (moon-method.md §5.2)', () => {
  // 391 steps per epoch, 100 epochs, 20 averaging epochs, base lr 0.1, multipliers 1.2 → 0.08.
  const schedule = { start: 1.2, end: 0.08, epochs: 100, stepsPerEpoch: 391, constantEpochs: 20 };
  const lr = (epoch: number) => 0.1 * learningRateMultiplier(epoch * 391, schedule);

  it('gives the reference values', () => {
    expect(lr(0)).toBeCloseTo(0.12, 12);
    expect(lr(20)).toBeCloseTo(0.1036, 5);
    expect(lr(40)).toBeCloseTo(0.064, 12);
    expect(lr(60)).toBeCloseTo(0.024402, 6);
    expect(lr(80)).toBeCloseTo(0.008, 12);
    expect(0.1 * learningRateMultiplier(80 * 391 - 1, schedule)).toBeGreaterThan(0.008); // still cosine just before
    expect(lr(99)).toBeCloseTo(0.008, 12);
  });

  it('the optimizer really steps with it (SGD on one weight: w ← w − lr·2w)', async () => {
    // y = w·x with x = 1, target 0, MSE: gradient 2w. Sparsity 0 keeps the single weight active.
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, useBias: false, inputShape: [1], kernelInitializer: 'ones' })] });
    const kit = createMoon({
      model, numClasses: 1, epochs: 4, stepsPerEpoch: 2, sparsity: 0, sparsifier: 'static', unknownAware: false,
      lr: { start: 1.2, end: 0.08 }, voter: { epochs: 2 },
    });
    const events: LearningRateEvent[] = [];
    kit.events.on('lr:update', (e) => events.push(e));
    model.compile({ optimizer: kit.optimizer(tf.train.sgd(0.1)), loss: 'meanSquaredError' });
    await model.fit(tf.ones([2, 1]), tf.zeros([2, 1]), { epochs: 4, batchSize: 1, shuffle: false, verbose: 0, callbacks: [...kit.callbacks] });
    const s = { start: 1.2, end: 0.08, epochs: 4, stepsPerEpoch: 2, constantEpochs: 2 };
    let w = 1;
    for (let step = 0; step < 8; step++) w -= 0.1 * learningRateMultiplier(step, s) * 2 * w;
    expect(model.getWeights()[0].dataSync()[0]).toBeCloseTo(w, 6);
    expect(events.map((e) => e.epoch)).toEqual([0, 1, 2, 3]);
    expect(events.map((e) => e.learningRate)).toEqual([0, 2, 4, 6].map((step) => 0.1 * learningRateMultiplier(step, s)));
  });

  it('drives Adam through its learningRate field', async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
    const kit = createMoon({ model, numClasses: 2, epochs: 2, stepsPerEpoch: 1, sparsity: 0.5, unknownAware: false, lr: { start: 2, end: 0.5 }, voter: { epochs: 1 } });
    const adam = tf.train.adam(0.01);
    model.compile({ optimizer: kit.optimizer(adam), loss: 'meanSquaredError' });
    await model.fit(tf.ones([2, 3]), tf.zeros([2, 2]), { epochs: 2, batchSize: 2, verbose: 0, callbacks: [...kit.callbacks] });
    expect((adam as unknown as { learningRate: number }).learningRate).toBeCloseTo(0.005, 12); // the constant tail: 0.01 × 0.5
  });
});
