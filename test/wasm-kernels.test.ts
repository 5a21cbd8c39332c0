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
