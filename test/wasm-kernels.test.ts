import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../src';

/** dW of sum(conv2d(x, w) · r) on `backend`, from plain arrays so both backends see identical inputs. */
async function filterGradient(
  backend: string,
  xShape: [number, number, number, number],
  wShape: [number, number, number, number],
  strides: number,
  pad: 'valid' | 'same',
): Promise<Float32Array> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.randomNormal(xShape, 0, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomNormal(wShape, 0, 1, 'float32', 2) as tf.Tensor4D;
    const outShape = tf.conv2d(x, w, strides, pad).shape;
    const r = tf.randomNormal(outShape, 0, 1, 'float32', 3);
    const grad = tf.grad((filter: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, filter as tf.Tensor4D, strides, pad), r)))(w);
    return grad.dataSync() as Float32Array;
  });
}

/** Registers the training kernels before a block's tests, and gives the backend back after them. */
function useWasmTrainingKernels(): void {
  let original: string;
  beforeAll(() => {
    original = tf.getBackend();
    registerWasmTrainingKernels();
  });
  afterAll(async () => {
    await tf.setBackend(original);
  });
}

describe('wasm Conv2DBackpropFilter (registerWasmTrainingKernels)', () => {
  useWasmTrainingKernels();

  it('is registered once (idempotent)', () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    expect(registerWasmTrainingKernels()).toEqual([]);
  });

  it.each([
    [[2, 8, 8, 3], [3, 3, 3, 4], 1, 'valid'],
    [[2, 8, 8, 3], [3, 3, 3, 4], 1, 'same'],
    [[3, 9, 7, 2], [3, 3, 2, 5], 2, 'same'],
    [[3, 9, 7, 2], [2, 3, 2, 5], 2, 'valid'],
    [[1, 11, 11, 4], [5, 5, 4, 2], 3, 'same'],
  ] as const)('x %p, filter %p, stride %p, %p padding matches the cpu backend', async (xShape, wShape, strides, pad) => {
    const cpu = await filterGradient('cpu', [...xShape], [...wShape], strides, pad);
    await tf.setBackend('wasm');
    const wasmBackend = tf.backend() as unknown as { numDataIds(): number };
    const idsBefore = wasmBackend.numDataIds();
    const wasm = await filterGradient('wasm', [...xShape], [...wShape], strides, pad);
    expect(wasmBackend.numDataIds()).toBe(idsBefore); // no leaked buffers
    expect(wasm.length).toBe(cpu.length);
    const scale = Math.max(...Array.from(cpu, Math.abs));
    const maxDiff = Math.max(...Array.from(cpu, (v, i) => Math.abs(v - wasm[i])));
    expect(scale).toBeGreaterThan(1); // a real gradient, not zeros
    expect(maxDiff / scale).toBeLessThan(1e-5);
  });
});

/** On `backend`, from seeded inputs: f's output values. */
async function on(backend: string, f: () => tf.Tensor): Promise<Float32Array> {
  await tf.setBackend(backend);
  return tf.tidy(() => f().dataSync() as Float32Array);
}

function expectClose(a: Float32Array, b: Float32Array, relative: number): void {
  expect(b.length).toBe(a.length);
  const scale = Math.max(1e-6, ...Array.from(a, Math.abs));
  const maxDiff = Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));
  expect(maxDiff / scale).toBeLessThanOrEqual(relative); // 0: bit-identical
}

describe('wasm speed-ups (registerWasmTrainingKernels({ speedups: true }))', () => {
  let original: string;
  beforeAll(() => {
    original = tf.getBackend();
    expect(registerWasmTrainingKernels({ speedups: true })).toEqual(expect.arrayContaining(['Conv2DBackpropInput', 'Tile', 'BatchMatMul', 'GatherV2']));
    expect(registerWasmTrainingKernels({ speedups: true })).toEqual([]); // idempotent
  });
  afterAll(async () => {
    await tf.setBackend(original);
  });

  it.each([
    [[2, 8, 8, 3], [3, 3, 3, 4], 1, 'same'],
    [[2, 8, 8, 3], [3, 3, 3, 4], 1, 'valid'],
    [[1, 9, 7, 2], [5, 3, 2, 3], 1, 'same'],
    [[2, 9, 9, 2], [3, 3, 2, 4], 2, 'same'], // stride 2: the original kernel
  ] as const)('Conv2DBackpropInput: x %p, filter %p, stride %p, %p matches cpu', async (xShape, wShape, strides, pad) => {
    const inputGradient = () => {
      const x = tf.randomNormal([...xShape], 0, 1, 'float32', 4) as tf.Tensor4D;
      const w = tf.randomNormal([...wShape], 0, 1, 'float32', 5) as tf.Tensor4D;
      const r = tf.randomNormal(tf.conv2d(x, w, strides, pad).shape, 0, 1, 'float32', 6);
      return tf.grad((input: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(input as tf.Tensor4D, w, strides, pad), r)))(x);
    };
    expectClose(await on('cpu', inputGradient), await on('wasm', inputGradient), 1e-5);
  });

  it.each([
    [[5, 7], [7, 3], false, false],
    [[7, 5], [7, 3], true, false],
    [[5, 7], [3, 7], false, true],
    [[7, 5], [3, 7], true, true],
    [[2, 7, 5], [2, 3, 7], true, true],
    [[2, 5, 7], [1, 3, 7], false, true], // broadcast batch
  ] as const)('BatchMatMul: a %p · b %p, transposeA %p, transposeB %p matches cpu', async (aShape, bShape, ta, tb) => {
    const product = () => tf.matMul(tf.randomNormal([...aShape], 0, 1, 'float32', 1), tf.randomNormal([...bShape], 0, 1, 'float32', 2), ta, tb);
    expectClose(await on('cpu', product), await on('wasm', product), 1e-5);
  });

  it('a dense layer\'s gradients (transposed products) match cpu', async () => {
    const gradients = () => {
      const x = tf.randomNormal([16, 20], 0, 1, 'float32', 3);
      const w = tf.randomNormal([20, 12], 0, 1, 'float32', 4);
      // dx = dy · wᵀ (transposeB) and dw = xᵀ · dy (transposeA): the products tfjs-wasm runs in a scalar loop.
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.matMul(a, b))))([x, w]);
      return tf.concat([dx.flatten(), dw.flatten()]);
    };
    expectClose(await on('cpu', gradients), await on('wasm', gradients), 1e-4);
  });

  it('GatherV2 along axis 0 (fit\'s batch slicing) is bit-identical to cpu; other axes run the original; a bad index throws', async () => {
    const rows = () => tf.gather(tf.randomNormal([40, 3, 5], 0, 1, 'float32', 10), tf.tensor1d([39, 0, 7, 7], 'int32'));
    expectClose(await on('cpu', rows), await on('wasm', rows), 0);
    const labels = () => tf.gather(tf.range(0, 40, 1, 'int32'), tf.tensor1d([3, 1], 'int32'));
    expect(Array.from(await on('wasm', labels))).toEqual([3, 1]);
    const columns = () => tf.gather(tf.randomNormal([4, 6], 0, 1, 'float32', 11), tf.tensor1d([5, 0], 'int32'), 1);
    expectClose(await on('cpu', columns), await on('wasm', columns), 0);
    await tf.setBackend('wasm');
    const x = tf.zeros([5, 2]);
    const bad = tf.tensor1d([2, 5], 'int32');
    const before = tf.memory().numTensors;
    expect(() => tf.gather(x, bad)).toThrow(/the index value 5 \(at position 1\) is not in \[0, 4\]/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, bad]);
  });

  it('Tile: broadcast-like tiles (the BatchNorm gradient) and general tiles match cpu', async () => {
    const broadcast = () => tf.tile(tf.randomNormal([1, 1, 1, 5], 0, 1, 'float32', 7), [4, 3, 3, 1]);
    expectClose(await on('cpu', broadcast), await on('wasm', broadcast), 0);
    const general = () => tf.tile(tf.randomNormal([2, 3], 0, 1, 'float32', 8), [2, 2]);
    expectClose(await on('cpu', general), await on('wasm', general), 0);
    const batchNormGradient = () => {
      const x = tf.randomNormal([4, 5, 5, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
      const [mean, variance, offset, scale] = [[0.1, -0.2, 0.3], [1.5, 0.5, 2], [0, 1, -1], [2, 1, 0.5]].map((v) => tf.tensor1d(v));
      return tf.grad((input: tf.Tensor) => tf.sum(tf.square(tf.batchNorm(input as tf.Tensor4D, mean, variance, offset, scale))))(x);
    };
    expectClose(await on('cpu', batchNormGradient), await on('wasm', batchNormGradient), 1e-4);
  });
});

describe('wasm Embedding and depthwise-convolution gradients (registerWasmTrainingKernels, #22 row 10)', () => {
  useWasmTrainingKernels();

  /** f's output on cpu and on wasm, with no buffer left behind on wasm. */
  async function onBoth(f: () => tf.Tensor): Promise<[Float32Array, Float32Array]> {
    const cpu = await on('cpu', f);
    await tf.setBackend('wasm');
    const wasmBackend = tf.backend() as unknown as { numDataIds(): number };
    const before = wasmBackend.numDataIds();
    const wasm = await on('wasm', f);
    expect(wasmBackend.numDataIds()).toBe(before);
    return [cpu, wasm];
  }

  it('registers the three kernels tfjs-wasm 4.22 lacks', () => {
    for (const name of ['UnsortedSegmentSum', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput']) {
      expect(tf.getKernel(name, 'wasm')).toBeDefined();
    }
  });

  it.each([
    [[10, 3], [10], 4],
    [[6, 2, 3], [6], 5],
    [[12, 2], [12], 7],
  ] as const)('UnsortedSegmentSum: x %p, ids %p, %p segments equals cpu bit for bit, ids out of range dropped', async (xShape, idShape, numSegments) => {
    const size = idShape.reduce((p: number, d) => p * d, 1);
    const ids = Array.from({ length: size }, (_, i) => ((i * 5) % (numSegments + 2)) - 1); // includes −1 and numSegments
    const f = () => tf.unsortedSegmentSum(tf.randomNormal([...xShape], 0, 1, 'float32', 3), tf.tensor(ids, [...idShape], 'int32'), numSegments);
    const [cpu, wasm] = await onBoth(f);
    expectClose(cpu, wasm, 0);
    expect(Math.max(...Array.from(cpu, Math.abs))).toBeGreaterThan(0.1);
  });

  it('an Embedding gradient (gather of a table) equals cpu', async () => {
    const f = () => {
      const table = tf.randomNormal([50, 6], 0, 1, 'float32', 1);
      const tokens = tf.tensor2d([[1, 4, 4, 49], [0, 1, 2, 3], [7, 7, 7, 7]], [3, 4], 'int32');
      return tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.gather(t, tokens))))(table);
    };
    const [cpu, wasm] = await onBoth(f);
    expectClose(cpu, wasm, 0);
  });

  it.each([
    [[2, 7, 7, 3], [3, 3, 3, 1], 1, 'same'],
    [[2, 7, 7, 3], [3, 3, 3, 2], 1, 'valid'],
    [[1, 9, 8, 2], [3, 3, 2, 3], 2, 'same'],
    [[2, 9, 9, 2], [2, 3, 2, 1], 2, 'valid'],
  ] as const)('depthwise conv gradients: x %p, filter %p, stride %p, %p equal cpu', async (xShape, fShape, strides, pad) => {
    const f = () => {
      const x = tf.randomNormal([...xShape], 0, 1, 'float32', 4) as tf.Tensor4D;
      const w = tf.randomNormal([...fShape], 0, 1, 'float32', 5) as tf.Tensor4D;
      const r = tf.randomNormal(tf.depthwiseConv2d(x, w, strides, pad).shape, 0, 1, 'float32', 6);
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, strides, pad), r)))([x, w]);
      return tf.concat([dx.flatten(), dw.flatten()]);
    };
    const [cpu, wasm] = await onBoth(f);
    expectClose(cpu, wasm, 0);
    expect(Math.max(...Array.from(cpu, Math.abs))).toBeGreaterThan(1);
  });

  it('an Embedding + SeparableConv2D model trains on wasm to the weights cpu gives', async () => {
    const train = async (backend: string): Promise<number[]> => {
      await tf.setBackend(backend);
      const model = tf.sequential({
        layers: [
          tf.layers.embedding({ inputDim: 20, outputDim: 4, inputLength: 9, embeddingsInitializer: tf.initializers.randomUniform({ minval: -1, maxval: 1, seed: 1 }) }),
          tf.layers.reshape({ targetShape: [3, 3, 4] }),
          tf.layers.separableConv2d({ filters: 3, kernelSize: 2, depthwiseInitializer: tf.initializers.glorotUniform({ seed: 2 }), pointwiseInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
        ],
      });
      model.compile({ optimizer: tf.train.sgd(0.5), loss: 'categoricalCrossentropy' });
      const x = tf.tensor2d(Array.from({ length: 36 }, (_, i) => (i * 13) % 20), [4, 9]);
      const y = tf.oneHot(tf.tensor1d([0, 1, 1, 0], 'int32'), 2).toFloat();
      await model.fit(x, y, { epochs: 3, batchSize: 4, shuffle: false, verbose: 0 });
      const weights = model.getWeights().flatMap((w) => Array.from(w.dataSync()));
      model.dispose();
      tf.dispose([x, y]);
      return weights;
    };
    const cpu = await train('cpu');
    const wasm = await train('wasm');
    expectClose(Float32Array.from(cpu), Float32Array.from(wasm), 1e-4);
  });
});
