/**
 * The fit usage matrix: each way real TF.js programs call `model.fit` (validation data, classWeight, one fit per
 * epoch, Softmax-layer heads, several outputs, forgotten callbacks, …), run through a real fit with a kit.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import {
  createMoon, mspScore, MoonCheckpointError, ReliabilityMonitor, MoonConfigError, MoonMetricError, MoonModelError, MoonOptimizerError,
  type MoonKit, type MoonOptions, type TunerAlphaEvent, type VoterSnapshotEvent,
} from '../src';
import { decodeWeights, encodeWeights } from '../src/plugins/export/sparse-codec';
import { mnistSubset } from './helpers/data';
import { buildMlp, maskedKernels } from './helpers/models';

const read = (t: tf.Tensor): number[] => Array.from(t.dataSync());
const weightsOf = (model: tf.LayersModel): number[][] => model.getWeights().map(read);

/** Frozen weights (SGD at 0, static masks): every batch's statistics depend on the data alone. */
function frozenMoonKit(model: tf.LayersModel, stepsPerEpoch: number): MoonKit {
  const kit = createMoon({
    model, numClasses: 10, epochs: 3, stepsPerEpoch, sparsity: 0.8, sparsifier: 'static', seed: 1,
    tuner: { warmupEpochs: 2 }, lr: false, voter: false,
  });
  model.compile({ optimizer: kit.optimizer(tf.train.sgd(0)), loss: kit.loss });
  return kit;
}

/** α₀ and the EWMA it came from, as the tuner reports them at its first post-warm-up epoch. */
async function firstAlpha(kit: MoonKit, fit: (callbacks: tf.Callback[]) => Promise<unknown>): Promise<TunerAlphaEvent> {
  const events: TunerAlphaEvent[] = [];
  kit.events.on('tuner:alpha', (e) => events.push(e));
  await fit([...kit.callbacks]);
  return events[0];
}

describe('validation data does not feed the auto-tuner', () => {
  it('α₀ is the same with validationData, with validationSplit, and without validation', async () => {
    const { xs, ys } = mnistSubset(8); // 80 digits
    const train = { x: xs.slice(0, 60), y: ys.slice(0, 60) };
    const held = { x: xs.slice(60, 20), y: ys.slice(60, 20) };
    const fitArgs = { epochs: 3, batchSize: 20, shuffle: false, verbose: 0 as const };

    const plainKit = frozenMoonKit(buildMlp(3, 11), 3);
    const plain = await firstAlpha(plainKit, (callbacks) => plainKit.model.fit(train.x, plainKit.labels(train.y), { ...fitArgs, callbacks }));
    const dataKit = frozenMoonKit(buildMlp(3, 11), 3);
    const withData = await firstAlpha(dataKit, (callbacks) =>
      dataKit.model.fit(train.x, dataKit.labels(train.y), { ...fitArgs, validationData: [held.x, dataKit.labels(held.y)], callbacks }),
    );
    // validationSplit 0.25 of 80 trains on the first 60 and validates on the last 20: the same split as above.
    const splitKit = frozenMoonKit(buildMlp(3, 11), 3);
    const withSplit = await firstAlpha(splitKit, (callbacks) => splitKit.model.fit(xs, splitKit.labels(ys), { ...fitArgs, validationSplit: 0.25, callbacks }));

    expect(plain.epoch).toBe(2);
    expect(withData.ewma).toBeCloseTo(plain.ewma, 6);
    expect(withSplit.ewma).toBeCloseTo(plain.ewma, 6);
    expect(withData.alpha).toBeCloseTo(plain.alpha, 7);
    expect(withSplit.alpha).toBeCloseTo(plain.alpha, 7);
    for (const kit of [plainKit, dataKit, splitKit]) kit.dispose();
    tf.dispose([xs, ys, train.x, train.y, held.x, held.y]);
  });
});

describe('static and dense training step the optimizer on every batch', () => {
  it('a static kit with mask.interval 1 takes one inner step per batch', async () => {
    const model = buildMlp(3);
    const { xs, ys } = mnistSubset(6);
    const kit = createMoon({ model, numClasses: 10, epochs: 2, stepsPerEpoch: 3, sparsifier: 'static', unknownAware: false, mask: { interval: 1 } });
    const inner = tf.train.momentum(0.05, 0.9);
    model.compile({ optimizer: kit.optimizer(inner), loss: kit.loss });
    await model.fit(xs, ys, { epochs: 2, batchSize: 20, shuffle: false, verbose: 0, callbacks: [...kit.callbacks] });
    expect(inner.iterations).toBe(6);
    kit.dispose();
    tf.dispose([xs, ys]);
  });

  it('sparsity 0 with static masks trains exactly as a plain fit (the CLI\'s dense method)', async () => {
    const { xs, ys } = mnistSubset(6);
    const plain = buildMlp(4);
    plain.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
    await plain.fit(xs, ys, { epochs: 2, batchSize: 20, shuffle: false, verbose: 0 });
    const model = buildMlp(4);
    const kit = createMoon({ model, numClasses: 10, epochs: 2, stepsPerEpoch: 3, sparsity: 0, sparsifier: 'static', unknownAware: false });
    model.compile({ optimizer: kit.optimizer(tf.train.sgd(0.1)), loss: kit.loss });
    await model.fit(xs, ys, { epochs: 2, batchSize: 20, shuffle: false, verbose: 0, callbacks: [...kit.callbacks] });
    expect(weightsOf(model)).toEqual(weightsOf(plain));
    kit.dispose();
    tf.dispose([xs, ys]);
  });
});

describe('output kind', () => {
  /** 784 → 16 → K+1 logits, then a separate head layer. */
  const withHead = (head: tf.layers.Layer) =>
    tf.sequential({ layers: [tf.layers.dense({ units: 11, inputShape: [784], kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }), head] });

  it('a tf.layers.softmax() head is probabilities: the loss is applied once (0.031 for p = 0.97, not 0.765)', () => {
    const kit = createMoon({ model: withHead(tf.layers.softmax()), numClasses: 10, epochs: 2, stepsPerEpoch: 1, seed: 1 });
    expect(kit.outputKind).toBe('probabilities');
    const p = tf.tensor2d([[0.97, ...Array(10).fill(0.003)]]);
    const y = kit.labels([0]);
    expect(read(kit.loss(y, p))[0]).toBeCloseTo(-Math.log(0.97), 5);
    const linear = createMoon({ model: withHead(tf.layers.activation({ activation: 'linear' })), numClasses: 10, epochs: 2, stepsPerEpoch: 1 });
    expect(linear.outputKind).toBe('logits');
    tf.dispose([p, y]);
    kit.dispose();
    linear.dispose();
  });

  it('a head that is neither softmax nor linear needs `from`, and the monitor uses the detected kind', async () => {
    const make = (extra: Partial<MoonOptions>) => () =>
      createMoon({ model: withHead(tf.layers.activation({ activation: 'sigmoid' })), numClasses: 10, epochs: 2, stepsPerEpoch: 1, ...extra });
    expect(make({})).toThrow(MoonModelError);
    expect(make({})).toThrow(/cannot tell whether .* activation 'sigmoid'.* pass from: 'probabilities' or 'logits'/);
    expect(make({ from: 'logits' })().outputKind).toBe('logits');

    const model = withHead(tf.layers.softmax());
    const kit = createMoon({ model, numClasses: 10, epochs: 2, stepsPerEpoch: 3, seed: 1 });
    const { xs, ys, labels } = mnistSubset(6);
    const monitor = kit.monitor({ id: { x: xs, y: labels }, ood: { noise: tf.randomUniform([20, 784], 0, 1, 'float32', 3) } });
    monitor.setModel(model);
    const event = await monitor.evaluate();
    const probs = model.predict(xs) as tf.Tensor2D;
    const hits = read(tf.argMax(probs, 1)).filter((p, i) => p === labels[i]).length;
    expect(event.accuracy).toBeCloseTo(hits / labels.length, 9); // probabilities read as such, not re-softmaxed
    kit.dispose();
    tf.dispose([xs, ys, probs]);
  });
});

describe('classWeight weights per-sample losses', () => {
  it("the plain kit's loss equals TF.js's own weighted categorical cross-entropy", async () => {
    const { xs, ys } = mnistSubset(6);
    const model = buildMlp(5);
    const kit = createMoon({ model, numClasses: 10, epochs: 1, stepsPerEpoch: 3, sparsity: 0.5, sparsifier: 'static', unknownAware: false, seed: 2 });
    const twin = buildMlp(5);
    twin.setWeights(model.getWeights()); // the kit's masked weights
    model.compile({ optimizer: kit.optimizer(tf.train.sgd(0)), loss: kit.loss });
    twin.compile({ optimizer: tf.train.sgd(0), loss: 'categoricalCrossentropy' });
    const classWeight = Object.fromEntries(Array.from({ length: 10 }, (_, c) => [c, c === 3 ? 7 : 0.5]));
    const args = { epochs: 1, batchSize: 20, shuffle: false, verbose: 0 as const, classWeight };
    const ours = await model.fit(xs, ys, { ...args, callbacks: [...kit.callbacks] });
    const theirs = await twin.fit(xs, ys, args);
    const unweighted = await twin.fit(xs, ys, { ...args, classWeight: undefined });
    expect(ours.history.loss[0] as number).toBeCloseTo(theirs.history.loss[0] as number, 5);
    expect(Math.abs((theirs.history.loss[0] as number) - (unweighted.history.loss[0] as number))).toBeGreaterThan(0.1);
    kit.dispose();
    tf.dispose([xs, ys]);
  });
});

describe('forgotten callbacks', () => {
  it('RigL without kit.callbacks fails at the first step with the fix, and changes no weight', async () => {
    const model = buildMlp(3);
    const { xs, ys } = mnistSubset(2);
    const kit = createMoon({ model, numClasses: 10, epochs: 1, stepsPerEpoch: 1, unknownAware: false });
    model.compile({ optimizer: kit.optimizer(tf.train.sgd(0.1)), loss: kit.loss });
    const before = weightsOf(model);
    const fit = model.fit(xs, ys, { epochs: 1, batchSize: 20, verbose: 0 });
    await expect(fit).rejects.toThrow(MoonConfigError);
    await expect(model.fit(xs, ys, { epochs: 1, batchSize: 20, verbose: 0 })).rejects.toThrow(/callbacks: \[\.\.\.kit\.callbacks\]/);
    expect(weightsOf(model)).toEqual(before);
    kit.dispose();
    tf.dispose([xs, ys]);
  });

  it('is caught after a fit that failed with the callbacks too (TF.js skips onTrainEnd when a fit throws)', async () => {
    const model = buildMlp(3);
    const { xs, ys } = mnistSubset(2);
    const kit = createMoon({ model, numClasses: 10, epochs: 3, stepsPerEpoch: 1, unknownAware: false, mask: { interval: 100 } });
    model.compile({ optimizer: kit.optimizer(tf.train.sgd(0)), loss: kit.loss });
    const nanLabels = tf.fill([20, 10], NaN);
    await expect(model.fit(xs, nanLabels, { epochs: 1, batchSize: 20, verbose: 0, callbacks: [...kit.callbacks] })).rejects.toThrow(/NaN or infinite/);
    await expect(model.fit(xs, ys, { epochs: 1, batchSize: 20, verbose: 0 })).rejects.toThrow(/kit's callbacks are not in this fit/);
    kit.dispose();
    tf.dispose([xs, ys, nanLabels]);
  });

  it('a plain static kit without a schedule may train in a loop of its own (nothing to schedule)', async () => {
    const model = buildMlp(3);
    const { xs, ys } = mnistSubset(2);
    const kit = createMoon({ model, numClasses: 10, epochs: 1, stepsPerEpoch: 1, unknownAware: false, sparsifier: 'static' });
    model.compile({ optimizer: kit.optimizer(tf.train.sgd(0.1)), loss: kit.loss });
    await model.fit(xs, ys, { epochs: 1, batchSize: 20, verbose: 0 });
    expect(maskedKernels(kit).map(({ kernel, mask }) => read(kernel).filter((w, i) => w !== 0 && read(mask)[i] === 0).length)).toEqual([0, 0, 0]);
    kit.dispose();
    tf.dispose([xs, ys]);
  });
});

describe('one fit call per epoch', () => {
  /** A MOON kit (RigL, tuner, voter, LR schedule) trained by `loop`; returns what happened. */
  async function train(loop: (kit: MoonKit, x: tf.Tensor, y: tf.Tensor) => Promise<void>) {
    const model = buildMlp(6, 11);
    const { xs, ys } = mnistSubset(6);
    const kit = createMoon({ model, numClasses: 10, epochs: 4, stepsPerEpoch: 3, seed: 4, mask: { interval: 2 }, tuner: { warmupEpochs: 1 }, voter: { epochs: 2 } });
    const alphas: TunerAlphaEvent[] = [];
    const snapshots: VoterSnapshotEvent[] = [];
    kit.events.on('tuner:alpha', (e) => alphas.push(e));
    kit.events.on('voter:snapshot', (e) => snapshots.push(e));
    model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.05, 0.9)), loss: kit.loss });
    const y = kit.labels(ys);
    await loop(kit, xs, y);
    await kit.finalize();
    const result = { alphas, snapshots: snapshots.map((s) => [s.epoch, s.batch]), weights: weightsOf(model) };
    kit.dispose();
    tf.dispose([xs, ys, y]);
    return result;
  }

  it('without initialEpoch follows the same α ramp, voter and weights as one long fit', async () => {
    const args = { batchSize: 20, shuffle: false, verbose: 0 as const };
    const whole = await train(async (kit, x, y) => {
      await kit.model.fit(x, y, { ...args, epochs: 4, callbacks: [...kit.callbacks] });
    });
    const tensors: number[] = [];
    const perEpoch = await train(async (kit, x, y) => {
      for (let e = 0; e < 4; e++) {
        await kit.model.fit(x, y, { ...args, epochs: 1, callbacks: [...kit.callbacks] });
        tensors.push(tf.memory().numTensors);
      }
    });
    // Flat across fit calls, but for the voter's running average, allocated once at its first snapshot (epoch 2).
    expect(tensors[1]).toBe(tensors[0]);
    expect(tensors[3]).toBe(tensors[2]);
    expect(whole.alphas.map((a) => a.epoch)).toEqual([1, 2, 3]);
    expect(perEpoch.alphas).toEqual(whole.alphas);
    expect(perEpoch.snapshots).toEqual(whole.snapshots);
    expect(whole.snapshots.length).toBe(6);
    whole.weights.forEach((w, i) => w.forEach((v, j) => expect(Math.abs(v - perEpoch.weights[i][j])).toBeLessThan(1e-6)));
  });
});

describe("fit is checked against the kit's plan", () => {
  const fitWith = async (kitOptions: Partial<MoonOptions>, fitArgs: tf.ModelFitArgs, samples = 60) => {
    const model = buildMlp(3);
    const { xs, ys } = mnistSubset(samples / 10);
    const kit = createMoon({ model, numClasses: 10, epochs: 2, stepsPerEpoch: 3, unknownAware: false, ...kitOptions });
    model.compile({ optimizer: kit.optimizer(tf.train.sgd(0.1)), loss: kit.loss });
    try {
      await model.fit(xs, ys, { batchSize: 20, verbose: 0, callbacks: [...kit.callbacks], ...fitArgs });
    } finally {
      kit.dispose();
      tf.dispose([xs, ys]);
    }
  };

  it('a stepsPerEpoch that is the sample count fails, naming both values', async () => {
    await expect(fitWith({ stepsPerEpoch: 60 }, { epochs: 1 })).rejects.toThrow(MoonConfigError);
    await expect(fitWith({ stepsPerEpoch: 60 }, { epochs: 1 })).rejects.toThrow(/runs 3 steps per epoch .* created with stepsPerEpoch: 60/);
  });

  it('validationSplit that changes the steps per epoch fails and says why', async () => {
    await expect(fitWith({}, { epochs: 1, validationSplit: 0.5 })).rejects.toThrow(
      /runs 2 steps per epoch \(ceil\(30 training samples \/ batchSize 20\), after the validation split\)/,
    );
  });

  it('a fit past the planned epochs fails', async () => {
    await expect(fitWith({}, { epochs: 3 })).rejects.toThrow(/to epoch 3, but the kit was created with epochs: 2/);
  });
});

describe('optimizers whose slots cannot be read', () => {
  it('Adamax is refused by kit.optimizer itself, naming Adam as the fix (its moments are out of reach)', () => {
    const model = buildMlp(3);
    const kit = createMoon({ model, numClasses: 10, epochs: 1, stepsPerEpoch: 1, unknownAware: false, mask: { interval: 1, endStep: 1 } });
    expect(() => kit.optimizer(tf.train.adamax(0.01))).toThrow(MoonOptimizerError);
    expect(() => kit.optimizer(tf.train.adamax(0.01))).toThrow(/Adamax is not supported.*tf\.train\.adam/);
    expect(kit.optimizer(tf.train.adam(0.01))).toBeDefined(); // the refusal left the kit usable
    kit.dispose();
  });

  it('an optimizer whose getWeights() rejects fails before the first step with a typed error; weights and masks are untouched', async () => {
    const model = buildMlp(3);
    const { xs, ys } = mnistSubset(2);
    const kit = createMoon({ model, numClasses: 10, epochs: 1, stepsPerEpoch: 1, unknownAware: false, mask: { interval: 1, endStep: 1 } });
    const inner = tf.train.sgd(0.01);
    inner.getWeights = () => Promise.reject(new Error('getWeights() is not implemented'));
    model.compile({ optimizer: kit.optimizer(inner), loss: kit.loss });
    const before = weightsOf(model);
    const masks = maskedKernels(kit).map((k) => read(k.mask));
    await expect(model.fit(xs, ys, { epochs: 1, batchSize: 20, verbose: 0, callbacks: [...kit.callbacks] })).rejects.toThrow(MoonOptimizerError);
    expect(weightsOf(model)).toEqual(before);
    expect(maskedKernels(kit).map((k) => read(k.mask))).toEqual(masks);
    expect(kit.masks.map((m) => m.active)).toEqual(masks.map((m) => m.reduce((s, v) => s + v, 0)));
    kit.dispose();
    tf.dispose([xs, ys]);
  });

  it('a mask update whose slot read fails changes no weight, mask or count (read first, then assign)', async () => {
    const model = buildMlp(3);
    const { xs, ys } = mnistSubset(2);
    const kit = createMoon({ model, numClasses: 10, epochs: 1, stepsPerEpoch: 1, unknownAware: false, mask: { interval: 1, endStep: 1 } });
    const inner = tf.train.momentum(0.1, 0.9);
    const original = inner.getWeights.bind(inner);
    let reads = 0;
    inner.getWeights = async () => (++reads > 1 ? Promise.reject(new Error('slots gone')) : original()); // the probe passes
    model.compile({ optimizer: kit.optimizer(inner), loss: kit.loss });
    const before = weightsOf(model);
    const masks = maskedKernels(kit).map((k) => read(k.mask));
    const counts = kit.masks.map((m) => m.active);
    await expect(model.fit(xs, ys, { epochs: 1, batchSize: 20, verbose: 0, callbacks: [...kit.callbacks] })).rejects.toThrow(/slots gone/);
    expect(weightsOf(model)).toEqual(before); // step 1 is the update step: no optimizer step, and the update wrote nothing
    expect(maskedKernels(kit).map((k) => read(k.mask))).toEqual(masks);
    expect(kit.masks.map((m) => m.active)).toEqual(counts);
    kit.dispose();
    tf.dispose([xs, ys]);
  });
});

describe('labels in the forms users hold them', () => {
  it('tf.oneHot (int32) and class ids train the unknown-aware kit like float one-hot rows', async () => {
    const { xs, ys, labels } = mnistSubset(2);
    const losses: number[] = [];
    for (const form of [ys, tf.oneHot(tf.tensor1d(labels, 'int32'), 10), tf.tensor1d(labels, 'int32'), labels]) {
      const model = buildMlp(3, 11);
      const kit = createMoon({ model, numClasses: 10, epochs: 2, stepsPerEpoch: 1, seed: 1, voter: false });
      model.compile({ optimizer: kit.optimizer(tf.train.sgd(0.1)), loss: kit.loss });
      const y = kit.labels(form);
      expect(y.shape).toEqual([20, 11]);
      // shuffle: false: fit's default Math.random order changes the float32 sum in the 7th digit
      const history = await model.fit(xs, y, { epochs: 1, batchSize: 20, shuffle: false, verbose: 0, callbacks: [...kit.callbacks] });
      losses.push(history.history.loss[0] as number);
      kit.dispose();
    }
    losses.forEach((l) => expect(l).toBeCloseTo(losses[0], 6));
    tf.dispose([xs, ys]);
  });
});

describe('NaN guard', () => {
  it('resets per fit: a fit after a diverged one trains', async () => {
    const model = buildMlp(3);
    const { xs, ys } = mnistSubset(2);
    const kit = createMoon({ model, numClasses: 10, epochs: 2, stepsPerEpoch: 1, unknownAware: false, sparsifier: 'static' });
    model.compile({ optimizer: kit.optimizer(tf.train.sgd(0)), loss: kit.loss });
    const bad = tf.fill([20, 10], NaN); // NaN labels: a NaN loss on every backend (wasm's relu maps NaN inputs to 0)
    const saved = model.getWeights().map((w) => w.clone());
    await expect(model.fit(xs, bad, { epochs: 1, batchSize: 20, verbose: 0, callbacks: [...kit.callbacks] })).rejects.toThrow(/NaN or infinite/);
    model.setWeights(saved); // the diverged step wrote NaN (NaN · 0 is NaN); a user restores the last good weights
    const history = await model.fit(xs, ys, { epochs: 1, batchSize: 20, verbose: 0, callbacks: [...kit.callbacks] });
    expect(Number.isFinite(history.history.loss[0] as number)).toBe(true);
    kit.dispose();
    tf.dispose([xs, ys, bad, saved]);
  });
});

describe('models with several outputs', () => {
  /** A classifier head "cls" (K+1 softmax) beside a regression head "aux". */
  function twoHeads(): tf.LayersModel {
    const input = tf.input({ shape: [784] });
    const hidden = tf.layers.dense({ units: 16, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tf.SymbolicTensor;
    const aux = tf.layers.dense({ units: 1, name: 'aux', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(hidden) as tf.SymbolicTensor;
    const cls = tf.layers.dense({ units: 11, activation: 'softmax', name: 'cls', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }).apply(hidden) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: [aux, cls] });
  }

  it('needs `output`, checks that output, trains through it, and the monitor reads it', async () => {
    const base = { numClasses: 10, epochs: 2, stepsPerEpoch: 3, seed: 1 };
    expect(() => createMoon({ ...base, model: twoHeads() })).toThrow(/2 outputs \(0: "aux", 1: "cls"\): pass output/);
    expect(() => createMoon({ ...base, model: twoHeads(), output: 'aux' })).toThrow(MoonModelError); // 1 unit, not K+1
    expect(() => createMoon({ ...base, model: twoHeads(), output: 'head' })).toThrow(/"head" is not an output of this model/);
    const model = twoHeads();
    const kit = createMoon({ ...base, model, output: 'cls' });
    expect([kit.output, kit.outputKind]).toEqual([1, 'probabilities']);
    model.compile({ optimizer: kit.optimizer(tf.train.sgd(0.1)), loss: [(a: tf.Tensor, b: tf.Tensor) => tf.metrics.meanSquaredError(a, b), kit.loss] });
    const { xs, ys, labels } = mnistSubset(6);
    const y = kit.labels(ys);
    const target = tf.zeros([60, 1]);
    const monitor = kit.monitor({ id: { x: xs, y: labels }, ood: { noise: tf.randomUniform([20, 784], 0, 1, 'float32', 3) } });
    await model.fit(xs, [target, y], { epochs: 2, batchSize: 20, verbose: 0, callbacks: [...kit.callbacks, monitor] });
    const event = await monitor.evaluate();
    const probs = (model.predict(xs) as tf.Tensor[])[1];
    const hits = read(tf.argMax(probs, 1)).filter((p, i) => p === labels[i]).length;
    expect(event.accuracy).toBeCloseTo(hits / 60, 9);
    const bare = new ReliabilityMonitor({ numClasses: 10, id: { x: xs, y: labels }, ood: { n: xs } });
    bare.setModel(model);
    await expect(bare.evaluate()).rejects.toThrow(MoonMetricError);
    kit.dispose();
    tf.dispose([xs, ys, y, target, probs]);
  });
});

describe('compact export keeps dtypes', () => {
  it('int32 and bool weights come back with their dtype and values', () => {
    const specs = [
      { name: 'k', shape: [2, 2], dtype: 'float32' },
      { name: 'i', shape: [3], dtype: 'int32' },
      { name: 'b', shape: [2], dtype: 'bool' },
    ];
    const data = new Uint8Array([...new Uint8Array(new Float32Array([0, 1.5, 0, 0]).buffer), ...new Uint8Array(new Int32Array([7, -2, 9]).buffer), 1, 0]);
    const encoded = encodeWeights(specs, data.buffer);
    const decoded = decodeWeights(encoded.weights, encoded.data);
    expect(decoded.specs).toEqual(specs);
    expect(Array.from(new Uint8Array(decoded.data))).toEqual(Array.from(data));
  });
});

describe('options', () => {
  const base = (): MoonOptions => ({ model: buildMlp(3), numClasses: 10, epochs: 2, stepsPerEpoch: 1, unknownAware: false });

  it('unknown keys are typed errors naming the valid ones (plain JS gets no type check)', () => {
    expect(() => createMoon({ ...base(), sparsifer: 'set' } as MoonOptions)).toThrow(MoonConfigError);
    expect(() => createMoon({ ...base(), sparsifer: 'set' } as MoonOptions)).toThrow(/unknown key "sparsifer" \(did you mean "sparsifier"\?\); valid keys: model/);
    expect(() => createMoon({ ...base(), mask: { intervall: 5 } } as MoonOptions)).toThrow(/options.mask has unknown key "intervall" \(did you mean "interval"\?\)/);
    expect(() => createMoon({ ...base(), unknownAware: true, tuner: { warmup: 1 } } as MoonOptions)).toThrow(/options.tuner has unknown key "warmup"/);
  });

  it('a plain kit leaves the learning rate alone unless asked; the multipliers have their names (and old aliases)', async () => {
    const plain = createMoon(base());
    expect(plain.settings.lr).toBeUndefined();
    const inner = tf.train.sgd(0.1);
    plain.model.compile({ optimizer: plain.optimizer(inner), loss: plain.loss });
    const { xs, ys } = mnistSubset(2);
    await plain.model.fit(xs, ys, { epochs: 1, batchSize: 20, verbose: 0, callbacks: [...plain.callbacks] });
    expect((inner as unknown as { learningRate: number }).learningRate).toBe(0.1);
    expect(createMoon({ ...base(), lr: true }).settings.lr).toMatchObject({ start: 1.2, end: 0.08 });
    expect(createMoon({ ...base(), lr: { startMultiplier: 2, end: 0.5 } }).settings.lr).toMatchObject({ start: 2, end: 0.5 });
    expect(() => createMoon({ ...base(), lr: { start: 2, startMultiplier: 2 } })).toThrow(/both given/);
    expect(createMoon({ ...base(), unknownAware: true, model: buildMlp(3, 11), epochs: 2 }).settings.lr).toMatchObject({ start: 1.2 });
    tf.dispose([xs, ys]);
  });
});

describe('scores check what they are given', () => {
  it('logits passed as probabilities fail; the kit gives the output kind', () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 11, inputShape: [4], kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) })] });
    const kit = createMoon({ model, numClasses: 10, epochs: 2, stepsPerEpoch: 1, seed: 1 });
    const logits = tf.tensor2d([[2, 0.5, ...Array(9).fill(-1)], [0, 3, ...Array(9).fill(0.1)]]);
    expect(() => mspScore(logits, { numClasses: 10 })).toThrow(MoonMetricError);
    expect(() => mspScore(logits, { numClasses: 10 })).toThrow(/does not hold probabilities .* pass from: 'logits'/);
    const viaKit = mspScore(logits, kit);
    const viaProbabilities = mspScore(tf.softmax(logits), { numClasses: 10 });
    viaKit.forEach((s, i) => expect(s).toBeCloseTo(viaProbabilities[i], 6));
    kit.dispose();
    logits.dispose();
  });
});

describe("a checkpoint's identity holds the run length and schedules", () => {
  it('resuming with other epochs fails with a typed error that says what differs', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moon-id-'));
    const options = (model: tf.LayersModel, epochs: number): MoonOptions => ({ model, numClasses: 10, epochs, stepsPerEpoch: 1, seed: 1, tuner: { warmupEpochs: 1 } });
    const kit = createMoon(options(buildMlp(3, 11), 4));
    kit.model.compile({ optimizer: kit.optimizer(tf.train.sgd(0.1)), loss: kit.loss });
    const { xs, ys } = mnistSubset(2);
    await kit.model.fit(xs, kit.labels(ys), { epochs: 1, batchSize: 20, verbose: 0, callbacks: [...kit.callbacks] });
    await kit.checkpoint(path.join(dir, 'epoch-1'));
    expect(() => createMoon({ ...options(buildMlp(3, 11), 6), resumeFrom: dir })).toThrow(MoonCheckpointError);
    expect(() => createMoon({ ...options(buildMlp(3, 11), 6), resumeFrom: dir })).toThrow(/epochs 4 there, 6 here/);
    const resumed = createMoon({ ...options(buildMlp(3, 11), 4), resumeFrom: dir });
    expect(resumed.resumeEpoch).toBe(1);
    kit.dispose();
    resumed.dispose();
    tf.dispose([xs, ys]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
