import * as tf from '@tensorflow/tfjs';
import { addUnknownHead, MoonConfigError, MoonModelError, padUnknownColumn } from '../src';
import { detectOutputKind } from '../src/plugins/moon/output-kind';
import { buildMlp } from './helpers/models';

describe('addUnknownHead', () => {
  it('copies a K-output model into a K+1-output one; the K known units keep their weights', () => {
    const model = buildMlp(1, 4, 6);
    const copy = addUnknownHead(model);
    expect(copy.outputs[0].shape).toEqual([null, 5]);
    const [oldKernel, oldBias] = model.layers[2].getWeights();
    const head = copy.layers[copy.layers.length - 1];
    const [kernel, bias] = head.getWeights();
    expect(head.getConfig().activation).toBe('softmax');
    expect(Array.from(tf.slice(kernel, [0, 0], [-1, 4]).dataSync())).toEqual(Array.from(oldKernel.dataSync()));
    expect(Array.from(tf.slice(bias, [0], [4]).dataSync())).toEqual(Array.from(oldBias.dataSync()));
    // Hidden layers are copies with equal weights.
    expect(Array.from(copy.layers[1].getWeights()[0].dataSync())).toEqual(Array.from(model.layers[0].getWeights()[0].dataSync()));
  });

  it('shares nothing with the original: training the copy leaves the original as it was', async () => {
    const model = buildMlp(2, 3, 5);
    const before = model.getWeights().map((w) => Array.from(w.dataSync()));
    const copy = addUnknownHead(model);
    copy.compile({ optimizer: tf.train.sgd(0.5), loss: 'categoricalCrossentropy' });
    await copy.fit(tf.randomNormal([8, 5], 0, 1, 'float32', 1), tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 4).toFloat(), { epochs: 1, verbose: 0 });
    expect(model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(before);
    expect(copy.getWeights().map((w) => Array.from(w.dataSync()))[1]).not.toEqual(before[0]);
  });

  it('works on a functional model and rejects a non-Dense head', () => {
    const input = tf.input({ shape: [4] });
    const out = tf.layers.dense({ units: 2 }).apply(tf.layers.dense({ units: 3, activation: 'relu' }).apply(input)) as tf.SymbolicTensor;
    expect(addUnknownHead(tf.model({ inputs: input, outputs: out })).outputs[0].shape).toEqual([null, 3]);
    const flat = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4] }), tf.layers.reshape({ targetShape: [3] })] });
    expect(() => addUnknownHead(flat)).toThrow(MoonModelError);
    expect(() => addUnknownHead(flat)).toThrow(/needs a Dense last layer \(optionally followed by an Activation or Softmax layer\), got Reshape/);
    const doubled = tf.sequential({ layers: [tf.layers.reshape({ targetShape: [4], inputShape: [4] }), tf.layers.activation({ activation: 'softmax' })] });
    expect(() => addUnknownHead(doubled)).toThrow(/got Reshape/); // the layer before the activation must be Dense
  });

  it.each(['activation', 'softmax'] as const)('handles a Keras-style head: Dense(K) then a separate %s layer (#22 row 8)', (kind) => {
    const init = (s: number) => tf.initializers.glorotUniform({ seed: s });
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ units: 6, inputShape: [5], activation: 'relu', kernelInitializer: init(1) }),
        tf.layers.dense({ units: 3, kernelInitializer: init(2) }),
        kind === 'softmax' ? tf.layers.softmax() : tf.layers.activation({ activation: 'softmax' }),
      ],
    });
    const copy = addUnknownHead(model);
    expect(copy.outputs[0].shape).toEqual([null, 4]);
    expect(copy.layers[copy.layers.length - 1].getClassName()).toBe(kind === 'softmax' ? 'Softmax' : 'Activation');
    expect(detectOutputKind(copy)).toBe('probabilities');
    const [oldKernel] = model.layers[1].getWeights();
    const [kernel] = copy.layers[copy.layers.length - 2].getWeights();
    expect(Array.from(tf.slice(kernel, [0, 0], [-1, 3]).dataSync())).toEqual(Array.from(oldKernel.dataSync()));
    const rows = (copy.predict(tf.randomNormal([4, 5], 0, 1, 'float32', 3)) as tf.Tensor).sum(1).dataSync();
    rows.forEach((r) => expect(r).toBeCloseTo(1, 5)); // still a softmax, over K + 1
  });
});

describe('labels for a K+1 model', () => {
  it('pads one-hot rows over K with a zero unknown column and leaves K+1 rows alone', () => {
    const k = tf.tensor2d([[0, 1], [1, 0]]);
    expect(padUnknownColumn(k, 2).arraySync()).toEqual([[0, 1, 0], [1, 0, 0]]);
    const k1 = tf.tensor2d([[0, 1, 0]]);
    expect(padUnknownColumn(k1, 2)).toBe(k1);
  });

  it('one-hot encodes class ids ([N], [N, 1], arrays) and casts int32 one-hot rows (tf.oneHot returns int32)', () => {
    const expected = [[0, 1, 0], [1, 0, 0]];
    for (const ids of [tf.tensor1d([1, 0], 'int32'), tf.tensor2d([[1], [0]]), [1, 0], tf.oneHot(tf.tensor1d([1, 0], 'int32'), 2)]) {
      const y = padUnknownColumn(ids, 2);
      expect(y.dtype).toBe('float32');
      expect(y.arraySync()).toEqual(expected);
    }
    expect(() => padUnknownColumn(tf.zeros([2, 5]), 2)).toThrow(MoonConfigError);
    expect(() => padUnknownColumn(tf.zeros([2, 5]), 2)).toThrow(/do not fit numClasses = 2/);
  });
});

describe('output kind detection', () => {
  it('softmax heads output probabilities, others logits, through nested models', () => {
    expect(detectOutputKind(buildMlp(1, 3, 4))).toBe('probabilities');
    const linear = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4] })] });
    expect(detectOutputKind(linear)).toBe('logits');
    expect(detectOutputKind(tf.sequential({ layers: [buildMlp(1, 3, 4)] }))).toBe('probabilities');
  });
});
