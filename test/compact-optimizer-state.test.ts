import * as tf from '@tensorflow/tfjs';
import { createMoon, type KernelChoice, type MoonOptions } from '../src';
import type { MaskedOptimizer } from '../src/plugins/optimizer/masked-optimizer';
import { remapSlots } from '../src/plugins/optimizer/optimizer-slots';
import { mnistSubset } from './helpers/data';
import { buildMlp, maskedKernels } from './helpers/models';
import { maxDifference, checkpointAndResume } from './helpers/resume-run';

// Compact optimizer state (issue #24 item 2): with kernels 'sparse' the inner optimizer steps each sparse Dense
// kernel through a vector of its active weights. Same weights as dense mode for every optimizer the kit supports;
// slots in the kernels' shape wherever they are read or saved. Runs in the cpu and the wasm project.

type Factory = () => tf.Optimizer;

const OPTIMIZERS: Array<[string, Factory]> = [
  ['sgd', () => tf.train.sgd(0.1)],
  ['momentum (nesterov)', () => tf.train.momentum(0.05, 0.9, true)],
  ['adam', () => tf.train.adam(0.01)],
  ['adagrad', () => tf.train.adagrad(0.1)],
  ['adadelta', () => tf.train.adadelta(1, 0.95)],
  ['rmsprop', () => tf.train.rmsprop(0.01, 0.9, 0.5)],
  // Not centered RMSProp: tfjs 4.22 computes sqrt(ms − (mg² + ε)), NaN wherever a gradient is 0, in either mode.
];

interface Run {
  masks: number[][];
  weights: number[][];
  /** Shapes of the inner optimizer's slots of the first kernel, seen after a step without a mask update. */
  midFitSlotShapes: number[][];
  /** Names (less the layer's) and shapes of the wrapper's weights after fit (what a checkpoint saves). */
  savedSlots: Array<{ name: string; shape: number[] }>;
}

/** Trains a seeded MLP with RigL (an update every 2 steps over 2 epochs, then 2 epochs of plain steps). */
async function train(kernels: KernelChoice, optimizer: Factory, extra: Partial<MoonOptions> = {}): Promise<Run> {
  const model = buildMlp(2, 10);
  const { xs, ys } = mnistSubset(6); // 60 samples, 3 steps of 20 per epoch
  const kit = createMoon({ model, numClasses: 10, epochs: 4, stepsPerEpoch: 3, seed: 5, sparsity: 0.8, kernels, mask: { interval: 2, endStep: 6 }, unknownAware: false, voter: false, ...extra });
  const wrapper = kit.optimizer(optimizer());
  model.compile({ optimizer: wrapper, loss: kit.loss });
  const firstKernel = maskedKernels(kit)[0].kernel.name;
  const midFitSlotShapes: number[][] = [];
  const spy = new (class extends tf.Callback {
    override async onBatchEnd(): Promise<void> {
      if (wrapper.iterations !== 8) return; // step 8: no mask update (they end at step 6)
      const weights = await wrapper.inner.getWeights(); // the inner optimizer's own view, not the wrapper's
      for (const w of weights) if (w.name.startsWith(`${firstKernel}/`)) midFitSlotShapes.push(w.tensor.shape.slice());
      tf.dispose(weights.filter((w) => w.name === 'iter').map((w) => w.tensor));
    }
  })();
  await model.fit(xs, ys, { epochs: 4, batchSize: 20, shuffle: false, verbose: 0, callbacks: [...kit.callbacks, spy] });
  const saved = await (model.optimizer as MaskedOptimizer).getWeights();
  const savedSlots = saved.map((w) => ({ name: w.name.replace(/^dense_Dense\d+\//, ''), shape: w.tensor.shape.slice() })); // kernel/momentum, …
  tf.dispose(saved.filter((w) => w.name === 'iter' || w.name.endsWith('/iter')).map((w) => w.tensor));
  const masks = maskedKernels(kit).map((k) => Array.from(k.mask.dataSync()));
  const weights = model.getWeights().map((w) => Array.from(w.dataSync(), (v) => v + 0));
  tf.dispose([xs, ys]);
  model.optimizer.dispose();
  kit.dispose();
  model.dispose();
  return { masks, weights, midFitSlotShapes, savedSlots };
}

describe(`compact optimizer state for kernels 'sparse' (${process.env.TFJS_TEST_BACKEND})`, () => {
  test.each(OPTIMIZERS)('%s: the same masks and weights as dense mode, slots of the active weights only while training', async (name, optimizer) => {
    const dense = await train('dense', optimizer);
    const sparse = await train('sparse', optimizer);
    expect(sparse.masks).toEqual(dense.masks);
    expect(maxDifference(sparse.weights, dense.weights)).toBeLessThan(2e-5);
    const active = sparse.masks[0].reduce((s, v) => s + v, 0);
    expect(active).toBeGreaterThan(0);
    expect(active).toBeLessThan(784 * 32 * 0.5);
    if (name === 'sgd') {
      expect(sparse.midFitSlotShapes).toEqual([]); // SGD keeps no slots
    } else {
      // Compact during training: every slot of the 784 × 32 kernel is a vector of its active weights …
      expect(sparse.midFitSlotShapes.length).toBeGreaterThan(0);
      for (const shape of sparse.midFitSlotShapes) expect(shape).toEqual([active]);
      expect(dense.midFitSlotShapes.every((s) => tf.util.arraysEqual(s, [784, 32]))).toBe(true);
    }
    // … and after fit the saved slots have dense mode's names and shapes.
    expect(sparse.savedSlots).toEqual(dense.savedSlots);
  });

  test('coupled weight decay steps the active weights as dense mode does', async () => {
    const momentum = () => tf.train.momentum(0.05, 0.9);
    const dense = await train('dense', momentum, { weightDecay: 5e-3 });
    const sparse = await train('sparse', momentum, { weightDecay: 5e-3 });
    expect(maxDifference(sparse.weights, dense.weights)).toBeLessThan(2e-5);
    const plain = await train('sparse', momentum);
    expect(maxDifference(plain.weights, sparse.weights)).toBeGreaterThan(1e-4); // the decay did something
  });

  test('dense training (sparsity 0) and the as-released random weight drop keep the whole-kernel step, and match dense mode', async () => {
    const adam = () => tf.train.adam(0.01);
    for (const extra of [{ sparsity: 0, sparsifier: 'static' }, { randomMaskDpnum: 8 }] as Partial<MoonOptions>[]) {
      const dense = await train('dense', adam, extra);
      const sparse = await train('sparse', adam, extra);
      expect(sparse.masks).toEqual(dense.masks);
      expect(maxDifference(sparse.weights, dense.weights)).toBeLessThan(2e-5);
      expect(sparse.midFitSlotShapes.length).toBeGreaterThan(0);
      for (const shape of sparse.midFitSlotShapes) expect(shape).toEqual([784, 32]); // not compact
    }
  });

  test('a checkpoint written with compact slots resumes in dense mode as an uninterrupted run', async () => {
    const adam = () => tf.train.adam(0.01);
    const full = await train('dense', adam);
    const options = { numClasses: 10, epochs: 4, stepsPerEpoch: 3, seed: 5, sparsity: 0.8, mask: { interval: 2, endStep: 6 }, unknownAware: false, voter: false } as const;
    // Epoch 3 (steps 7–9) trains compactly; the checkpoint after it must hold dense-mode slots.
    const resumed = await checkpointAndResume(options, adam, 'sparse', 'dense', 3);
    expect(resumed.masks).toEqual(full.masks);
    expect(maxDifference(resumed.weights, full.weights)).toBeLessThan(2e-5);
  });

  test('the write-back writes the kernel in place on wasm (its data object stays from step to step), and anew on cpu', async () => {
    const model = buildMlp(2, 10);
    const { xs, ys } = mnistSubset(6);
    const kit = createMoon({ model, numClasses: 10, epochs: 2, stepsPerEpoch: 3, seed: 5, sparsity: 0.8, kernels: 'sparse', sparsifier: 'static', unknownAware: false, voter: false });
    model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.05, 0.9)), loss: kit.loss });
    const kernel = maskedKernels(kit)[0].kernel;
    const dataIds: object[] = [];
    const sums: number[] = [];
    const spy = new (class extends tf.Callback {
      override async onBatchEnd(): Promise<void> {
        dataIds.push(kernel.dataId);
        const sum = tf.tidy(() => tf.sum(tf.abs(kernel)));
        sums.push((await sum.data())[0]); // a read of the kernel: it holds the step's weights
        sum.dispose();
      }
    })();
    await model.fit(xs, ys, { epochs: 2, batchSize: 20, shuffle: false, verbose: 0, callbacks: [...kit.callbacks, spy] });
    expect(dataIds).toHaveLength(6);
    const stays = dataIds.slice(2).every((id) => id === dataIds[1]); // the first step makes the data the later ones write
    expect(stays).toBe(process.env.TFJS_TEST_BACKEND === 'wasm');
    expect(new Set(sums).size).toBe(6); // every step changed the kernel
    tf.dispose([xs, ys]);
    model.optimizer.dispose();
    kit.dispose();
    model.dispose();
  });

  test("a copy of a kernel taken during fit keeps its values while the kernel trains on (the write-back never writes shared data)", async () => {
    const model = buildMlp(2, 10);
    const { xs, ys } = mnistSubset(6);
    const kit = createMoon({ model, numClasses: 10, epochs: 2, stepsPerEpoch: 3, seed: 5, sparsity: 0.8, kernels: 'sparse', sparsifier: 'static', unknownAware: false, voter: false });
    model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.05, 0.9)), loss: kit.loss });
    const kernel = maskedKernels(kit)[0].kernel;
    let copy: tf.Tensor | undefined;
    let valuesAtCopy: Float32Array | undefined;
    const spy = new (class extends tf.Callback {
      override async onBatchEnd(): Promise<void> {
        if (copy !== undefined) return;
        copy = tf.clone(kernel); // shares the kernel's data, as tfjs clones do
        valuesAtCopy = (await copy.data()) as Float32Array;
      }
    })();
    await model.fit(xs, ys, { epochs: 2, batchSize: 20, shuffle: false, verbose: 0, callbacks: [...kit.callbacks, spy] });
    expect(Array.from(await copy!.data())).toEqual(Array.from(valuesAtCopy!));
    const moved = tf.tidy(() => tf.max(tf.abs(tf.sub(kernel, copy!))).dataSync()[0]);
    expect(moved).toBeGreaterThan(1e-4); // five more steps changed the kernel itself
    tf.dispose([copy!, xs, ys]);
    model.optimizer.dispose();
    kit.dispose();
    model.dispose();
  });
});

describe(`remapSlots (${process.env.TFJS_TEST_BACKEND})`, () => {
  test("gives one variable's slots to another, converted, at the same positions, and frees the old ones", async () => {
    const a = tf.variable(tf.tensor1d([1, 2, 3, 4]), true, 'remap_a');
    const b = tf.variable(tf.tensor1d([5, 6]), true, 'remap_b');
    const small = tf.variable(tf.tensor1d([0, 0]), true, 'remap_small');
    const adam = tf.train.adam(0.1);
    adam.applyGradients([{ name: 'remap_a', tensor: tf.tensor1d([1, -1, 2, -2]) }, { name: 'remap_b', tensor: tf.tensor1d([3, 3]) }]);
    const before = tf.memory().numTensors;
    await remapSlots(adam, new Map([['remap_a', { owner: 'remap_small', convert: (slot: tf.Tensor) => tf.slice(slot, [1], [2]) }]]));
    expect(tf.memory().numTensors).toBe(before); // the old slots went, the new ones replaced them one for one
    const weights = await adam.getWeights();
    expect(weights.map((w) => [w.name, w.tensor.shape])).toEqual([
      ['iter', []],
      ['remap_small/m', [2]],
      ['remap_b/m', [2]],
      ['remap_small/v', [2]],
      ['remap_b/v', [2]],
    ]);
    // Adam's first step: m = 0.1 g, v = 0.001 g²; the kept part is g = [-1, 2].
    expect(Array.from(await weights[1].tensor.data())).toEqual([expect.closeTo(-0.1, 6), expect.closeTo(0.2, 6)]);
    expect(Array.from(await weights[3].tensor.data())).toEqual([expect.closeTo(0.001, 6), expect.closeTo(0.004, 6)]);
    // The optimizer steps the new owner with its slots, at the old position.
    adam.applyGradients([{ name: 'remap_small', tensor: tf.tensor1d([1, 1]) }, { name: 'remap_b', tensor: tf.tensor1d([3, 3]) }]);
    expect(Array.from(await small.data()).every((v) => v !== 0)).toBe(true);
    tf.dispose(weights[0].tensor);
    adam.dispose();
    tf.dispose([a, b, small]);
  });

  test('leaves an optimizer without slots of the variables named (SGD, a fresh one) as it is', async () => {
    const sgd = tf.train.sgd(0.1);
    const before = tf.memory().numTensors;
    await remapSlots(sgd, new Map([['nothing', { owner: 'other', convert: (t: tf.Tensor) => t }]]));
    expect(tf.memory().numTensors).toBe(before);
    const weights = await sgd.getWeights();
    expect(weights.map((w) => w.name)).toEqual(['iter']);
    tf.dispose(weights.map((w) => w.tensor));
  });
});
