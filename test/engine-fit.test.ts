import * as tf from '@tensorflow/tfjs';
import { createMoon, type MaskUpdateEvent } from '../src';
import { mnistImages14, mnistSubset } from './helpers/data';
import { leakProbe } from './helpers/leak-probe';
import { buildCnn, buildMlp, expectExactMasks } from './helpers/models';

describe('sparse training inside model.fit', () => {
  it.each([
    ['MLP', () => buildMlp(1), () => mnistSubset(20)],
    ['CNN', () => buildCnn(1), () => mnistImages14(10)],
  ] as const)('%s with RigL at sparsity 0.9 / ERK keeps every mask exact', async (_name, build, data) => {
    const model = build();
    const { xs, ys } = data();
    const batchSize = 20;
    const stepsPerEpoch = Math.ceil(xs.shape[0] / batchSize);
    const kit = createMoon({
      model, numClasses: 10, epochs: 3, stepsPerEpoch, sparsity: 0.9, seed: 7, unknownAware: false,
      mask: { interval: 4, endStep: 3 * stepsPerEpoch },
    });
    const planned = kit.masks.map((m) => m.active);
    const total = kit.masks.reduce((s, m) => s + m.total, 0);
    expect(planned.reduce((s, a) => s + a, 0)).toBe(Math.round(0.1 * total));

    const updates: MaskUpdateEvent[] = [];
    kit.events.on('mask:update', (e) => updates.push(e));
    model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.05, 0.9)), loss: 'categoricalCrossentropy' });
    await model.fit(xs, ys, { epochs: 3, batchSize, shuffle: false, verbose: 0, callbacks: [...kit.callbacks] });

    expect(updates.length).toBeGreaterThan(0);
    expect(updates.some((u) => u.grown > 0)).toBe(true);
    expect(kit.masks.map((m) => m.active)).toEqual(planned);
    // Read masks and weights from the device: every kernel holds exactly its planned count, zero off the mask.
    expectExactMasks(kit, planned);
    expect(Math.abs(kit.density * total - 0.1 * total)).toBeLessThanOrEqual(1);
    tf.dispose([xs, ys]);
    kit.dispose();
    model.dispose();
  });

  it('keeps tf.memory().numTensors flat across epochs', async () => {
    const model = buildMlp(2);
    const { xs, ys } = mnistSubset(10);
    const kit = createMoon({ model, numClasses: 10, epochs: 5, stepsPerEpoch: 5, seed: 1, unknownAware: false, mask: { interval: 2 } });
    model.compile({ optimizer: kit.optimizer(tf.train.adam(0.01)), loss: 'categoricalCrossentropy' });
    const { callback: probe, counts } = leakProbe();
    await model.fit(xs, ys, { epochs: 5, batchSize: 20, shuffle: false, verbose: 0, callbacks: [...kit.callbacks, probe] });
    expect(counts).toHaveLength(5);
    expect(new Set(counts).size).toBe(1);
    tf.dispose([xs, ys]);
    kit.dispose();
    model.dispose();
  });
});
