import * as tf from '@tensorflow/tfjs';
import { createMoon, type TunerAlphaEvent } from '../src';
import { mnistSubset } from './helpers/data';
import { buildMlp } from './helpers/models';

/** mean over a batch of (1 − u)·CE over K+1 outputs, in float64 from predicted probabilities. */
function batchTerm(probs: number[][], labels: number[]): number {
  const K = probs[0].length - 1;
  return probs.reduce((s, p, i) => s + (1 - Math.min(p[K], 1 - 1e-7)) * -Math.log(Math.max(p[labels[i]], 1e-7)), 0) / probs.length;
}

describe('auto-tuner', () => {
  it('sets α = EWMA / initFactor after warm-up, then moves linearly to alphaFinal at the last epoch', async () => {
    // Frozen weights (SGD at lr 0, static masks) make every batch's term computable from model.predict.
    const model = buildMlp(3, 11);
    const { xs, ys, labels } = mnistSubset(6); // 60 digits, 3 batches of 20
    const epochs = 6;
    const kit = createMoon({
      model, numClasses: 10, epochs, stepsPerEpoch: 3, sparsity: 0.8, sparsifier: 'static', seed: 1,
      tuner: { warmupEpochs: 2, initFactor: 64, alphaFinal: 1 }, lr: false, voter: false,
    });
    const events: TunerAlphaEvent[] = [];
    kit.events.on('tuner:alpha', (e) => events.push(e));
    model.compile({ optimizer: kit.optimizer(tf.train.sgd(0)), loss: kit.loss });
    const history = await model.fit(xs, kit.labels(ys), { epochs, batchSize: 20, shuffle: false, verbose: 0, callbacks: [...kit.callbacks] });

    // Replay the EWMA (μ = 0.05) over the 2 warm-up epochs × 3 batches.
    const probs = (model.predict(xs) as tf.Tensor).arraySync() as number[][];
    const terms = [0, 1, 2].map((b) => batchTerm(probs.slice(b * 20, b * 20 + 20), labels.slice(b * 20, b * 20 + 20)));
    let ewma = terms[0];
    for (let step = 1; step < 6; step++) ewma = 0.05 * terms[step % 3] + 0.95 * ewma;

    expect(events.map((e) => e.epoch)).toEqual([2, 3, 4, 5]);
    expect(events[0].ewma).toBeCloseTo(ewma, 5);
    const alpha0 = ewma / 64;
    events.forEach((e, i) => expect(e.alpha).toBeCloseTo(alpha0 + (i * (1 - alpha0)) / 3, 5));
    expect(events[3].alpha).toBeCloseTo(1, 6);
    // The loss used that α: with frozen weights, epoch losses are CE during warm-up and grow with α after.
    const loss = history.history.loss as number[];
    expect(loss[0]).toBeCloseTo(loss[1], 5);
    expect(loss[5]).toBeGreaterThan(loss[2]);
    tf.dispose([xs, ys]);
    kit.dispose();
  });

  it('fails clearly when the model is not compiled with kit.loss', async () => {
    const model = buildMlp(3, 11);
    const { xs, ys } = mnistSubset(2);
    const kit = createMoon({ model, numClasses: 10, epochs: 3, stepsPerEpoch: 1, seed: 1, tuner: { warmupEpochs: 1 } });
    model.compile({ optimizer: kit.optimizer(tf.train.sgd(0.01)), loss: 'categoricalCrossentropy' });
    await expect(model.fit(xs, kit.labels(ys), { epochs: 3, batchSize: 20, verbose: 0, callbacks: [...kit.callbacks] })).rejects.toThrow(
      /without one training batch of the unknown-aware loss: compile the model with model.compile\(\{ loss: kit.loss/,
    );
  });
});
