import * as tf from '@tensorflow/tfjs';
import { MoonConfigError } from '../../core/errors';
import { runOnBackend, runsInPlace, valuesOf, type HeapCall } from './kernel-heap';
import { wasmSimdSupported } from './kernel-module';

/** Kernel names of the compiled gathers and scatter (registered on wasm, where they run on the backend's heap). */
export const GATHER_SCATTER_KERNELS = {
  elements: 'MoonGatherElements',
  scatterAdd: 'MoonScatterAddElements',
  rows: 'MoonGatherRows',
} as const;

type Kernel = tf.KernelConfig['kernelFunc'];
type FourByteDtype = 'float32' | 'int32';

const isFourByte = (dtype: tf.DataType): dtype is FourByteDtype => dtype === 'float32' || dtype === 'int32';

/** The error of an index outside its range, with the index read back (nothing was read or written through it). */
function indexError(op: string, indices: tf.TensorInfo, at: number, limit: number, backend: tf.KernelBackend): MoonConfigError {
  const value = (valuesOf(indices, backend) as Int32Array)[at];
  return new MoonConfigError(`${op}: the index value ${value} (at position ${at}) is not in [0, ${limit - 1}]; indices must address the tensor they gather from`);
}

/** Runs one compiled call whose function returns −1 or the position of the first bad index. */
function runChecked(op: string, call: Omit<HeapCall, 'run'>, indices: tf.TensorInfo, limit: number, backend: tf.KernelBackend, run: (k: Parameters<HeapCall['run']>[0], i: number[], o: number[]) => number): tf.TensorInfo {
  return runOnBackend(
    {
      ...call,
      run: (k, i, o) => {
        const bad = run(k, i, o);
        if (bad >= 0) throw indexError(op, indices, bad, limit, backend);
      },
    },
    backend,
  )[0];
}

const gatherElementsKernel: Kernel = ({ inputs, backend }) => {
  const { x, indices } = inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
  const size = tf.util.sizeFromShape(x.shape);
  const count = tf.util.sizeFromShape(indices.shape);
  const call = { inputs: [x, indices], outputs: [{ shape: [count], dtype: x.dtype as FourByteDtype }], scratchFloats: [] };
  return runChecked('gatherElements', call, indices, size, backend as tf.KernelBackend, (k, [xA, iA], [oA]) => k.gatherElements(xA, size, iA, count, oA));
};

const scatterAddKernel: Kernel = ({ inputs, attrs, backend }) => {
  const { values, indices } = inputs as { values: tf.TensorInfo; indices: tf.TensorInfo };
  const { size } = attrs as unknown as { size: number };
  const count = tf.util.sizeFromShape(indices.shape);
  const call = { inputs: [values, indices], outputs: [{ shape: [size] }], scratchFloats: [] };
  return runChecked('scatterAddElements', call, indices, size, backend as tf.KernelBackend, (k, [vA, iA], [oA]) => k.scatterAddElements(vA, iA, count, size, oA));
};

const gatherRowsKernel: Kernel = ({ inputs, backend }) => {
  const { x, indices } = inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
  const [rows, ...inner] = x.shape;
  const width = tf.util.sizeFromShape(inner);
  const count = tf.util.sizeFromShape(indices.shape);
  const call = { inputs: [x, indices], outputs: [{ shape: [...indices.shape, ...inner], dtype: x.dtype as FourByteDtype }], scratchFloats: [] };
  return runChecked('gatherRows', call, indices, rows, backend as tf.KernelBackend, (k, [xA, iA], [oA]) => k.gatherRows(xA, rows, width, iA, count, oA));
};

let registered = false;

/** Registers the compiled gathers on wasm. Idempotent. */
function registerGatherScatterKernels(): void {
  if (registered) return;
  registered = true;
  const kernels: Array<[string, Kernel]> = [
    [GATHER_SCATTER_KERNELS.elements, gatherElementsKernel],
    [GATHER_SCATTER_KERNELS.scatterAdd, scatterAddKernel],
    [GATHER_SCATTER_KERNELS.rows, gatherRowsKernel],
  ];
  for (const [kernelName, kernelFunc] of kernels) {
    if (tf.getKernel(kernelName, 'wasm') === undefined) tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  }
}

/**
 * Whether the compiled gathers serve the current backend: wasm with its heap reachable (the single-threaded build)
 * in an engine with WebAssembly SIMD. Elsewhere tfjs's own gather and scatter run: on cpu they are JavaScript loops
 * without tfjs-wasm's per-index overhead, on webgl and webgpu they run on the device.
 */
export function compiledGathersServe(): boolean {
  return tf.getBackend() === 'wasm' && runsInPlace(tf.backend()) && wasmSimdSupported();
}

/**
 * `x` flattened, at `positions`: out[k] = x.flat[positions[k]] (float32 or int32). On wasm a compiled loop on the
 * backend's heap (about 15× faster than tfjs-wasm's GatherV2 there); elsewhere `tf.gather`. A position outside
 * [0, x.size) throws a `MoonConfigError` before anything is read through it.
 */
export function gatherElements(x: tf.Tensor, positions: tf.Tensor1D): tf.Tensor1D {
  if (positions.dtype !== 'int32') throw new MoonConfigError(`gatherElements: positions must be int32, got ${positions.dtype}`);
  if (!isFourByte(x.dtype) || !compiledGathersServe()) return tf.tidy(() => tf.gather(tf.reshape(x, [-1]), positions));
  registerGatherScatterKernels();
  return tf.engine().runKernel(GATHER_SCATTER_KERNELS.elements, { x, indices: positions }) as tf.Tensor1D;
}

/**
 * A float32 [size] tensor of zeros with `values[k]` added at `positions[k]` (repeated positions add up, as
 * `tf.scatterND` does): the gradient of {@link gatherElements}. On wasm a compiled loop on the heap; elsewhere
 * `tf.scatterND`. A position outside [0, size) throws a `MoonConfigError` before anything is written through it.
 */
export function scatterAddElements(values: tf.Tensor1D, positions: tf.Tensor1D, size: number): tf.Tensor1D {
  if (positions.dtype !== 'int32' || values.dtype !== 'float32' || values.size !== positions.size) {
    throw new MoonConfigError(`scatterAddElements: float32 values and int32 positions of one length, got ${values.dtype} [${values.shape}] and ${positions.dtype} [${positions.shape}]`);
  }
  if (!compiledGathersServe()) return tf.scatterND(tf.reshape(positions, [-1, 1]), values, [size]) as tf.Tensor1D;
  registerGatherScatterKernels();
  return tf.engine().runKernel(GATHER_SCATTER_KERNELS.scatterAdd, { values, indices: positions }, { size } as unknown as tf.NamedAttrMap) as tf.Tensor1D;
}

/**
 * The rows of `x` (its first axis) at `indices`, as `tf.gather(x, indices)` with axis 0: shape
 * [...indices.shape, ...x.shape.slice(1)]. On wasm a compiled row copy on the heap (what `fit`'s batch slicing
 * needs); elsewhere `tf.gather`. A row index outside [0, x.shape[0]) throws a `MoonConfigError`.
 */
export function gatherRows(x: tf.Tensor, indices: tf.Tensor): tf.Tensor {
  if (indices.dtype !== 'int32' || x.rank === 0 || !isFourByte(x.dtype) || !compiledGathersServe()) return tf.gather(x, indices);
  registerGatherScatterKernels();
  return tf.engine().runKernel(GATHER_SCATTER_KERNELS.rows, { x, indices }) as tf.Tensor;
}

/**
 * A `GatherV2` for tfjs-wasm (`registerWasmTrainingKernels({ speedups: true })`): the axis-0 case (every batch
 * `fit` slices out of `x` and `y`, and `tf.gather(x, rows)`) runs the compiled row copy; any other axis, batch
 * dimensions or dtype runs the original kernel.
 */
export function fastGatherV2(original: Kernel): Kernel {
  return (args) => {
    const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
    const { axis, batchDims } = args.attrs as unknown as tf.GatherV2Attrs;
    const axis0 = tf.util.parseAxisParam(axis, x.shape)[0] === 0 && (batchDims ?? 0) === 0;
    if (!axis0 || x.shape.length === 0 || indices.dtype !== 'int32' || !isFourByte(x.dtype) || !runsInPlace(args.backend as tf.KernelBackend) || !wasmSimdSupported()) return original(args);
    return gatherRowsKernel(args);
  };
}
