import * as tf from '@tensorflow/tfjs';
import { MoonConfigError } from '../../core/errors';
import { runOnBackend, type HeapCall } from '../sparse/kernel-heap';
import { wasmSimdSupported } from '../sparse/kernel-module';

/** The kernel name of the compiled top-k selection (registered on cpu and wasm). */
export const TOP_K_MASK_KERNEL = 'MoonTopKMask';

type Kernel = tf.KernelConfig['kernelFunc'];

const topKMaskKernel: Kernel = ({ inputs, attrs, backend }) => {
  const { scores, ranks } = inputs as { scores: tf.TensorInfo; ranks?: tf.TensorInfo };
  const { k } = attrs as unknown as { k: number };
  const n = tf.util.sizeFromShape(scores.shape);
  const call: HeapCall = {
    inputs: ranks === undefined ? [scores] : [scores, ranks],
    outputs: [{ shape: scores.shape }],
    scratchFloats: [65536 + 2], // the radix histogram and two counters
    run: (kernels, i, [out], [scratch]) => kernels.topKMask(i[0], ranks === undefined ? 0 : i[1], n, k, out, scratch),
  };
  return runOnBackend(call, backend as tf.KernelBackend)[0];
};

let registered = false;

function registerTopKKernel(): void {
  if (registered) return;
  registered = true;
  for (const backendName of ['cpu', 'wasm']) {
    if (tf.getKernel(TOP_K_MASK_KERNEL, backendName) === undefined) tf.registerKernel({ kernelName: TOP_K_MASK_KERNEL, backendName, kernelFunc: topKMaskKernel });
  }
}

/**
 * Whether the compiled selection serves the current backend: cpu (through copies) and wasm (on its heap), in an
 * engine with WebAssembly SIMD (the kernel module needs it). On webgl and webgpu the selection stays `tf.topk` or
 * the device's counting passes.
 */
export function compiledTopKServes(): boolean {
  return (tf.getBackend() === 'cpu' || tf.getBackend() === 'wasm') && wasmSimdSupported();
}

/**
 * A 0/1 float32 tensor of the scores' shape with ones at the `k` largest `scores` (0 < k ≤ size), in linear time.
 * Scores rank as `selectionScores` maps them (NaN and −∞ lowest, +∞ as the largest finite float32, −0 = +0); equal
 * scores go to the lower `ranks` entry (int32, distinct, one per score: a seeded tie order's inverse) or, without
 * ranks, to the lower index — the same set as `tf.topk` of the scores permuted into that order.
 */
export function compiledTopKMask(scores: tf.Tensor, k: number, ranks?: tf.Tensor): tf.Tensor {
  if (scores.dtype !== 'float32') throw new MoonConfigError(`compiledTopKMask: scores must be float32, got ${scores.dtype}`);
  if (!Number.isInteger(k) || k < 1 || k > scores.size) throw new MoonConfigError(`compiledTopKMask: k must be an integer in [1, ${scores.size}], got ${k}`);
  if (ranks !== undefined && (ranks.dtype !== 'int32' || ranks.size !== scores.size)) {
    throw new MoonConfigError(`compiledTopKMask: ranks must be int32 with one entry per score (${scores.size}), got ${ranks.dtype} of ${ranks.size}`);
  }
  registerTopKKernel();
  const inputs: tf.NamedTensorMap = ranks === undefined ? { scores } : { scores, ranks };
  return tf.engine().runKernel(TOP_K_MASK_KERNEL, inputs, { k } as unknown as tf.NamedAttrMap) as tf.Tensor;
}
