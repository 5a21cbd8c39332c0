import * as tf from '@tensorflow/tfjs';
import { createMoon, loadSparse, MoonConfigError, MoonModelError, SparseDense, SPARSE_CROSSOVER_DENSITY } from '../src';
import { buildMlp } from './helpers/models';
import { exportedInMemory as exported, sparsifyDense } from './helpers/sparse-models';
import { probeSparseSpeed } from '../src/plugins/sparse/speed-probe';

// loadSparse(…, { kernels }) and the SparseDense layer, in the cpu and the wasm project.

async function maxAbsDifference(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const [x, y] = [await a.data(), await b.data()];
  return Array.from(x).reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
}

const classNames = (model: tf.LayersModel): string[] => model.layers.map((l) => l.getClassName());

describe(`loadSparse kernels (${process.env.TFJS_TEST_BACKEND})`, () => {
  const backend = process.env.TFJS_TEST_BACKEND!;

  test("'sparse' turns every Dense layer holding zeros into SparseDense; predictions equal the dense model's", async () => {
    const model = buildMlp(3);
    sparsifyDense(model, 0.1, [0, 1]); // the softmax head stays dense, as ERK keeps it
    const source = await exported(model);
    const sparse = await loadSparse(source, { kernels: 'sparse' });
    expect(classNames(sparse)).toEqual(['SparseDense', 'SparseDense', 'Dense']);
    const dense = await loadSparse(source);
    expect(classNames(dense)).toEqual(['Dense', 'Dense', 'Dense']);
    for (const batch of [1, 7, 64]) {
      const x = tf.randomNormal([batch, 784], 0, 1, 'float32', batch);
      const [a, b, c] = [sparse.predict(x) as tf.Tensor, dense.predict(x) as tf.Tensor, model.predict(x) as tf.Tensor];
      expect(await maxAbsDifference(a, c)).toBeLessThan(1e-6);
      expect(await maxAbsDifference(b, c)).toBe(0);
      tf.dispose([x, a, b, c]);
    }
  });

  test("'auto' converts where the density is under the backend's crossover and the probe finds sparse faster", async () => {
    const model = buildMlp(4);
    sparsifyDense(model, 0.1, [0]); // layer 1 keeps all its weights
    const auto = await loadSparse(await exported(model), { kernels: 'auto' });
    const layer0 = (await loadSparse(await exported(model), { kernels: 'sparse' })).layers[0] as SparseDense;
    const nnz = (layer0.getConfig() as { nnz: number }).nnz;
    // Under the crossover, 'auto' converts where this machine's measurement finds sparse faster (speed-probe.test.ts).
    const expected = nnz / (784 * 32) <= SPARSE_CROSSOVER_DENSITY[backend] && probeSparseSpeed(784, 32, nnz, 'inference').sparseFaster ? 'SparseDense' : 'Dense';
    expect(classNames(auto)).toEqual([expected, 'Dense', 'Dense']);
  });

  test('a non-fused activation (softmax, tanh), a layer without bias and rank-3 input run after the kernel', async () => {
    const input = tf.input({ shape: [5, 12] });
    const hidden = tf.layers.dense({ units: 9, activation: 'tanh', useBias: false, kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(input);
    const out = tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(hidden);
    const model = tf.model({ inputs: input, outputs: out as tf.SymbolicTensor });
    sparsifyDense(model, 0.5);
    const sparse = await loadSparse(await exported(model), { kernels: 'sparse' });
    expect(classNames(sparse)).toEqual(['InputLayer', 'SparseDense', 'SparseDense']);
    const x = tf.randomNormal([3, 5, 12], 0, 1, 'float32', 1);
    const [a, b] = [sparse.predict(x) as tf.Tensor, model.predict(x) as tf.Tensor];
    expect(a.shape).toEqual([3, 5, 4]);
    expect(await maxAbsDifference(a, b)).toBeLessThan(1e-6);
    tf.dispose([x, a, b]);
  });

  test('a model with SparseDense layers saves and loads through tf.serialization, and predicting leaks no tensor', async () => {
    const model = buildMlp(5);
    sparsifyDense(model, 0.2);
    const sparse = await loadSparse(await exported(model), { kernels: 'sparse' });
    let saved: tf.io.ModelArtifacts | undefined;
    await sparse.save(tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const reloaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    expect(classNames(reloaded)).toEqual(['SparseDense', 'SparseDense', 'SparseDense']);
    const layer = reloaded.layers[0] as SparseDense;
    expect(layer.getConfig()).toMatchObject({ units: 32, inputDim: 784, activation: 'relu', useBias: true });
    expect(layer.nnz).toBe((await tf.tidy(() => model.layers[0].getWeights()[0].notEqual(0).sum()).data())[0]);
    const x = tf.randomNormal([9, 784], 0, 1, 'float32', 2);
    const first = reloaded.predict(x) as tf.Tensor;
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) tf.dispose(reloaded.predict(x, { batchSize: 4 }) as tf.Tensor);
    expect(tf.memory().numTensors).toBe(before);
    const expected = model.predict(x) as tf.Tensor;
    expect(await maxAbsDifference(first, expected)).toBeLessThan(1e-6);
    tf.dispose([x, first, expected]);
  });

  test('bad options and training a SparseDense model with a kit are typed errors', async () => {
    const model = buildMlp(6);
    sparsifyDense(model, 0.2);
    const source = await exported(model);
    await expect(loadSparse(source, { kernels: 'fast' as never })).rejects.toThrow(MoonConfigError);
    await expect(loadSparse(source, { kernels: 'fast' as never })).rejects.toThrow(/'auto', 'sparse' or 'dense'/);
    const sparse = await loadSparse(source, { kernels: 'sparse' });
    expect(() => createMoon({ model: sparse, numClasses: 10, epochs: 2, stepsPerEpoch: 1, unknownAware: false })).toThrow(MoonModelError);
    expect(() => createMoon({ model: sparse, numClasses: 10, epochs: 2, stepsPerEpoch: 1, unknownAware: false })).toThrow(/loadSparse\(source\)/);
    expect(() => new SparseDense({ units: 3, inputDim: 2, nnz: 7 })).toThrow(/nnz must be an integer in \[0, units·inputDim = 6\]/);
  });
});
