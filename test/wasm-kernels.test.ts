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

describe('wasm Conv2DBackpropFilter (registerWasmTrainingKernels)', () => {
  let original: string;
  beforeAll(() => {
    original = tf.getBackend();
    registerWasmTrainingKernels();
  });
  afterAll(async () => {
    await tf.setBackend(original);
  });

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
    expect(registerWasmTrainingKernels({ speedups: true })).toEqual(expect.arrayContaining(['Conv2DBackpropInput', 'Tile', 'BatchMatMul']));
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
