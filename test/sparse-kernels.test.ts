import * as tf from '@tensorflow/tfjs';
import { compressColumns, expandColumns } from '../src/plugins/sparse/column-layout';
import { compileSparseKernels, registerSparseKernels, SPARSE_DENSE_KERNELS, sparseDense, sparseKernelsServe, type CompressedColumns } from '../src';
import { runsInPlace } from '../src/plugins/sparse/kernel-heap';
import { SPARSE_KERNELS_WASM_BASE64 } from '../src/plugins/sparse/kernel-binary.generated';

// Runs in the cpu and the wasm project: the compiled kernels are checked against TF.js's dense matMul on both.

/** A seeded [inDim, outDim] kernel of about `density` nonzeros, with optional all-zero rows / columns. */
function randomKernel(inDim: number, outDim: number, density: number, seed: number, zeroRow = -1, zeroColumn = -1): Float32Array {
  let state = seed >>> 0;
  const next = (): number => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const kernel = new Float32Array(inDim * outDim);
  for (let i = 0; i < inDim; i++) {
    for (let j = 0; j < outDim; j++) {
      if (i === zeroRow || j === zeroColumn || next() >= density) continue;
      kernel[i * outDim + j] = next() * 2 - 1;
    }
  }
  return kernel;
}

function compressed(kernel: Float32Array, inDim: number, outDim: number): CompressedColumns {
  const layout = compressColumns(kernel, inDim, outDim);
  return {
    values: tf.tensor1d(layout.values),
    rowIndices: tf.tensor1d(layout.rowIndices, 'int32'),
    columnStarts: tf.tensor1d(layout.columnStarts, 'int32'),
    inDim,
  };
}

const disposeWeight = (w: CompressedColumns): void => tf.dispose([w.values, w.rowIndices, w.columnStarts]);

/** max |a − b| / (1 + max |b|): float32 rounding of two summation orders stays far below 1e-5. */
async function relativeError(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const [x, y] = [await a.data(), await b.data()];
  expect(x.length).toBe(y.length);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < x.length; i++) {
    err = Math.max(err, Math.abs(x[i] - y[i]));
    scale = Math.max(scale, Math.abs(y[i]));
  }
  return err / (1 + scale);
}

describe('the compiled kernel module', () => {
  test('is valid wasm (SIMD) that imports only env.memory and owns no global, data or start section', () => {
    const bytes = Buffer.from(SPARSE_KERNELS_WASM_BASE64, 'base64');
    const module = new WebAssembly.Module(bytes);
    expect(WebAssembly.Module.imports(module)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    expect(WebAssembly.Module.exports(module).map((e) => e.name)).toEqual(
      expect.arrayContaining(['forwardGathered', 'forwardTransposed', 'inputGradientTransposed', 'valuesGradient']),
    );
  });

  test(`runs in place on the wasm backend's heap, through copies on cpu (${tf.getBackend()})`, () => {
    expect(runsInPlace(tf.backend())).toBe(tf.getBackend() === 'wasm');
  });
});

describe('column layout', () => {
  test('round-trips a kernel, rows ascending within columns, zeros dropped', () => {
    const kernel = new Float32Array([0, 2, 0, 3, 0, 4, -0, 5, 6]); // [3, 3]
    const layout = compressColumns(kernel, 3, 3);
    expect(Array.from(layout.columnStarts)).toEqual([0, 1, 3, 5]);
    expect(Array.from(layout.rowIndices)).toEqual([1, 0, 2, 1, 2]);
    expect(Array.from(layout.values)).toEqual([3, 2, 5, 4, 6]);
    expect(Array.from(expandColumns(layout))).toEqual([0, 2, 0, 3, 0, 4, 0, 5, 6]);
  });

  test('rejects a kernel of the wrong length', () => {
    expect(() => compressColumns(new Float32Array(5), 2, 3)).toThrow(/5 values for a \[2, 3\] kernel/);
  });
});

describe(`sparseDense equals the dense product (${process.env.TFJS_TEST_BACKEND})`, () => {
  const cases: Array<[string, number, number, number, number]> = [
    // name, inDim, outDim, density, seed
    ['LeNet first layer at 0.08', 784, 300, 0.08, 1],
    ['odd shapes at 0.3', 37, 13, 0.3, 2],
    ['a fully dense layer', 20, 9, 1, 3],
    ['an empty layer (density 0)', 16, 5, 0, 4],
    ['density 0.6', 64, 33, 0.6, 5],
  ];
  for (const batch of [1, 3, 4, 17, 64]) {
    for (const [name, inDim, outDim, density, seed] of cases) {
      for (const activation of ['linear', 'relu'] as const) {
        test(`${name}, batch ${batch}, ${activation}`, async () => {
          const kernel = randomKernel(inDim, outDim, density, seed, 3, 2);
          const weight = compressed(kernel, inDim, outDim);
          const x = tf.randomNormal([batch, inDim], 0, 1, 'float32', seed) as tf.Tensor2D;
          const bias = tf.randomNormal([outDim], 0, 1, 'float32', seed + 1) as tf.Tensor1D;
          const before = tf.memory().numTensors;
          const sparse = sparseDense(x, weight, bias, activation);
          expect(tf.memory().numTensors).toBe(before + 1);
          const denseOut = tf.tidy(() => {
            const y = tf.add(tf.matMul(x, tf.tensor2d(kernel, [inDim, outDim])), bias);
            return activation === 'relu' ? tf.relu(y) : y;
          });
          expect(sparse.shape).toEqual([batch, outDim]);
          expect(await relativeError(sparse, denseOut)).toBeLessThan(1e-5);
          // The all-zero column 2 of W gives exactly the bias (after the activation).
          const column = await tf.tidy(() => sparse.slice([0, 2], [batch, 1]).sub(activation === 'relu' ? tf.relu(bias.slice(2, 1)) : bias.slice(2, 1))).data();
          expect(Array.from(column).every((v) => v === 0)).toBe(true);
          tf.dispose([sparse, denseOut, x, bias]);
          disposeWeight(weight);
        });
      }
    }
  }

  test('without a bias', async () => {
    const kernel = randomKernel(30, 7, 0.2, 9);
    const weight = compressed(kernel, 30, 7);
    const x = tf.randomNormal([5, 30], 0, 1, 'float32', 9) as tf.Tensor2D;
    const y = sparseDense(x, weight, undefined, 'linear');
    const expected = tf.matMul(x, tf.tensor2d(kernel, [30, 7]));
    expect(await relativeError(y, expected)).toBeLessThan(1e-5);
    tf.dispose([x, y, expected]);
    disposeWeight(weight);
  });

  test('a wrong input width is a typed error', () => {
    const weight = compressed(randomKernel(8, 3, 0.5, 1), 8, 3);
    const x = tf.zeros([2, 7]) as tf.Tensor2D;
    expect(() => sparseDense(x, weight, undefined, 'linear')).toThrow(/x must be \[batch, 8\], got \[2, 7\]/);
    tf.dispose(x);
    disposeWeight(weight);
  });
});

describe(`gradients equal the dense ones at the stored entries (${process.env.TFJS_TEST_BACKEND})`, () => {
  for (const [batch, activation] of [[1, 'relu'], [6, 'linear'], [33, 'relu']] as const) {
    test(`batch ${batch}, ${activation}`, async () => {
      const [inDim, outDim] = [41, 11];
      const kernel = randomKernel(inDim, outDim, 0.25, batch, 4, 5);
      const layout = compressColumns(kernel, inDim, outDim);
      const weight = compressed(kernel, inDim, outDim);
      const x = tf.randomNormal([batch, inDim], 0, 1, 'float32', 7) as tf.Tensor2D;
      const bias = tf.randomNormal([outDim], 0, 1, 'float32', 8) as tf.Tensor1D;
      const target = tf.randomNormal([batch, outDim], 0, 1, 'float32', 10);
      const sparseLoss = (xs: tf.Tensor2D, vals: tf.Tensor1D, b: tf.Tensor1D): tf.Scalar =>
        tf.sum(tf.mul(sparseDense(xs, { ...weight, values: vals }, b, activation), target));
      const denseLoss = (xs: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Scalar => {
        const y = tf.add(tf.matMul(xs, w), b);
        return tf.sum(tf.mul(activation === 'relu' ? tf.relu(y) : y, target));
      };
      const [gx, gv, gb] = tf.grads(sparseLoss as (...a: tf.Tensor[]) => tf.Tensor)([x, weight.values, bias]);
      const w = tf.tensor2d(kernel, [inDim, outDim]);
      const [dx, dw, db] = tf.grads(denseLoss as (...a: tf.Tensor[]) => tf.Tensor)([x, w, bias]);
      expect(await relativeError(gx, dx)).toBeLessThan(1e-5);
      expect(await relativeError(gb, db)).toBeLessThan(1e-5);
      const dwHost = await dw.data();
      const atEntries = Array.from(layout.rowIndices, (r, k) => {
        const j = layout.columnStarts.findIndex((s, c) => c > 0 && s > k) - 1;
        return dwHost[r * outDim + j];
      });
      expect(await relativeError(gv, tf.tensor1d(atEntries))).toBeLessThan(1e-5);
      tf.dispose([gx, gv, gb, dx, dw, db, w, x, bias, target]);
      disposeWeight(weight);
    });
  }
});

describe('kernel registration', () => {
  it('serves cpu and wasm only, registers idempotently, and compiles ahead of use', async () => {
    expect([sparseKernelsServe('cpu'), sparseKernelsServe('wasm'), sparseKernelsServe('webgl'), sparseKernelsServe('webgpu')]).toEqual([true, true, false, false]);
    registerSparseKernels();
    expect(() => registerSparseKernels()).not.toThrow(); // tf.registerKernel would throw on a second registration
    for (const name of Object.values(SPARSE_DENSE_KERNELS)) {
      expect(tf.getKernel(name, 'cpu')).toBeDefined();
      expect(tf.getKernel(name, 'wasm')).toBeDefined();
    }
    await expect(compileSparseKernels()).resolves.toBeUndefined();
  });
});
