import * as tf from '@tensorflow/tfjs';
import { createMoon } from '../src';
import { mnistSubset } from './helpers/data';
import { buildMlp, maskedKernels } from './helpers/models';

async function run(seed: number, sparsifier: string): Promise<{ masks: number[][]; weights: number[][]; initialMasks: number[][] }> {
  const model = buildMlp(5);
  const { xs, ys } = mnistSubset(6);
  const kit = createMoon({ model, numClasses: 10, epochs: 2, stepsPerEpoch: 3, seed, sparsifier, unknownAware: false, mask: { interval: 2 } });
  const initialMasks = maskedKernels(kit).map((k) => Array.from(k.mask.dataSync()));
  model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.05, 0.9)), loss: 'categoricalCrossentropy' });
  await model.fit(xs, ys, { epochs: 2, batchSize: 20, shuffle: false, verbose: 0, callbacks: [...kit.callbacks] });
  const out = {
    initialMasks,
    masks: maskedKernels(kit).map((k) => Array.from(k.mask.dataSync())),
    weights: model.getWeights().map((w) => Array.from(w.dataSync())),
  };
  tf.dispose([xs, ys]);
  kit.dispose();
  model.dispose();
  return out;
}

describe('seeding', () => {
  it.each(['rigl', 'set'])('%s: the same seed gives identical masks and identical final weights', async (sparsifier) => {
    const a = await run(21, sparsifier);
    const b = await run(21, sparsifier);
    expect(b.initialMasks).toEqual(a.initialMasks);
    expect(b.masks).toEqual(a.masks);
    expect(b.weights).toEqual(a.weights);
    expect(a.masks).not.toEqual(a.initialMasks); // the masks did move during training
  });

  it('a different seed gives different masks', async () => {
    const a = await run(21, 'set');
    const c = await run(22, 'set');
    expect(c.initialMasks).not.toEqual(a.initialMasks);
    expect(c.masks).not.toEqual(a.masks);
  });
});

describe('the schedule follows the optimizer step counter', () => {
  it('two fit calls of 1 epoch update at the same steps, with the same masks, as one fit of 2 epochs', async () => {
    const runIn = async (calls: number[]) => {
      const model = buildMlp(6);
      const { xs, ys } = mnistSubset(6);
      const kit = createMoon({ model, numClasses: 10, epochs: 2, stepsPerEpoch: 3, seed: 9, unknownAware: false, mask: { interval: 2, endStep: 6 } });
      const steps: number[] = [];
      kit.events.on('mask:update', (e) => steps.push(e.step));
      model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.05, 0.9)), loss: 'categoricalCrossentropy' });
      for (const epochs of calls) await model.fit(xs, ys, { epochs, batchSize: 20, shuffle: false, verbose: 0, callbacks: [...kit.callbacks] });
      const masks = maskedKernels(kit).map((k) => Array.from(k.mask.dataSync()));
      tf.dispose([xs, ys]);
      return { steps, masks };
    };
    const once = await runIn([2]);
    const split = await runIn([1, 1]);
    expect(once.steps).toEqual([2, 2, 2, 4, 4, 4, 6, 6, 6]);
    expect(split).toEqual(once);
  });
});
