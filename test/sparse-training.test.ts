import * as tf from '@tensorflow/tfjs';
import { createMoon, type KernelChoice, type MoonOptions } from '../src';
import { mnistSubset } from './helpers/data';
import { leakProbe } from './helpers/leak-probe';
import { checkpointAndResume, maxDifference } from './helpers/resume-run';
import { buildMlp, maskedKernels } from './helpers/models';

// createMoon({ kernels }): the masked Dense layers train through the sparse kernels with the semantics of the dense
// path. Runs in the cpu and the wasm project.

interface Run {
  masks: number[][];
  weights: number[][];
  losses: number[];
  accuracy: number;
  updates: number;
}

/** Trains a fresh seeded MLP with a RigL (or other) kit in `kernels` mode; returns masks, weights and losses. */
async function train(kernels: KernelChoice, epochs: number, extra: Partial<MoonOptions> = {}, fitEpochs = epochs): Promise<Run> {
  const model = buildMlp(2, extra.unknownAware === false ? 10 : 11);
  const { xs, ys } = mnistSubset(6); // 60 samples, 3 steps of 20 per epoch
  const kit = createMoon({ model, numClasses: 10, epochs, stepsPerEpoch: 3, seed: 5, sparsity: 0.8, kernels, mask: { interval: 2 }, ...extra });
  let updates = 0;
  kit.events.on('mask:update', () => updates++);
  model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.05, 0.9)), loss: kit.loss, metrics: ['accuracy'] });
  const labels = kit.labels(ys);
  const history = await model.fit(xs, labels, { epochs: fitEpochs, batchSize: 20, shuffle: false, verbose: 0, callbacks: [...kit.callbacks] });
  const masks = maskedKernels(kit).map((k) => Array.from(k.mask.dataSync()));
  const weights = model.getWeights().map((w) => Array.from(w.dataSync(), (v) => v + 0));
  const accuracy = tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(model.predict(xs) as tf.Tensor, 1), tf.argMax(labels, 1)), 'float32')).dataSync()[0]);
  tf.dispose([xs, ys, labels]);
  model.optimizer.dispose();
  kit.dispose();
  model.dispose();
  return { masks, weights, losses: history.history.loss as number[], accuracy, updates };
}

describe(`kernels: 'sparse' trains as the dense path does (${process.env.TFJS_TEST_BACKEND})`, () => {
  it('a short run with mask updates: identical masks, weights equal to float32 rounding', async () => {
    const dense = await train('dense', 2);
    const sparse = await train('sparse', 2);
    expect(dense.updates).toBeGreaterThan(0); // RigL updates at steps 2 and 4 (the voter window stops them later)
    expect(sparse.updates).toBe(dense.updates);
    expect(sparse.masks).toEqual(dense.masks);
    expect(maxDifference(sparse.weights, dense.weights)).toBeLessThan(2e-5);
    sparse.losses.forEach((loss, i) => expect(loss).toBeCloseTo(dense.losses[i], 4));
  });

  it('SET and static too', async () => {
    for (const sparsifier of ['set', 'static']) {
      const dense = await train('dense', 2, { sparsifier });
      const sparse = await train('sparse', 2, { sparsifier });
      expect(sparse.masks).toEqual(dense.masks);
      expect(maxDifference(sparse.weights, dense.weights)).toBeLessThan(2e-5);
    }
  });

  it('gradual magnitude pruning (masks shrinking step by step) gives the same masks and weights', async () => {
    const prune = { prune: { schedule: 'polynomial' as const, beginStep: 0, endStep: 4, frequency: 1 }, sparsifier: 'static' };
    const dense = await train('dense', 3, prune);
    const sparse = await train('sparse', 3, prune);
    expect(sparse.masks).toEqual(dense.masks);
    expect(maxDifference(sparse.weights, dense.weights)).toBeLessThan(2e-5);
  });

  it('a longer run: losses and accuracy agree', async () => {
    const dense = await train('dense', 6);
    const sparse = await train('sparse', 6);
    sparse.losses.forEach((loss, i) => expect(Math.abs(loss - dense.losses[i])).toBeLessThan(1e-3));
    expect(Math.abs(sparse.accuracy - dense.accuracy)).toBeLessThanOrEqual(1 / 60 + 1e-9);
  });

  it("'auto' takes the sparse path only under the crossover, with the same results", async () => {
    const dense = await train('dense', 2);
    const auto = await train('auto', 2);
    expect(auto.masks).toEqual(dense.masks);
    expect(maxDifference(auto.weights, dense.weights)).toBeLessThan(2e-5);
  });

  it('a checkpoint written in one mode resumes in the other', async () => {
    // 4 epochs in dense mode, checkpoint after 2, resume the last 2 with sparse kernels: equal to 4 dense epochs.
    const full = await train('dense', 4, { unknownAware: false });
    const options = { numClasses: 10, epochs: 4, stepsPerEpoch: 3, seed: 5, sparsity: 0.8, mask: { interval: 2 }, unknownAware: false };
    const resumed = await checkpointAndResume(options, () => tf.train.momentum(0.05, 0.9), 'dense', 'sparse', 2);
    expect(resumed.masks).toEqual(full.masks);
    expect(maxDifference(resumed.weights, full.weights)).toBeLessThan(2e-5);
  });

  it('leaks no tensor across epochs, and restores the layers when the kit is disposed', async () => {
    const model = buildMlp(3, 11);
    const { xs, ys } = mnistSubset(4);
    const kit = createMoon({ model, numClasses: 10, epochs: 5, stepsPerEpoch: 2, seed: 1, sparsity: 0.8, kernels: 'sparse', mask: { interval: 1, endStep: 5 }, voter: false });
    const dense = model.layers[0] as unknown as { call: unknown };
    const ownCall = Object.getPrototypeOf(dense).call;
    expect(dense.call).not.toBe(ownCall);
    model.compile({ optimizer: kit.optimizer(tf.train.sgd(0.05)), loss: kit.loss });
    const labels = kit.labels(ys);
    const { callback: probe, counts } = leakProbe(); // minus the loss tensors tfjs's History holds until fit ends
    await model.fit(xs, labels, { epochs: 5, batchSize: 20, shuffle: false, verbose: 0, callbacks: [...kit.callbacks, probe] });
    // Epochs 1–2: a mask update every step rebuilds the layouts (and the slots go back to the kernels' shape each time).
    expect(counts[1]).toBe(counts[0]);
    // From step 6 on the optimizer steps compactly: each sparse kernel holds its active-weight vector and a zero
    // gradient, once; nothing grows after that.
    const compactKernels = Object.values(kit.sparseKernelLayers).filter(Boolean).length;
    expect(compactKernels).toBe(3);
    expect(counts.slice(2)).toEqual([counts[0] + 2 * compactKernels, counts[0] + 2 * compactKernels, counts[0] + 2 * compactKernels]);
    kit.dispose();
    expect(dense.call).toBe(ownCall);
    tf.dispose([xs, ys, labels]);
    model.optimizer.dispose();
    model.dispose();
  });

  it('fuses ReLU into the sparse kernels: no separate Relu runs, forward or backward (#21 §7)', async () => {
    const model = buildMlp(3, 11); // relu, relu, softmax
    const kit = createMoon({ model, numClasses: 10, epochs: 2, stepsPerEpoch: 1, seed: 1, sparsity: 0.8, kernels: 'sparse', sparsifier: 'static' });
    const { xs, ys } = mnistSubset(1);
    model.compile({ optimizer: kit.optimizer(tf.train.sgd(0.05)), loss: kit.loss });
    const labels = kit.labels(ys);
    await model.fit(xs, labels, { epochs: 1, batchSize: 10, verbose: 0, callbacks: [...kit.callbacks] }); // builds the layouts
    const forward = await tf.profile(() => model.predict(xs) as tf.Tensor);
    const backward = await tf.profile(() => tf.grads((x: tf.Tensor) => tf.sum(model.apply(x) as tf.Tensor))([xs])[0]);
    for (const info of [forward, backward]) {
      expect(info.kernelNames).toContain('MoonSparseDense');
      expect(info.kernelNames).not.toContain('Relu'); // fused: the kernels apply it, and their gradient masks dy by the output's sign
    }
    tf.dispose(forward.result as tf.Tensor);
    tf.dispose(backward.result as tf.Tensor);
    tf.dispose([xs, ys, labels]);
    kit.dispose();
    model.optimizer.dispose();
    model.dispose();
  });

  it("rejects an unknown kernels choice", () => {
    const model = buildMlp(1, 11);
    expect(() => createMoon({ model, numClasses: 10, epochs: 2, stepsPerEpoch: 1, kernels: 'fast' as never })).toThrow(/kernels must be 'auto', 'sparse' or 'dense'/);
    model.dispose();
  });
});
