import * as tf from '@tensorflow/tfjs';
import { createMoon, loadSparse, SPARSE_CROSSOVER_DENSITY } from '../src';
import { measureRatio, PROBE_BATCHES, PROBE_MARGIN, probeResults, probeSparseSpeed } from '../src/plugins/sparse/speed-probe';
import { compileSparseKernels } from '../src/plugins/sparse/kernel-module';
import { mnistSubset } from './helpers/data';
import { buildMlp } from './helpers/models';
import { exportedInMemory, sparsifyDense } from './helpers/sparse-models';

// 'auto''s per-machine decision (src/plugins/sparse/speed-probe.ts), in the cpu and the wasm project.

/** A closure that spins for `ms` milliseconds: work of a known duration. */
const spin = (ms: number) => (): void => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

describe(`speed probe (${process.env.TFJS_TEST_BACKEND})`, () => {
  beforeAll(() => compileSparseKernels());

  test('measureRatio times two closures interleaved: a 4× faster one reads about 0.25, a 4× slower one about 4', () => {
    const fast = measureRatio({ dense: spin(2), sparse: spin(0.5) });
    expect(fast).toBeGreaterThan(0.15);
    expect(fast).toBeLessThan(0.4);
    const slow = measureRatio({ dense: spin(0.5), sparse: spin(2) });
    expect(slow).toBeGreaterThan(2.5);
    expect(slow).toBeLessThan(6);
    const tie = measureRatio({ dense: spin(1), sparse: spin(1) });
    expect(tie).toBeGreaterThan(0.8);
    expect(tie).toBeLessThan(1.25);
  });

  test('a probe of a 2% 1024² layer finds sparse faster for inference and training; results are cached per shape and percent', () => {
    const before = tf.memory().numTensors;
    const inference = probeSparseSpeed(1024, 1024, 20972, 'inference');
    expect(tf.memory().numTensors).toBe(before); // the probe frees what it made
    expect(inference).toMatchObject({ backend: process.env.TFJS_TEST_BACKEND, use: 'inference', inDim: 1024, units: 1024, measured: 'step', sparseFaster: true });
    expect(inference.ratios).toHaveLength(PROBE_BATCHES.inference.length);
    for (const r of inference.ratios) expect(r).toBeLessThanOrEqual(PROBE_MARGIN);
    expect(probeSparseSpeed(1024, 1024, 20000, 'inference')).toBe(inference); // 1.9%: the same percent, no new probe
    const training = probeSparseSpeed(1024, 1024, 20972, 'training');
    expect(training).not.toBe(inference);
    expect(training.use).toBe('training');
    expect(training.sparseFaster).toBe(true);
    expect(probeResults()).toEqual(expect.arrayContaining([inference, training]));
  });

  test("loadSparse(…, { kernels: 'auto' }) converts exactly the layers the probe finds faster, never one above the crossover", async () => {
    const model = buildMlp(4);
    sparsifyDense(model, 0.1, [0], 3); // layer 0: 10%; layers 1 and 2 keep every weight
    const second = model.layers[1].getWeights();
    const halfZero = second[0].dataSync().map((v, i) => (i % 4 === 0 ? v : 0)); // 25%
    model.layers[1].setWeights([tf.tensor(halfZero, second[0].shape), second[1]]);
    const auto = await loadSparse(await exportedInMemory(model), { kernels: 'auto' });
    const backend = process.env.TFJS_TEST_BACKEND!;
    const expected = [[784, 32, 2509], [32, 16, 128]].map(([i, u, nnz]) =>
      nnz / (i * u) <= SPARSE_CROSSOVER_DENSITY[backend] && probeSparseSpeed(i, u, nnz, 'inference').sparseFaster ? 'SparseDense' : 'Dense',
    );
    expect(auto.layers.map((l) => l.getClassName())).toEqual([...expected, 'Dense']);
    model.dispose();
    auto.dispose();
  });

  test("createMoon({ kernels: 'auto' }) trains sparse exactly the layers the training probe finds faster, and says which", async () => {
    const model = buildMlp(2);
    const { xs, ys } = mnistSubset(2);
    const kit = createMoon({ model, numClasses: 10, epochs: 1, stepsPerEpoch: 1, seed: 5, sparsity: 0.8, kernels: 'auto', sparsifier: 'static', unknownAware: false });
    model.compile({ optimizer: kit.optimizer(tf.train.sgd(0.1)), loss: kit.loss });
    const labels = kit.labels(ys);
    await model.fit(xs, labels, { epochs: 1, batchSize: 20, verbose: 0, callbacks: [...kit.callbacks] });
    const chosen = kit.sparseKernelLayers;
    const names = model.layers.map((l) => l.name);
    expect(Object.keys(chosen).sort()).toEqual([...names].sort());
    for (const view of kit.maskSummary) {
      const [inDim, units] = view.shape;
      const fits = view.density <= SPARSE_CROSSOVER_DENSITY[process.env.TFJS_TEST_BACKEND!] && probeSparseSpeed(inDim, units, view.active, 'training').sparseFaster;
      expect(chosen[view.name]).toBe(fits);
    }
    // ERK at 80% leaves the 784-wide layer far under any crossover: its training probe ran (whatever it found).
    const first = kit.maskSummary.find((v) => v.shape[0] === 784)!;
    expect(probeResults()).toContainEqual(expect.objectContaining({ use: 'training', inDim: 784, units: first.shape[1] }));
    tf.dispose([xs, ys, labels]);
    kit.dispose();
    model.dispose();
  });
});
