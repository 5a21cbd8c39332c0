import * as tf from '@tensorflow/tfjs';
import { exportSparse, loadSparse, MoonModelError, SparseDense, sparseDense } from '../src';

// Layouts from a stranger's file reach compiled kernels that run in place on TF.js's heap: every malformed one must
// be refused with a MoonModelError before a kernel reads it (cpu and wasm projects).

const IN = 4;
const UNITS = 3;
/** A valid 4×3 layout: column 0 rows {0, 2}, column 1 row {1}, column 2 rows {0, 3}. */
const GOOD = { values: [1, 2, 3, 4, 5], rows: [0, 2, 1, 0, 3], starts: [0, 2, 3, 5] };

function sparseModel(rows: number[] = GOOD.rows, starts: number[] = GOOD.starts): tf.Sequential {
  const model = tf.sequential({ layers: [new SparseDense({ units: UNITS, inputDim: IN, nnz: GOOD.values.length, inputShape: [IN], name: 'crafted' })] });
  // tfjs-layers orders a layer's weights trainable first: values, bias, then row_indices, column_starts.
  model.layers[0].setWeights([tf.tensor1d(GOOD.values), tf.tensor1d([0.5, 0, -0.5]), tf.tensor1d(rows, 'int32'), tf.tensor1d(starts, 'int32')]);
  return model;
}

const x = (): tf.Tensor2D => tf.tensor2d([[1, 10, 100, 1000]]);

/** What the bad layouts below break, and how. */
const BAD_LAYOUTS: [string, number[], number[]][] = [
  ['a row index past inDim', [0, 2, 1, 0, 4], GOOD.starts],
  ['a row index of 2^28 (wraps to row 0 in 32-bit byte offsets)', [0, 2, 1, 0, 2 ** 28], GOOD.starts],
  ['a row index of 2^30', [0, 2, 1, 0, 2 ** 30], GOOD.starts],
  ['a negative row index', [0, 2, 1, -1, 3], GOOD.starts],
  ['rows not ascending in a column', [2, 0, 1, 0, 3], GOOD.starts],
  ['column_starts[0] ≠ 0', GOOD.rows, [1, 2, 3, 5]],
  ['column_starts past nnz', GOOD.rows, [0, 2, 3, 9]],
  ['column_starts decreasing', GOOD.rows, [0, 3, 2, 5]],
];

describe(`hostile sparse layouts (${process.env.TFJS_TEST_BACKEND})`, () => {
  test('a valid layout predicts x·W + b exactly', async () => {
    const model = sparseModel();
    const y = model.predict(x()) as tf.Tensor;
    // column 0: 1·1 + 2·100; column 1: 3·10; column 2: 4·1 + 5·1000
    expect(Array.from(await y.data())).toEqual([201.5, 30, 5003.5]);
  });

  test.each(BAD_LAYOUTS)('predict refuses %s with a MoonModelError naming the layer', async (_what, rows, starts) => {
    const model = sparseModel(rows, starts);
    const input = x();
    const before = tf.memory().numTensors;
    expect(() => model.predict(input)).toThrow(MoonModelError);
    expect(() => model.predict(input)).toThrow(/SparseDense layer "crafted" is malformed/);
    expect(tf.memory().numTensors).toBe(before); // nothing leaked by the refused calls
    await expect((model.layers[0] as SparseDense).checkLayout()).rejects.toThrow(MoonModelError);
    model.dispose();
  });

  test('fit refuses a bad layout before any weight changes, and an unrelated tensor is untouched', async () => {
    const model = sparseModel([0, 2, 1, 0, 2 ** 28]);
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
    const bystander = tf.tensor1d([7, 7, 7, 7]);
    const before = await model.layers[0].getWeights()[0].data();
    await expect(model.fit(x(), tf.zeros([1, UNITS]), { epochs: 1, verbose: 0 })).rejects.toThrow(MoonModelError);
    expect(Array.from(await bystander.data())).toEqual([7, 7, 7, 7]);
    expect(Array.from(await model.layers[0].getWeights()[0].data())).toEqual(Array.from(before));
    model.dispose();
  });

  test('the public op refuses float32 index tensors (the default of tf.tensor1d) and mismatched lengths', () => {
    const values = tf.tensor1d(GOOD.values);
    const bias = tf.tensor1d([0, 0, 0]);
    const asFloat = { values, rowIndices: tf.tensor1d(GOOD.rows), columnStarts: tf.tensor1d(GOOD.starts), inDim: IN };
    expect(() => sparseDense(x(), asFloat, bias, 'linear')).toThrow(/must be int32 .*pass 'int32'/);
    const short = { values, rowIndices: tf.tensor1d([0, 2, 1], 'int32'), columnStarts: tf.tensor1d(GOOD.starts, 'int32'), inDim: IN };
    expect(() => sparseDense(x(), short, bias, 'linear')).toThrow(MoonModelError);
    const good = { values, rowIndices: tf.tensor1d(GOOD.rows, 'int32'), columnStarts: tf.tensor1d(GOOD.starts, 'int32'), inDim: IN };
    expect(() => sparseDense(x(), good, tf.tensor1d([0, 0]), 'linear')).toThrow(/bias must be float32 \[3\]/);
    const outOfRange = { ...good, rowIndices: tf.tensor1d([0, 2, 1, 0, 99], 'int32') };
    expect(() => sparseDense(x(), outOfRange, bias, 'linear')).toThrow(/row index 99 at entry 4 is outside \[0, 4\)/);
  });

  test('a crafted model file is refused by loadSparse at load, and by tf.loadLayersModel at the first predict', async () => {
    let artifacts: tf.io.ModelArtifacts | undefined;
    const capture = tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    });
    await exportSparse(sparseModel(), capture);
    const specs = artifacts!.weightSpecs!;
    const rowsAt = specs.findIndex((s) => s.name.endsWith('row_indices'));
    const offset = specs.slice(0, rowsAt).reduce((sum, s) => sum + 4 * tf.util.sizeFromShape(s.shape), 0);
    const data = (artifacts!.weightData as ArrayBuffer).slice(0);
    new Int32Array(data, offset, GOOD.rows.length)[4] = 2 ** 28;
    const crafted = { ...artifacts!, weightData: data };
    await expect(loadSparse(tf.io.fromMemory(crafted))).rejects.toThrow(/SparseDense layer "crafted" is malformed: row index 268435456/);
    const plain = await tf.loadLayersModel(tf.io.fromMemory(crafted)); // TF.js's own loader reaches the class too
    expect(() => plain.predict(x())).toThrow(MoonModelError);
  });

  test('int32 and bool inputs are cast to float32, as Dense does', async () => {
    const model = sparseModel();
    const asFloat = await (model.predict(x()) as tf.Tensor).data();
    const asInt = await (model.predict(tf.tensor2d([[1, 10, 100, 1000]], undefined, 'int32')) as tf.Tensor).data();
    expect(Array.from(asInt)).toEqual(Array.from(asFloat));
    const asBool = await (model.predict(tf.tensor2d([[true, false, true, false]], undefined, 'bool')) as tf.Tensor).data();
    expect(Array.from(asBool)).toEqual([3.5, 0, 3.5]);
  });
});
