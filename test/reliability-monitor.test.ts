import * as tf from '@tensorflow/tfjs';
import { accuracy, createMoon, expectedCalibrationError, mspScore, MoonMetricError, oodMetrics, ReliabilityMonitor, type ReliabilityEpochEvent } from '../src';
import { mnistSubset } from './helpers/data';
import { leakProbe } from './helpers/leak-probe';
import { buildMlp } from './helpers/models';

describe('ReliabilityMonitor', () => {
  it('writes ID and per-OOD metrics into the epoch logs and emits reliability:epoch, every n epochs', async () => {
    const model = buildMlp(4);
    const { xs, ys } = mnistSubset(8);
    const val = mnistSubset(3);
    const noise = tf.randomUniform([25, 784], 0, 1, 'float32', 7);
    const kit = createMoon({ model, numClasses: 10, epochs: 4, stepsPerEpoch: 4, seed: 1, unknownAware: false });
    const events: ReliabilityEpochEvent[] = [];
    kit.events.on('reliability:epoch', (e) => events.push(e));
    const monitor = new ReliabilityMonitor({
      id: { x: val.xs, y: val.ys }, ood: { 'Uniform noise': noise }, numClasses: 10, everyEpochs: 2, batchSize: 7, events: kit.events,
    });
    model.compile({ optimizer: kit.optimizer(tf.train.adam(0.01)), loss: 'categoricalCrossentropy' });
    const history = await model.fit(xs, ys, { epochs: 4, batchSize: 20, shuffle: false, verbose: 0, callbacks: [...kit.callbacks, monitor] });

    expect(events.map((e) => e.epoch)).toEqual([1, 3]);
    const keys = ['id_acc', 'id_ece', 'ood_uniform_noise_auroc', 'ood_uniform_noise_aupr_in', 'ood_uniform_noise_aupr_out', 'ood_uniform_noise_fpr95'];
    for (const key of keys) expect(history.history[key]).toHaveLength(2); // History saw the keys at epochs 1 and 3
    // The last evaluation equals a direct computation on the final model (unbatched, through the public functions).
    const outId = model.predict(val.xs) as tf.Tensor2D;
    const outOod = model.predict(noise) as tf.Tensor2D;
    const expected = oodMetrics(mspScore(outId, { numClasses: 10 }), mspScore(outOod, { numClasses: 10 }));
    const last = events[1];
    expect(last.ood['Uniform noise'].auroc).toBeCloseTo(expected.auroc, 12);
    expect(last.ood['Uniform noise'].fpr95).toBeCloseTo(expected.fpr95, 12);
    expect(history.history.ood_uniform_noise_aupr_out[1]).toBeCloseTo(expected.auprOut, 12);
    expect(last.accuracy).toBeCloseTo(accuracy(outId, val.labels, { numClasses: 10 }), 12);
    expect(history.history.id_ece[1]).toBeCloseTo(expectedCalibrationError({ probabilities: outId, labels: val.labels }), 9);
    tf.dispose([outId, outOod, xs, ys, val.xs, val.ys, noise]);
  });

  it('does not leak tensors across epochs', async () => {
    const model = buildMlp(4);
    const { xs, ys } = mnistSubset(4);
    const noise = tf.randomUniform([10, 784], 0, 1, 'float32', 1);
    const kit = createMoon({ model, numClasses: 10, epochs: 4, stepsPerEpoch: 2, seed: 1, unknownAware: false });
    const monitor = new ReliabilityMonitor({ id: { x: xs, y: ys }, ood: [{ name: 'noise', x: noise }], numClasses: 10, batchSize: 16 });
    model.compile({ optimizer: kit.optimizer(tf.train.sgd(0.1)), loss: 'categoricalCrossentropy' });
    const { callback: probe, counts } = leakProbe();
    await model.fit(xs, ys, { epochs: 4, batchSize: 20, verbose: 0, callbacks: [...kit.callbacks, monitor, probe] });
    expect(new Set(counts).size).toBe(1);
    tf.dispose([xs, ys, noise]);
  });

  it('rejects bad options', () => {
    const x = tf.zeros([4, 784]);
    const y = [0, 1, 2, 3];
    expect(() => new ReliabilityMonitor({ id: { x, y }, ood: {}, numClasses: 10 })).toThrow(MoonMetricError);
    expect(() => new ReliabilityMonitor({ id: { x, y: [0] }, ood: { n: x }, numClasses: 10 })).toThrow(/1 labels for 4 samples/);
    expect(() => new ReliabilityMonitor({ id: { x, y }, ood: { n: x }, numClasses: 10, score: 'odin' as never })).toThrow(/unknown score "odin"/);
    expect(() => new ReliabilityMonitor({ id: { x, y }, ood: { n: x }, numClasses: 10, everyEpochs: 0 })).toThrow(/everyEpochs must be a positive integer/);
    x.dispose();
  });
});
