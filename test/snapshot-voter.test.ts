import * as tf from '@tensorflow/tfjs';
import { createMoon, isSnapshotBatch, MoonConfigError, type VoterFinalizeEvent, type VoterSnapshotEvent } from '../src';
import { mnistSubset } from './helpers/data';
import { buildBatchNormMlp, buildMlp, expectExactMasks } from './helpers/models';

describe('snapshot rules', () => {
  it('every-tenth takes ten evenly spaced snapshots; first-tenth the first 10% of the epoch (the reference)', () => {
    const every = Array.from({ length: 391 }, (_, b) => b).filter((b) => isSnapshotBatch(b, 391, 'every-tenth'));
    expect(every).toEqual([38, 77, 116, 155, 194, 233, 272, 311, 350, 389]);
    const first = Array.from({ length: 391 }, (_, b) => b).filter((b) => isSnapshotBatch(b, 391, 'first-tenth'));
    expect(first).toEqual(Array.from({ length: 39 }, (_, b) => b));
    expect(Array.from({ length: 5 }, (_, b) => b).filter((b) => isSnapshotBatch(b, 5, 'every-tenth'))).toEqual([0, 1, 2, 3, 4]);
  });
});

const bnModel = buildBatchNormMlp;

describe('snapshot voter', () => {
  it('writes the mean of the snapshot weights, keeps the masks exact, and re-estimates BatchNorm statistics', async () => {
    const model = bnModel();
    const { xs, ys } = mnistSubset(10); // 100 digits, batches of 20 → 5 per epoch
    const kit = createMoon({
      model, numClasses: 10, epochs: 4, stepsPerEpoch: 5, sparsity: 0.8, seed: 3, mask: { interval: 2 },
      tuner: { warmupEpochs: 1 }, voter: { epochs: 2, rule: 'every-tenth' },
    });
    // A probe after the kit's callbacks sums the trainable weights at exactly the snapshot batches.
    const sums: Float64Array[] = [];
    let taken = 0;
    const snapshots: VoterSnapshotEvent[] = [];
    kit.events.on('voter:snapshot', (e) => snapshots.push(e));
    const probe = new (class extends tf.Callback {
      override async onBatchEnd(): Promise<void> {
        if (snapshots.length === taken) return;
        taken = snapshots.length;
        model.trainableWeights.forEach((w, i) => {
          const v = w.read().dataSync();
          sums[i] ??= new Float64Array(v.length);
          v.forEach((x, j) => (sums[i][j] += x));
        });
      }
    })();
    model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.05, 0.9)), loss: kit.loss });
    await model.fit(xs, kit.labels(ys), { epochs: 4, batchSize: 20, shuffle: false, verbose: 0, callbacks: [...kit.callbacks, probe] });
    expect(snapshots.map((s) => [s.epoch, s.batch])).toEqual([[2, 0], [2, 1], [2, 2], [2, 3], [2, 4], [3, 0], [3, 1], [3, 2], [3, 3], [3, 4]]);

    const finals: VoterFinalizeEvent[] = [];
    kit.events.on('voter:finalize', (e) => finals.push(e));
    await kit.finalize({ x: xs, batchSize: 30 }); // 30, 30, 30, 10: unequal batches test the sample weighting
    expect(finals).toEqual([{ snapshots: 10, batchNormLayers: 1, samples: 100 }]);
    model.trainableWeights.forEach((w, i) => {
      const v = w.read().dataSync();
      let maxDiff = 0;
      v.forEach((x, j) => (maxDiff = Math.max(maxDiff, Math.abs(x - sums[i][j] / 10))));
      expect(maxDiff).toBeLessThan(1e-6);
    });
    expectExactMasks(kit);

    // BN statistics = sample-weighted mean over the 4 batches of the per-batch mean and (biased) variance of its input.
    const toBn = tf.model({ inputs: model.inputs, outputs: model.layers[0].output as tf.SymbolicTensor });
    const expectedMean = new Float64Array(16);
    const expectedVar = new Float64Array(16);
    for (const [start, size] of [[0, 30], [30, 30], [60, 30], [90, 10]]) {
      const { mean, variance } = tf.moments(toBn.predict(tf.slice(xs, start, size)) as tf.Tensor, 0);
      mean.dataSync().forEach((m, c) => (expectedMean[c] += (m * size) / 100));
      variance.dataSync().forEach((v, c) => (expectedVar[c] += (v * size) / 100));
    }
    const [, , movingMean, movingVar] = model.layers[1].getWeights().map((w) => w.dataSync());
    expectedMean.forEach((m, c) => expect(movingMean[c]).toBeCloseTo(m, 5));
    expectedVar.forEach((v, c) => expect(movingVar[c]).toBeCloseTo(v, 4));
    expect((model.layers[1] as unknown as { momentum: number }).momentum).toBe(0.99); // restored
    tf.dispose([xs, ys]);
  });

  it('refuses finalize before training, twice, and without data for a BatchNorm model', async () => {
    const model = bnModel();
    const { xs, ys } = mnistSubset(2);
    const kit = createMoon({ model, numClasses: 10, epochs: 2, stepsPerEpoch: 1, seed: 1 });
    await expect(kit.finalize(xs)).rejects.toThrow(/finalize\(\) before any snapshot/);
    model.compile({ optimizer: kit.optimizer(tf.train.sgd(0.01)), loss: kit.loss });
    await model.fit(xs, kit.labels(ys), { epochs: 2, batchSize: 20, verbose: 0, callbacks: [...kit.callbacks] });
    await expect(kit.finalize()).rejects.toThrow(/has 1 BatchNormalization layer\(s\).*pass the training inputs/);
    await kit.finalize(xs);
    await expect(kit.finalize(xs)).rejects.toThrow(MoonConfigError);
    await expect(kit.finalize(xs)).rejects.toThrow(/already called/);
    const plain = createMoon({ model: buildMlp(1), numClasses: 10, epochs: 2, stepsPerEpoch: 1, unknownAware: false });
    await expect(plain.finalize()).rejects.toThrow(/a plain kit .* has no voter/);
    tf.dispose([xs, ys]);
  });

  it('skips the BatchNorm pass for a model without BatchNorm, and on request', async () => {
    const model = buildMlp(2, 11);
    const { xs, ys } = mnistSubset(2);
    const kit = createMoon({ model, numClasses: 10, epochs: 2, stepsPerEpoch: 1, seed: 1 });
    const finals: VoterFinalizeEvent[] = [];
    kit.events.on('voter:finalize', (e) => finals.push(e));
    model.compile({ optimizer: kit.optimizer(tf.train.sgd(0.01)), loss: kit.loss });
    await model.fit(xs, kit.labels(ys), { epochs: 2, batchSize: 20, verbose: 0, callbacks: [...kit.callbacks] });
    await kit.finalize();
    expect(finals).toEqual([{ snapshots: 1, batchNormLayers: 0, samples: 0 }]);
    tf.dispose([xs, ys]);
  });
});
