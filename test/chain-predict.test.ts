import * as tf from '@tensorflow/tfjs';
import { loadSparse } from '../src';
import { installChainPredict } from '../src/plugins/sparse/chain-predict';
import { buildBatchNormMlp, buildMlp } from './helpers/models';
import { exportedInMemory, sparsifyDense } from './helpers/sparse-models';

// The direct predict path loadSparse installs on Sequential chains (src/plugins/sparse/chain-predict.ts), in the cpu
// and the wasm project: the same values as tfjs-layers' predict, bit for bit, and tfjs's own errors for the rest.

/** tfjs-layers' own predict, bypassing the installed own property. */
const tfjsPredict = (model: tf.LayersModel, x: tf.Tensor, config?: tf.ModelPredictConfig): tf.Tensor =>
  tf.Sequential.prototype.predict.call(model, x, config) as tf.Tensor;

const hasOwnPredict = (model: tf.LayersModel): boolean => Object.prototype.hasOwnProperty.call(model, 'predict');

describe(`chain predict (${process.env.TFJS_TEST_BACKEND})`, () => {
  let source: tf.io.IOHandler;
  beforeAll(async () => {
    const model = buildMlp(5);
    model.add(tf.layers.dropout({ rate: 0.5 }));
    model.add(tf.layers.activation({ activation: 'linear' }));
    sparsifyDense(model, 0.1, [0, 1], 11); // the head keeps its weights
    source = await exportedInMemory(model);
    model.dispose();
  });

  test.each(['sparse', 'dense'] as const)("loadSparse(…, { kernels: '%s' }) gets the direct path; outputs equal tfjs's predict bit for bit", async (kernels) => {
    const model = await loadSparse(source, { kernels });
    expect(hasOwnPredict(model)).toBe(true);
    expect(model.layers.map((l) => l.getClassName())).toEqual(
      kernels === 'sparse' ? ['SparseDense', 'SparseDense', 'Dense', 'Dropout', 'Activation'] : ['Dense', 'Dense', 'Dense', 'Dropout', 'Activation'],
    );
    for (const [batch, batchSize] of [[1, undefined], [5, undefined], [32, undefined], [70, undefined], [70, 16], [3, 1]] as const) {
      const x = tf.randomNormal([batch, 784], 0, 1, 'float32', batch);
      const config = batchSize === undefined ? undefined : { batchSize };
      const [direct, reference] = [model.predict(x, config) as tf.Tensor, tfjsPredict(model, x, config)];
      expect(direct.shape).toEqual([batch, 10]);
      expect(Array.from(await direct.data())).toEqual(Array.from(await reference.data()));
      tf.dispose([x, direct, reference]);
    }
    model.dispose();
  });

  test('predicting leaks no tensor, in one batch or many', async () => {
    const model = await loadSparse(source, { kernels: 'sparse' });
    const x = tf.randomNormal([70, 784], 0, 1, 'float32', 3);
    tf.dispose(model.predict(x)); // warm-up: kernels and lazily made tensors
    const before = tf.memory().numTensors;
    for (const batchSize of [16, 32, 128]) tf.dispose(model.predict(x, { batchSize }));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(x);
    model.dispose();
  });

  test("what the direct path does not handle gets tfjs's predict and its errors", async () => {
    const model = await loadSparse(source, { kernels: 'sparse' });
    const wrongWidth = tf.zeros([2, 783]);
    expect(() => model.predict(wrongWidth)).toThrow(/expected dense_.*_input to have shape \[null,784\]/i);
    const asArray = tf.zeros([2, 784]);
    const fromArray = model.predict([asArray]) as tf.Tensor; // an array of one input is tfjs's business
    expect(fromArray.shape).toEqual([2, 10]);
    expect(() => model.predict(asArray, { batchSize: 0 })).toThrow(/batchSize/i);
    tf.dispose([wrongWidth, fromArray]);
    model.dispose();
    expect(() => model.predict(asArray)).toThrow(/disposed/i);
    tf.dispose(asArray);
  });

  test('a model that is not a chain of Dense-like layers keeps tfjs predict; installing twice is refused', async () => {
    const batchNorm = buildBatchNormMlp();
    expect(installChainPredict(batchNorm)).toBe(false);
    expect(hasOwnPredict(batchNorm)).toBe(false);
    const functional = tf.model({ inputs: batchNorm.inputs, outputs: batchNorm.outputs });
    expect(installChainPredict(functional)).toBe(false);
    batchNorm.dispose();
    const chain = buildMlp(2);
    expect(installChainPredict(chain)).toBe(true);
    expect(installChainPredict(chain)).toBe(false);
    const x = tf.randomNormal([4, 784], 0, 1, 'float32', 9);
    const [direct, reference] = [chain.predict(x) as tf.Tensor, tfjsPredict(chain, x)];
    expect(Array.from(await direct.data())).toEqual(Array.from(await reference.data()));
    tf.dispose([x, direct, reference]);
    chain.dispose();
  });
});
