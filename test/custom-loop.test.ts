import * as tf from '@tensorflow/tfjs';
import { createMoon, MoonConfigError, MoonOptimizerError, type MoonKit, type MoonOptions } from '../src';
import { mnistSubset } from './helpers/data';
import { buildMlp, expectExactMasks, maskedKernels } from './helpers/models';

// Issue #22 row 7: custom loops (model.trainOnBatch, optimizer.minimize) get what the kit's callbacks do in fit.

const EPOCHS = 3;
const BATCH = 20;
const STEPS = 3; // 60 digits / 20

/** RigL + MOON with every scheduled piece inside 9 steps: mask updates, the tuner's warm-up, the voter. */
const moonOptions = (model: tf.LayersModel): MoonOptions => ({
  model, numClasses: 10, epochs: EPOCHS, stepsPerEpoch: STEPS, sparsity: 0.8, sparsifier: 'rigl', seed: 5,
  mask: { interval: 2 }, tuner: { warmupEpochs: 1 }, voter: { epochs: 1 },
});

type Loop = (kit: MoonKit, xs: tf.Tensor2D, labels: tf.Tensor2D) => Promise<void>;

const withFit: Loop = async (kit, xs, labels) => {
  await kit.model.fit(xs, labels, { epochs: EPOCHS, batchSize: BATCH, shuffle: false, verbose: 0, callbacks: [...kit.callbacks] });
};

const withFitDataset: Loop = async (kit, xs, labels) => {
  const rows = [tf.unstack(xs), tf.unstack(labels)];
  const dataset = tf.data.zip({ xs: tf.data.array(rows[0]), ys: tf.data.array(rows[1]) }).batch(BATCH);
  await kit.model.fitDataset(dataset, { epochs: EPOCHS, verbose: 0, callbacks: [...kit.callbacks] });
  tf.dispose(rows.flat());
};

/** The batches fit takes with shuffle: false. */
function* batches(xs: tf.Tensor2D, labels: tf.Tensor2D): Generator<[tf.Tensor2D, tf.Tensor2D]> {
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    for (let b = 0; b < STEPS; b++) yield [xs.slice([b * BATCH, 0], [BATCH, -1]), labels.slice([b * BATCH, 0], [BATCH, -1])];
  }
}

const withTrainOnBatch: Loop = async (kit, xs, labels) => {
  for (const [xb, yb] of batches(xs, labels)) {
    const loss = await kit.trainOnBatch(xb, yb);
    expect(Number.isFinite(loss)).toBe(true);
    tf.dispose([xb, yb]);
  }
};

const withMinimize: Loop = async (kit, xs, labels) => {
  const model = kit.model;
  const optimizer = model.optimizer; // the kit's wrapper, through model.compile
  for (const [xb, yb] of batches(xs, labels)) {
    await kit.step(() => optimizer.minimize(() => tf.mean(kit.loss(yb, model.apply(xb, { training: true }) as tf.Tensor)) as tf.Scalar, true), BATCH);
    tf.dispose([xb, yb]);
  }
};

/** Trains a fresh seeded MLP with a MOON kit through `loop`; returns what the run ended with. */
async function run(loop: Loop): Promise<{ weights: number[][]; masks: number[][]; events: string[]; numTensors: number[] }> {
  const before = tf.memory().numTensors;
  const model = buildMlp(3, 11);
  const kit = createMoon(moonOptions(model));
  model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.05, 0.9)), loss: kit.loss });
  const events: string[] = [];
  const maskIndex = (name: string) => kit.maskSummary.findIndex((m) => m.name === name); // layer names differ per model
  kit.events.on('mask:update', (e) => events.push(`update ${e.step} ${maskIndex(e.layer)} ${e.dropped}`));
  kit.events.on('tuner:alpha', (e) => events.push(`alpha ${e.epoch} ${e.alpha.toPrecision(6)}`));
  kit.events.on('lr:update', (e) => events.push(`lr ${e.epoch} ${e.learningRate.toPrecision(6)}`));
  kit.events.on('voter:snapshot', (e) => events.push(`snapshot ${e.epoch} ${e.batch} ${e.count}`));
  const { xs, ys } = mnistSubset(6);
  const labels = kit.labels(ys);
  await loop(kit, xs, labels);
  expectExactMasks(kit);
  await kit.finalize();
  const result = {
    weights: model.getWeights().map((w) => Array.from(w.dataSync())),
    masks: maskedKernels(kit).map((k) => Array.from(k.mask.dataSync())),
    events,
  };
  kit.dispose();
  tf.dispose([xs, ys, labels]);
  // What the run leaves (the model, its optimizer's slots): a custom loop must leave what fit leaves.
  return { ...result, numTensors: [tf.memory().numTensors - before] };
}

describe('custom loops run everything the kit does in fit (#22 row 7)', () => {
  let fit: Awaited<ReturnType<typeof run>>;
  beforeAll(async () => {
    fit = await run(withFit);
  });

  it('the fit reference itself updates masks, tunes α and snapshots', () => {
    expect(fit.events.filter((e) => e.startsWith('update')).length).toBeGreaterThan(0);
    expect(fit.events.some((e) => e.startsWith('alpha'))).toBe(true);
    expect(fit.events.some((e) => e.startsWith('snapshot'))).toBe(true);
  });

  it('kit.trainOnBatch, batch by batch, gives the same masks, events and voted weights as fit, bit for bit', async () => {
    const loop = await run(withTrainOnBatch);
    expect(loop.events).toEqual(fit.events);
    expect(loop.masks).toEqual(fit.masks);
    expect(loop.weights).toEqual(fit.weights);
    expect(loop.numTensors).toEqual(fit.numTensors); // no tensor more than fit leaves
  });

  it('fitDataset over the same batches gives the same masks, events and voted weights as fit, bit for bit', async () => {
    const loop = await run(withFitDataset);
    expect(loop.events).toEqual(fit.events);
    expect(loop.masks).toEqual(fit.masks);
    expect(loop.weights).toEqual(fit.weights);
    expect(loop.numTensors).toEqual(fit.numTensors);
  });

  it('kit.step around optimizer.minimize gives the same masks and events, and the weights to float32 rounding', async () => {
    const loop = await run(withMinimize);
    expect(loop.events).toEqual(fit.events);
    expect(loop.masks).toEqual(fit.masks);
    expect(loop.numTensors).toEqual(fit.numTensors);
    loop.weights.forEach((w, i) => w.forEach((v, j) => expect(v).toBeCloseTo(fit.weights[i][j], 5)));
  });
});

describe('custom-loop misuse gets a typed error', () => {
  function compiledKit(epochs = 2): MoonKit {
    const model = buildMlp(3, 10);
    const kit = createMoon({ model, numClasses: 10, unknownAware: false, epochs, stepsPerEpoch: 1, sparsity: 0.8, sparsifier: 'rigl', seed: 1, mask: { interval: 1 } });
    model.compile({ optimizer: kit.optimizer('sgd'), loss: kit.loss });
    return kit;
  }

  it('a step past the planned epochs', async () => {
    const kit = compiledKit(1);
    const { xs, ys } = mnistSubset(1);
    const y = kit.labels(ys);
    await kit.trainOnBatch(xs, y);
    await expect(kit.trainOnBatch(xs, y)).rejects.toThrow(MoonConfigError);
    await expect(kit.trainOnBatch(xs, y)).rejects.toThrow(/created for 1 epochs of 1 steps and its optimizer has taken 1/);
    kit.dispose();
    tf.dispose([xs, ys, y]);
  });

  it('a step that does not step the optimizer, or returns no loss', async () => {
    const kit = compiledKit();
    await expect(kit.step(() => 1, 4)).rejects.toThrow(/must take exactly one step of the kit's optimizer; this one took 0/);
    const { xs, ys } = mnistSubset(1);
    const y = kit.labels(ys);
    const optimizer = kit.model.optimizer;
    await expect(kit.step(() => optimizer.minimize(() => tf.mean(kit.loss(y, kit.model.apply(xs) as tf.Tensor)) as tf.Scalar, false), 10)).rejects.toThrow(/must return its loss/);
    kit.dispose();
    tf.dispose([xs, ys, y]);
  });

  it("a model compiled with a plain optimizer, and a used kit's loop after dispose", async () => {
    const model = buildMlp(3, 10);
    const kit = createMoon({ model, numClasses: 10, unknownAware: false, epochs: 2, stepsPerEpoch: 1, sparsity: 0.8, sparsifier: 'rigl', seed: 1 });
    model.compile({ optimizer: tf.train.sgd(0.1), loss: kit.loss });
    const { xs, ys } = mnistSubset(1);
    const y = kit.labels(ys);
    await expect(kit.trainOnBatch(xs, y)).rejects.toThrow(MoonOptimizerError);
    kit.dispose();
    expect(() => kit.trainOnBatch(xs, y)).toThrow(/kit.trainOnBatch: this kit was disposed/);
    tf.dispose([xs, ys, y]);
  });

  it('kit.loop runs your callbacks after the kit\'s, plain objects included, with fit\'s call order', async () => {
    const kit = compiledKit();
    const calls: string[] = [];
    const loop = kit.loop({
      onTrainBegin: async () => void calls.push('train'),
      onEpochBegin: async (e: number) => void calls.push(`epoch ${e}`),
      onBatchEnd: async (b: number, logs?: tf.Logs) => void calls.push(`batch ${b} ${typeof logs?.loss}`),
      onEpochEnd: async (e: number, logs?: tf.Logs) => void calls.push(`end ${e} ${typeof logs?.loss}`),
      onTrainEnd: async () => void calls.push('done'),
    });
    const { xs, ys } = mnistSubset(1);
    const y = kit.labels(ys);
    await loop.trainOnBatch(xs, y);
    await loop.trainOnBatch(xs, y);
    expect(calls).toEqual(['train', 'epoch 0', 'batch 0 number', 'end 0 number', 'epoch 1', 'batch 0 number', 'end 1 number', 'done']);
    kit.dispose();
    tf.dispose([xs, ys, y]);
  });
});
