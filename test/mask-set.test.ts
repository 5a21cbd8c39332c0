import * as tf from '@tensorflow/tfjs';
import { createMoon } from '../src';
import { expectExactMasks } from './helpers/models';

const kitFor = (model: tf.LayersModel, extra: object = {}) =>
  createMoon({ model, numClasses: 3, epochs: 1, stepsPerEpoch: 2, sparsity: 0.5, seed: 1, unknownAware: false, ...extra });

function convModel(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ name: 'conv', filters: 4, kernelSize: 3, inputShape: [8, 8, 2] }),
      tf.layers.batchNormalization({ name: 'bn' }),
      tf.layers.depthwiseConv2d({ name: 'dw', kernelSize: 3, depthMultiplier: 2 }),
      tf.layers.separableConv2d({ name: 'sep', filters: 6, kernelSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ name: 'head', units: 3, activation: 'softmax' }),
    ],
  });
}

describe('which kernels are masked', () => {
  it('masks Dense, Conv2D, the depthwise kernel and the separable pointwise kernel; biases and BN stay dense', () => {
    const kit = kitFor(convModel());
    expect(kit.masks.map((m) => [m.name, m.variable.split('/')[1], m.shape])).toEqual([
      ['conv', 'kernel', [3, 3, 2, 4]],
      ['dw', 'depthwise_kernel', [3, 3, 4, 2]],
      ['sep', 'pointwise_kernel', [1, 1, 8, 6]],
      ['head', 'kernel', [54, 3]],
    ]);
  });

  it('finds kernels by class inside a nested Sequential and a functional model', () => {
    const inner = tf.sequential({ name: 'block', layers: [tf.layers.dense({ name: 'inner1', units: 6, inputShape: [5] }), tf.layers.dense({ name: 'inner2', units: 4 })] });
    const input = tf.input({ shape: [5] });
    const hidden = inner.apply(input) as tf.SymbolicTensor;
    const branch = tf.layers.dense({ name: 'side', units: 4 }).apply(input) as tf.SymbolicTensor;
    const merged = tf.layers.add().apply([hidden, branch]) as tf.SymbolicTensor;
    const output = tf.layers.dense({ name: 'out', units: 3, activation: 'softmax' }).apply(merged) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: output });
    expect(kitFor(model).masks.map((m) => m.name)).toEqual(['inner1', 'inner2', 'side', 'out']);
  });

  it('keeps layers dense by name, by predicate, and the first layer on request', () => {
    expect(kitFor(convModel(), { mask: { denseLayers: ['head', 'dw'] } }).masks.map((m) => m.name)).toEqual(['conv', 'sep']);
    const byClass = kitFor(convModel(), { mask: { denseLayers: (l: { className: string }) => l.className !== 'Dense' } });
    expect(byClass.masks.map((m) => m.name)).toEqual(['head']);
    expect(kitFor(convModel(), { mask: { firstLayerDense: true } }).masks.map((m) => m.name)).toEqual(['dw', 'sep', 'head']);
    expect(() => kitFor(convModel(), { mask: { denseLayers: () => true } })).toThrow(/keep every maskable layer dense/);
  });

  it('zeroes the masked weights at creation, exactly to the planned counts', () => {
    const model = convModel();
    const kit = kitFor(model, { distribution: 'uniform' });
    expectExactMasks(kit);
    // uniform at 0.5, exact integer counts: Σ active = round(0.5 · Σ total)
    const total = kit.masks.reduce((s, m) => s + m.total, 0);
    expect(kit.masks.reduce((s, m) => s + m.active, 0)).toBe(Math.round(0.5 * total));
  });

  // tfjs 4.22 has no depthwise-convolution gradient on wasm, so this fit runs on the cpu project only.
  const onCpu = process.env.TFJS_TEST_BACKEND === 'cpu' ? it : it.skip;
  onCpu('trains depthwise and separable kernels sparsely; emits mask:init once, at the first fit', async () => {
    const model = convModel();
    const kit = kitFor(model, { sparsifier: 'set', epochs: 2, mask: { interval: 1, endStep: 2 } });
    const inits: unknown[] = [];
    kit.events.on('mask:init', (e) => inits.push(e));
    model.compile({ optimizer: kit.optimizer(tf.train.adam(0.01)), loss: 'categoricalCrossentropy' });
    const xs = tf.randomNormal([8, 8, 8, 2], 0, 1, 'float32', 1);
    const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3).toFloat();
    await model.fit(xs, ys, { epochs: 1, batchSize: 4, verbose: 0, callbacks: [...kit.callbacks] });
    await model.fit(xs, ys, { epochs: 1, batchSize: 4, verbose: 0, callbacks: [...kit.callbacks] });
    expect(inits).toHaveLength(1);
    expect(inits[0]).toEqual({ layers: kit.masks, density: kit.density });
    expectExactMasks(kit);
    tf.dispose([xs, ys]);
  });
});
