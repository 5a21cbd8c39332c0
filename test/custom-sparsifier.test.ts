import 'reflect-metadata';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { createMoon, registerSparsifier, SeededRandom } from '../src';
import { SaliencySparsifier } from '../examples/custom-sparsifier';
import { mnistSubset } from './helpers/data';
import { buildMlp, expectExactMasks } from './helpers/models';

describe('the custom sparsifier of docs/custom-sparsifier.md', () => {
  it('is quoted verbatim by the doc', () => {
    const source = fs.readFileSync(path.join(__dirname, '../examples/custom-sparsifier.ts'), 'utf8');
    const region = source.split('// #region sparsifier\n')[1].split('// #endregion sparsifier')[0].trim();
    expect(fs.readFileSync(path.join(__dirname, '../docs/custom-sparsifier.md'), 'utf8')).toContain(region);
  });

  it('drops by |w·g| and grows by |g| on a crafted layer', () => {
    const out = tf.tidy(() =>
      new SaliencySparsifier().updateMask({
        layerName: 'l', step: 1, active: 4, dropFraction: 0.5, dropCount: 2, random: new SeededRandom(1),
        weights: tf.tensor1d([0.9, 0.1, 0, 0.5, 2, 0]),
        mask: tf.tensor1d([1, 1, 0, 1, 1, 0]),
        gradient: tf.tensor1d([0.01, 3, 7, 1, 0.05, -4]),
      }),
    );
    // saliency of active: 0.009, 0.3, 0.5, 0.1 → drop positions 0 and 4; grow |g| among {0,2,4,5}: 7 (2), 4 (5).
    expect(Array.from(out.dataSync())).toEqual([0, 1, 1, 1, 0, 1]);
  });

  it('trains inside fit by name with exact masks', async () => {
    const model = buildMlp(8);
    const { xs, ys } = mnistSubset(4);
    const kit = createMoon({ model, numClasses: 10, epochs: 2, stepsPerEpoch: 2, sparsifier: 'saliency', seed: 2, unknownAware: false, mask: { interval: 1, endStep: 3 } });
    const planned = kit.masks.map((m) => m.active);
    let grown = 0;
    kit.events.on('mask:update', (e) => (grown += e.grown));
    model.compile({ optimizer: kit.optimizer(tf.train.sgd(0.1)), loss: 'categoricalCrossentropy' });
    await model.fit(xs, ys, { epochs: 2, batchSize: 20, shuffle: false, verbose: 0, callbacks: [...kit.callbacks] });
    expect(grown).toBeGreaterThan(0);
    expectExactMasks(kit, planned);
    tf.dispose([xs, ys]);
  });

  it('a plain JavaScript-style class (no decorators, no constructor arguments) registers and trains', async () => {
    let calls = 0;
    class KeepMask {
      needsGradients = false;
      updateMask(ctx: { mask: tf.Tensor }): tf.Tensor {
        calls++;
        return tf.clone(ctx.mask);
      }
    }
    registerSparsifier('plain-js-keep', KeepMask);
    const model = buildMlp(8);
    const { xs, ys } = mnistSubset(2);
    const kit = createMoon({ model, numClasses: 10, epochs: 1, stepsPerEpoch: 1, sparsifier: 'plain-js-keep', unknownAware: false, mask: { interval: 1, endStep: 1 } });
    model.compile({ optimizer: kit.optimizer(tf.train.sgd(0.1)), loss: kit.loss });
    await model.fit(xs, ys, { epochs: 1, batchSize: 20, verbose: 0, callbacks: [...kit.callbacks] });
    expect(calls).toBe(3); // one update step, three masked layers
    kit.dispose();
    tf.dispose([xs, ys]);
  });
});
