import 'reflect-metadata'; // tsyringe needs it loaded before it is imported
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { container } from 'tsyringe';
import {
  createMoon, exportSparse, loadSparse, maskableLayerLookup, MoonConfigError, registerMaskableLayer, registerSparsifier, RigLSparsifier,
  sparsityReport, type MaskUpdateContext, type MaskUpdateEvent, type MaskWarningEvent, type MoonOptions,
} from '../src';
import { leakProbe } from './helpers/leak-probe';
import { expectExactMasks, kernelStats, maskedKernels, ScaledDense } from './helpers/models';

// Issue #22 rows 4–6: masks on every layer a TF.js user trains, through wrappers, with frozen layers kept dense.

/** RigL that records which masks it updated and whether their gradient held anything. */
class RecordingRigL extends RigLSparsifier {
  static seen: { layer: string; gradientNonzero: number }[] = [];
  override updateMask(ctx: MaskUpdateContext): tf.Tensor {
    const g = ctx.gradient!.dataSync();
    RecordingRigL.seen.push({ layer: ctx.layerName, gradientNonzero: g.filter((v) => v !== 0).length });
    return super.updateMask(ctx);
  }
}

const T = 6; // time steps
const VOCAB = 30;

/** The sentiment-style sequence model of tfjs-examples, every recurrent family and wrapper in one stack. */
function sequenceModel(): tf.Sequential {
  const seed = (s: number) => tf.initializers.glorotUniform({ seed: s });
  const orthogonal = (s: number) => tf.initializers.orthogonal({ seed: s });
  return tf.sequential({
    layers: [
      tf.layers.embedding({ name: 'emb', inputDim: VOCAB, outputDim: 8, inputLength: T, embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed: 1 }) }),
      tf.layers.conv1d({ name: 'conv', filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: seed(2) }),
      tf.layers.bidirectional({ name: 'bidi', layer: tf.layers.lstm({ units: 4, returnSequences: true, kernelInitializer: seed(3), recurrentInitializer: orthogonal(13) }) as tf.RNN }),
      tf.layers.timeDistributed({ name: 'td', layer: tf.layers.dense({ units: 5, activation: 'relu', kernelInitializer: seed(4) }) }),
      tf.layers.gru({ name: 'gru', units: 4, returnSequences: true, kernelInitializer: seed(5), recurrentInitializer: orthogonal(15) }),
      tf.layers.simpleRNN({ name: 'rnn', units: 3, kernelInitializer: seed(6), recurrentInitializer: orthogonal(16) }),
      tf.layers.dense({ name: 'out', units: 3, activation: 'softmax', kernelInitializer: seed(7) }),
    ],
  });
}

/** Token sequences [N, T] whose class is the bucket of their first token, so the task is learnable. */
function tokens(n: number, seed: number): { x: tf.Tensor2D; labels: number[] } {
  const x = tf.tidy(() => tf.floor(tf.randomUniform([n, T], 0, VOCAB, 'float32', seed)) as tf.Tensor2D);
  const first = x.slice([0, 0], [n, 1]).dataSync();
  return { x, labels: Array.from(first, (t) => Math.min(2, Math.floor(t / 10))) };
}

const baseOptions = (model: tf.LayersModel, extra: Partial<MoonOptions> = {}): MoonOptions => ({
  model, numClasses: 3, unknownAware: false, epochs: 2, stepsPerEpoch: 2, sparsity: 0.5, sparsifier: 'rigl', seed: 3, ...extra,
});

const SEQUENCE_MASKS: [string, number[]][] = [
  ['emb', [VOCAB, 8]],
  ['conv', [3, 8, 6]],
  ['bidi/forward_lstm_LSTM1/kernel', [6, 16]],
  ['bidi/forward_lstm_LSTM1/recurrent_kernel', [4, 16]],
  ['bidi/backward_lstm_LSTM1/kernel', [6, 16]],
  ['bidi/backward_lstm_LSTM1/recurrent_kernel', [4, 16]],
  ['td', [8, 5]],
  ['gru/kernel', [5, 12]],
  ['gru/recurrent_kernel', [4, 12]],
  ['rnn/kernel', [4, 3]],
  ['rnn/recurrent_kernel', [3, 3]],
  ['out', [3, 3]],
];

/** The internal suffix tfjs gives a wrapped LSTM's name depends on how many were built before: compare without it. */
const stable = (name: string) => name.replace(/_LSTM\d+/, '_LSTM1');

describe('masks on Embedding, Conv1D, LSTM / GRU / SimpleRNN, Bidirectional and TimeDistributed (#22 row 4)', () => {
  it('masks every kernel and recurrent kernel with exact counts, RigL updates each of them inside fit, nothing leaks', async () => {
    const model = sequenceModel();
    const userContainer = container.createChildContainer();
    registerSparsifier('recording-rigl', RecordingRigL, userContainer);
    RecordingRigL.seen = [];
    const kit = createMoon(baseOptions(model, {
      distribution: 'uniform', sparsifier: 'recording-rigl', container: userContainer, mask: { interval: 1, endStep: 4, dropFraction: 0.5 },
    }));
    expect(kit.maskSummary.map((m) => [stable(m.name), m.shape])).toEqual(SEQUENCE_MASKS);
    // Uniform at 50%: each weight half active (an odd size rounds either way), 882 / 2 in all.
    for (const m of kit.maskSummary) expect(Math.abs(m.active - m.total / 2)).toBeLessThanOrEqual(0.5);
    expect(kit.maskSummary.reduce((s, m) => s + m.active, 0)).toBe(441);
    expectExactMasks(kit);

    const updates: MaskUpdateEvent[] = [];
    const warnings: MaskWarningEvent[] = [];
    kit.events.on('mask:update', (e) => updates.push(e));
    kit.events.on('mask:warning', (w) => warnings.push(w));
    const { x, labels } = tokens(16, 4);
    const y = kit.labels(labels);
    model.compile({ optimizer: kit.optimizer('adam'), loss: kit.loss });
    const probe = leakProbe();
    await model.fit(x, y, { epochs: 2, batchSize: 8, shuffle: false, verbose: 0, callbacks: [...kit.callbacks, probe.callback] });

    // RigL got the dense gradient of every mask at each of the 4 updates, recurrent kernels and the embedding table
    // included (an embedding's gradient reaches only the rows of the tokens seen, which is enough to grow there).
    expect(RecordingRigL.seen.map((s) => stable(s.layer))).toEqual([1, 2, 3, 4].flatMap(() => SEQUENCE_MASKS.map(([n]) => n)));
    for (const s of RecordingRigL.seen) expect(s.gradientNonzero).toBeGreaterThan(0);
    // The masks really moved (a small mask may drop and regrow the same position: only the larger ones surely move).
    const moved = new Set(updates.filter((u) => u.dropped > 0 && u.grown === u.dropped).map((u) => stable(u.layer)));
    const large = SEQUENCE_MASKS.filter(([, shape]) => shape.reduce((p, d) => p * d, 1) >= 40).map(([n]) => n);
    expect(large.filter((n) => !moved.has(n))).toEqual([]);
    expect(warnings.filter((w) => w.kind === 'layers-left-dense')).toEqual([]);
    expectExactMasks(kit); // weights off the moved masks are exactly 0
    expect(probe.counts[1]).toBe(probe.counts[0]);
    kit.dispose();
    tf.dispose([x, y]);
  });

  it('sparsityReport counts an LSTM kernel once per time step and an embedding lookup as free', () => {
    const model = sequenceModel();
    const kit = createMoon(baseOptions(model, { sparsity: 0.9, sparsifier: 'static' }));
    // ERK over all twelve weights: 10% of them active in all, each weight at its own density.
    const total = SEQUENCE_MASKS.reduce((s, [, shape]) => s + shape.reduce((p, d) => p * d, 1), 0);
    expect(kit.maskSummary.reduce((s, m) => s + m.total, 0)).toBe(total);
    expect(Math.abs(kit.maskSummary.reduce((s, m) => s + m.active, 0) - total / 10)).toBeLessThanOrEqual(SEQUENCE_MASKS.length);
    expect(new Set(kit.maskSummary.map((m) => m.density.toFixed(3))).size).toBeGreaterThan(3);
    const report = sparsityReport(kit);
    const byName = new Map(report.layers.map((l) => [stable(l.name), l]));
    expect(byName.get('emb')).toMatchObject({ weight: 'embeddings', className: 'Embedding', macsDense: 0, macsSparse: 0, masked: true });
    const lstm = byName.get('bidi/forward_lstm_LSTM1/recurrent_kernel')!;
    expect(lstm).toMatchObject({ className: 'LSTM', weight: 'recurrent_kernel', total: 64, macsDense: 64 * T });
    expect(lstm.macsSparse).toBe(lstm.active * T);
    expect(byName.get('conv')!.macsDense).toBe(144 * T); // padding 'same': T output positions
    expect(byName.get('td')!.macsDense).toBe(40 * T); // a TimeDistributed Dense runs once per step
    expect(byName.get('out')!.macsDense).toBe(9);
    expect(report.kernelActive).toBe(kit.maskSummary.reduce((s, m) => s + m.active, 0));
    kit.dispose();
  });

  it('checkpoints and exports the masks of recurrent and embedding weights', async () => {
    const model = sequenceModel();
    const kit = createMoon(baseOptions(model, { sparsity: 0.8, sparsifier: 'set', mask: { interval: 1, endStep: 3 } }));
    const { x, labels } = tokens(16, 5);
    const y = kit.labels(labels);
    model.compile({ optimizer: kit.optimizer('sgd'), loss: kit.loss });
    await model.fit(x, y, { epochs: 1, batchSize: 8, shuffle: false, verbose: 0, callbacks: [...kit.callbacks] });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seq-ckpt-'));
    await kit.checkpoint(path.join(dir, 'epoch-1'));
    const masks = maskedKernels(kit).map((k) => Array.from(k.mask.dataSync()));
    const weights = model.getWeights().map((w) => Array.from(w.dataSync()));

    const again = sequenceModel();
    const resumed = createMoon(baseOptions(again, { sparsity: 0.8, sparsifier: 'set', mask: { interval: 1, endStep: 3 }, resumeFrom: dir }));
    expect(maskedKernels(resumed).map((k) => Array.from(k.mask.dataSync()))).toEqual(masks);
    expect(again.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(weights);
    resumed.dispose();

    let saved: tf.io.ModelArtifacts | undefined;
    await exportSparse(model, tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const total = weights.reduce((s, w) => s + w.length, 0);
    expect((saved!.weightData as ArrayBuffer).byteLength).toBeLessThan(total * 4 * 0.5); // stored sparse, not dense
    const loaded = await loadSparse(tf.io.fromMemory(saved!));
    expect(loaded.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(weights);
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((model.predict(x) as tf.Tensor).dataSync()));
    kit.dispose();
    tf.dispose([x, y]);
  });
});

describe('transposed and 3-D convolutions, and the sparse fan-in scaling per output unit', () => {
  /** Each output unit's surviving weights times √(fan-in / active inputs), along the spec's unit axis. */
  function expectScaledPerUnit(before: Float32Array, after: Float32Array, mask: Float32Array, shape: number[], unitAxis: number): void {
    const strides = shape.map((_, a) => shape.slice(a + 1).reduce((p, d) => p * d, 1));
    const unitOf = (i: number) => Math.floor(i / strides[unitAxis]) % shape[unitAxis];
    const fanIn = before.length / shape[unitAxis];
    const active = new Array(shape[unitAxis]).fill(0);
    mask.forEach((m, i) => (active[unitOf(i)] += m));
    after.forEach((w, i) => {
      const factor = active[unitOf(i)] > 0 ? Math.sqrt(fanIn / active[unitOf(i)]) : 1;
      expect(w).toBeCloseTo(mask[i] * before[i] * factor, 5);
    });
  }

  it.each([
    ['Conv2DTranspose', () => tf.layers.conv2dTranspose({ filters: 4, kernelSize: 3, inputShape: [5, 5, 3], kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }), [3, 3, 4, 3], 2],
    ['Conv3D', () => tf.layers.conv3d({ filters: 4, kernelSize: 2, inputShape: [3, 3, 3, 2], kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }), [2, 2, 2, 2, 4], 4],
  ] as const)('%s: masked at the exact count, survivors rescaled to each output channel\'s sparse fan-in', (className, layer, shape, unitAxis) => {
    const conv = layer();
    const model = tf.sequential({ layers: [conv, tf.layers.flatten(), tf.layers.dense({ units: 3, activation: 'softmax' })] });
    const before = conv.getWeights()[0].dataSync() as Float32Array;
    const kit = createMoon(baseOptions(model, { sparsity: 0.75, sparsifier: 'static', distribution: 'uniform' }));
    const [entry] = maskedKernels(kit);
    expect(kit.maskSummary[0]).toMatchObject({ name: conv.name, shape, active: Math.round(0.25 * shape.reduce((p, d) => p * d, 1)) });
    expect(sparsityReport(kit).layers[0].className).toBe(className);
    expectScaledPerUnit(before, entry.kernel.dataSync() as Float32Array, entry.mask.dataSync() as Float32Array, [...shape], unitAxis);
    expectExactMasks(kit);
    kit.dispose();
  });
});

describe('a model whose only Dense layers are inside TimeDistributed (#22 row 5)', () => {
  it('is masked and trains a per-step classifier with kit.loss', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.timeDistributed({ inputShape: [4, 6], layer: tf.layers.dense({ units: 8, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }) }),
        tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }) }),
      ],
    });
    const kit = createMoon(baseOptions(model, { epochs: 8, stepsPerEpoch: 1, sparsity: 0.5, sparsifier: 'static', distribution: 'uniform' }));
    expect(kit.maskSummary.map((m) => [m.total, m.active])).toEqual([[48, 24], [24, 12]]);
    // Class of a step: which of the first three features is largest.
    const x = tf.randomNormal([16, 4, 6], 0, 1, 'float32', 9);
    const y = tf.tidy(() => tf.oneHot(tf.argMax(x.slice([0, 0, 0], [16, 4, 3]), -1), 3).toFloat());
    model.compile({ optimizer: kit.optimizer(tf.train.adam(0.05)), loss: kit.loss });
    const history = await model.fit(x, y, { epochs: 8, batchSize: 16, shuffle: false, verbose: 0, callbacks: [...kit.callbacks] });
    const loss = history.history.loss as number[];
    expect(loss[7]).toBeLessThan(loss[0] * 0.8);
    expectExactMasks(kit);
    kit.dispose();
    tf.dispose([x, y]);
  });
});

describe('frozen layers (#22 row 6)', () => {
  function transferModel(): tf.Sequential {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ name: 'pretrained', units: 8, inputShape: [6], activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
        tf.layers.dense({ name: 'head', units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      ],
    });
    model.layers[0].trainable = false;
    return model;
  }

  it('stay dense and untouched by default, through createMoon and fit', async () => {
    const model = transferModel();
    const frozen = Array.from(model.layers[0].getWeights()[0].dataSync());
    const kit = createMoon(baseOptions(model, { epochs: 1, stepsPerEpoch: 2, mask: { interval: 1 } }));
    expect(kit.maskSummary.map((m) => m.name)).toEqual(['head']);
    const report = sparsityReport(kit);
    expect(report.layers.map((l) => [l.name, l.masked, l.density])).toEqual([['pretrained', false, 1], ['head', true, kit.maskSummary[0].density]]);
    const x = tf.randomNormal([8, 6], 0, 1, 'float32', 3);
    model.compile({ optimizer: kit.optimizer('sgd'), loss: kit.loss });
    await model.fit(x, kit.labels([0, 1, 2, 0, 1, 2, 0, 1]), { epochs: 1, batchSize: 4, verbose: 0, callbacks: [...kit.callbacks] });
    expect(Array.from(model.layers[0].getWeights()[0].dataSync())).toEqual(frozen);
    kit.dispose();
    x.dispose();
  });

  it("are masked with mask: { frozenLayers: 'mask' }, and their masks never move", async () => {
    const model = transferModel();
    const kit = createMoon(baseOptions(model, { epochs: 1, stepsPerEpoch: 2, mask: { interval: 1, frozenLayers: 'mask' } }));
    expect(kit.maskSummary.map((m) => m.name)).toEqual(['pretrained', 'head']);
    const frozenMask = Array.from(maskedKernels(kit)[0].mask.dataSync());
    const x = tf.randomNormal([8, 6], 0, 1, 'float32', 3);
    model.compile({ optimizer: kit.optimizer('sgd'), loss: kit.loss });
    await model.fit(x, kit.labels([0, 1, 2, 0, 1, 2, 0, 1]), { epochs: 1, batchSize: 4, verbose: 0, callbacks: [...kit.callbacks] });
    expect(Array.from(maskedKernels(kit)[0].mask.dataSync())).toEqual(frozenMask);
    expectExactMasks(kit);
    kit.dispose();
    x.dispose();
  });

  it('a model frozen whole is refused with the option that masks it anyway', () => {
    const model = transferModel();
    model.layers[1].trainable = false;
    expect(() => createMoon(baseOptions(model))).toThrow(MoonConfigError);
    expect(() => createMoon(baseOptions(model))).toThrow(/every maskable weight is frozen.*frozenLayers: 'mask'/);
    expect(() => createMoon(baseOptions(model, { mask: { frozenLayers: 'all' as 'mask' } }))).toThrow(/mask.frozenLayers must be 'dense' or 'mask'/);
  });
});

describe('registerMaskableLayer: a custom layer\'s weights, through the same container pattern as sparsifiers', () => {
  it('masks what a container registers, and only for kits of that container', () => {
    const userContainer = container.createChildContainer();
    registerMaskableLayer('ScaledDense', { weights: ['kernel'] }, userContainer);
    const build = () => tf.sequential({ layers: [new ScaledDense({ units: 6, seed: 2, inputShape: [8] }), tf.layers.dense({ units: 3, activation: 'softmax' })] });
    const model = build();
    const kit = createMoon(baseOptions(model, { sparsity: 0.5, sparsifier: 'static', distribution: 'uniform', container: userContainer }));
    expect(kit.maskSummary.map((m) => [m.name, m.total, m.active])).toEqual([[model.layers[0].name, 48, 24], [model.layers[1].name, 18, 9]]);
    const [custom] = maskedKernels(kit);
    expect(kernelStats(custom.kernel, custom.mask)).toEqual({ active: 24, nonzeroOffMask: 0, negativeZeros: 0 });
    expect(kit.maskableLayers('ScaledDense')).toEqual({ weights: ['kernel'], units: undefined, appliedAt: undefined });
    expect(maskableLayerLookup()('ScaledDense')).toBeUndefined(); // the root container does not see it
    expect(sparsityReport(kit).layers.map((l) => l.className)).toEqual(['ScaledDense', 'Dense']);
    kit.dispose();

    const plain = createMoon(baseOptions(build(), { sparsity: 0.5, sparsifier: 'static' }));
    expect(plain.maskSummary.map((m) => m.total)).toEqual([18]);
    plain.dispose();
  });

  it.each([
    [{ weights: [] }, /weights must be a non-empty array/],
    [{ weights: ['a/b'] }, /without '\/'/],
    [{ weights: ['kernel'], units: 'first' }, /units must be one of 'last', 'depthwise', 'second-last', 'none'/],
    [{ weights: ['kernel'], appliedAt: 'everywhere' }, /appliedAt must be one of/],
    [{ weights: ['kernel'], weight: 'x' }, /unknown key "weight"/],
    [null, /expected a spec object/],
  ])('refuses the spec %p when it is registered', (spec, message) => {
    const userContainer = container.createChildContainer();
    expect(() => registerMaskableLayer('Custom', spec as never, userContainer)).toThrow(MoonConfigError);
    expect(() => registerMaskableLayer('Custom', spec as never, userContainer)).toThrow(message);
    expect(userContainer.isRegistered('tfjs-moon:maskable-layer:Custom')).toBe(false);
  });
});
