import * as tf from '@tensorflow/tfjs';
import { MoonConfigError } from '../../core/errors';
import { runOnBackend, valuesOf, type HeapCall } from './kernel-heap';
import { checkLayoutMetadata, checkLayoutOnce, type LayoutTensors } from './layout-check';
import { wasmSimdSupported } from './kernel-module';

/** Kernel names of the sparse × dense op and its two gradients (registered on cpu and wasm). */
export const SPARSE_DENSE_KERNELS = {
  forward: 'MoonSparseDense',
  inputGradient: 'MoonSparseDenseInputGrad',
  valuesGradient: 'MoonSparseDenseValuesGrad',
} as const;

/** The backends the compiled kernels are registered on. */
export const SPARSE_KERNEL_BACKENDS = ['cpu', 'wasm'] as const;

/** Activations the kernel applies itself; any other is applied after it by the layer. */
export type FusedActivation = 'linear' | 'relu';

/**
 * A Dense kernel W [inDim, outDim] compressed by output column (CSC): column j holds the entries
 * k ∈ [columnStarts[j], columnStarts[j + 1]) at rows rowIndices[k] with values[k], rows ascending.
 */
export interface CompressedColumns {
  values: tf.Tensor1D;
  rowIndices: tf.Tensor1D;
  columnStarts: tf.Tensor1D;
  inDim: number;
}

/** Below this batch the kernel gathers one dot product per output; from it on, it works on the transposed input (measured: the gathered form wins at batch 1 only). */
const TRANSPOSE_FROM_BATCH = 2;
const paddedBatch = (batch: number): number => (batch + 3) & ~3;

type Kernel = tf.KernelConfig['kernelFunc'];

/** The kernels' attributes: the fused activation, the input width, and the layer named in layout errors. */
interface SparseDenseAttrs {
  activation: FusedActivation;
  inDim: number;
  layer: string;
}

/** The bounds check every kernel makes before the compiled code reads a layout (contents once per layout). */
function checkLayout(layout: LayoutTensors, attrs: SparseDenseAttrs, backend: tf.KernelBackend): void {
  checkLayoutMetadata(layout, layout.columnStarts.shape[0] - 1, attrs.layer);
  checkLayoutOnce(layout, attrs.inDim, attrs.layer, (info) => valuesOf(info, backend));
}

const forward: Kernel = ({ inputs, attrs, backend }) => {
  const { x, values, rowIndices, columnStarts, bias } = inputs as Record<string, tf.TensorInfo>;
  const checked = attrs as unknown as SparseDenseAttrs;
  const [batch, inDim] = x.shape;
  if (x.dtype !== 'float32' || inDim !== checked.inDim) throw new MoonConfigError(`sparseDense: x must be float32 [batch, ${checked.inDim}], got ${x.dtype} [${x.shape.join(', ')}]`);
  checkLayout({ values, rowIndices, columnStarts, bias }, checked, backend as tf.KernelBackend);
  const relu = checked.activation === 'relu' ? 1 : 0;
  const outDim = columnStarts.shape[0] - 1;
  const stride = paddedBatch(batch);
  const transposed = batch >= TRANSPOSE_FROM_BATCH;
  const call: HeapCall = {
    inputs: bias === undefined ? [x, values, rowIndices, columnStarts] : [x, values, rowIndices, columnStarts, bias],
    outputs: [{ shape: [batch, outDim] }],
    scratchFloats: transposed ? [inDim * stride] : [],
    run: (k, [xA, vA, rA, cA, bA], [yA], [xT]) => {
      const hasBias = bias === undefined ? 0 : 1;
      if (!transposed) return k.forwardGathered(xA, batch, inDim, vA, rA, cA, outDim, bA ?? 0, hasBias, relu, yA);
      k.transposeToFeatureMajor(xA, batch, inDim, xT, stride);
      k.forwardTransposed(xT, stride, batch, vA, rA, cA, outDim, bA ?? 0, hasBias, relu, yA);
    },
  };
  return runOnBackend(call, backend as tf.KernelBackend)[0];
};

const inputGradient: Kernel = ({ inputs, attrs, backend }) => {
  const { dy, values, rowIndices, columnStarts } = inputs as Record<string, tf.TensorInfo>;
  const { inDim } = attrs as unknown as SparseDenseAttrs;
  checkLayout({ values, rowIndices, columnStarts }, attrs as unknown as SparseDenseAttrs, backend as tf.KernelBackend);
  const [batch, outDim] = dy.shape;
  const stride = paddedBatch(batch);
  const call: HeapCall = {
    inputs: [dy, values, rowIndices, columnStarts],
    outputs: [{ shape: [batch, inDim] }],
    scratchFloats: [outDim * stride, inDim * stride],
    run: (k, [dyA, vA, rA, cA], [dxA], [dyT, dxT]) => {
      k.transposeToFeatureMajor(dyA, batch, outDim, dyT, stride);
      k.inputGradientTransposed(dyT, stride, vA, rA, cA, outDim, inDim, dxT);
      k.transposeToBatchMajor(dxT, inDim, stride, batch, dxA);
    },
  };
  return runOnBackend(call, backend as tf.KernelBackend)[0];
};

const valuesGradient: Kernel = ({ inputs, attrs, backend }) => {
  const { x, dy, rowIndices, columnStarts } = inputs as Record<string, tf.TensorInfo>;
  checkLayout({ rowIndices, columnStarts }, attrs as unknown as SparseDenseAttrs, backend as tf.KernelBackend);
  const [batch, inDim] = x.shape;
  const outDim = dy.shape[1];
  const stride = paddedBatch(batch);
  const call: HeapCall = {
    inputs: [x, dy, rowIndices, columnStarts],
    outputs: [{ shape: [rowIndices.shape[0]] }],
    scratchFloats: [inDim * stride, outDim * stride],
    run: (k, [xA, dyA, rA, cA], [dvA], [xT, dyT]) => {
      k.transposeToFeatureMajor(xA, batch, inDim, xT, stride);
      k.transposeToFeatureMajor(dyA, batch, outDim, dyT, stride);
      k.valuesGradient(xT, dyT, stride, rA, cA, outDim, dvA);
    },
  };
  return runOnBackend(call, backend as tf.KernelBackend)[0];
};

let registered = false;

/** Registers the compiled kernels on cpu and wasm and the op's gradient. Idempotent (TF.js throws on a repeat). */
export function registerSparseKernels(): void {
  if (registered) return;
  registered = true;
  const kernels: Array<[string, Kernel]> = [
    [SPARSE_DENSE_KERNELS.forward, forward],
    [SPARSE_DENSE_KERNELS.inputGradient, inputGradient],
    [SPARSE_DENSE_KERNELS.valuesGradient, valuesGradient],
  ];
  for (const backendName of SPARSE_KERNEL_BACKENDS) {
    for (const [kernelName, kernelFunc] of kernels) {
      if (tf.getKernel(kernelName, backendName) === undefined) tf.registerKernel({ kernelName, backendName, kernelFunc });
    }
  }
  if (tf.getGradient(SPARSE_DENSE_KERNELS.forward) === undefined) {
    tf.registerGradient({
      kernelName: SPARSE_DENSE_KERNELS.forward,
      inputsToSave: ['x', 'values', 'rowIndices', 'columnStarts'],
      outputsToSave: [true],
      gradFunc: sparseDenseGradient,
    });
  }
}

function sparseDenseGradient(dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap): Record<string, () => tf.Tensor> {
  const [x, values, rowIndices, columnStarts, y] = saved;
  const upstream = dy as tf.Tensor2D;
  // relu was fused: its gradient passes where the output is positive.
  const kernelAttrs = attrs as unknown as SparseDenseAttrs;
  const dPre = kernelAttrs.activation === 'relu' ? tf.mul(upstream, tf.step(y)) : upstream;
  const passed = { ...kernelAttrs } as unknown as tf.NamedAttrMap;
  return {
    x: () => tf.engine().runKernel(SPARSE_DENSE_KERNELS.inputGradient, { dy: dPre, values, rowIndices, columnStarts }, passed) as tf.Tensor,
    values: () => tf.engine().runKernel(SPARSE_DENSE_KERNELS.valuesGradient, { x, dy: dPre, rowIndices, columnStarts }, passed) as tf.Tensor,
    rowIndices: () => tf.zerosLike(rowIndices),
    columnStarts: () => tf.zerosLike(columnStarts),
    bias: () => tf.sum(dPre, 0),
  };
}

/**
 * Whether the compiled kernels serve `backendName` (default: the current backend): cpu or wasm, in a JavaScript
 * engine that runs WebAssembly SIMD.
 */
export function sparseKernelsServe(backendName: string = tf.getBackend()): boolean {
  return (SPARSE_KERNEL_BACKENDS as readonly string[]).includes(backendName) && wasmSimdSupported();
}

/**
 * y = act(x·W + bias) with W stored compressed by column: the compiled kernels on cpu and wasm (differentiable in
 * x, the values and the bias); elsewhere (webgl, webgpu) W is rebuilt densely and multiplied, for inference.
 * The layout is checked before any kernel reads it (dtypes and lengths at every call, the indices once per layout):
 * a malformed one throws a `MoonModelError` naming `layer`.
 * @param x [batch, inDim]; int32 or bool inputs are cast to float32, as Dense does.
 * @param activation 'linear' or 'relu', applied inside the kernel.
 * @param layer the layer's name, for errors ('' for a direct call)
 */
export function sparseDense(x: tf.Tensor2D, weight: CompressedColumns, bias: tf.Tensor1D | undefined, activation: FusedActivation, layer = ''): tf.Tensor2D {
  if (x.rank !== 2 || x.shape[1] !== weight.inDim) {
    throw new MoonConfigError(`sparseDense: x must be [batch, ${weight.inDim}], got [${x.shape.join(', ')}]`);
  }
  const units = weight.columnStarts.shape[0] - 1;
  checkLayoutMetadata({ values: weight.values, rowIndices: weight.rowIndices, columnStarts: weight.columnStarts, bias }, units, layer);
  if (x.dtype !== 'float32') return tf.tidy(() => sparseDense(tf.cast(x, 'float32'), weight, bias, activation, layer));
  if (!sparseKernelsServe()) return denseFallback(x, weight, bias, activation);
  registerSparseKernels();
  const inputs: tf.NamedTensorMap = { x, values: weight.values, rowIndices: weight.rowIndices, columnStarts: weight.columnStarts };
  if (bias !== undefined) inputs.bias = bias;
  const attrs: SparseDenseAttrs = { activation, inDim: weight.inDim, layer };
  return tf.engine().runKernel(SPARSE_DENSE_KERNELS.forward, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor2D;
}

/**
 * {@link sparseDense} over the last axis of an input of rank ≥ 2, as Dense does: the leading axes are flattened into
 * the batch for the kernel and restored after it. Shared by SparseDense layers and sparse training of Dense layers.
 */
export function sparseDenseLastAxis(x: tf.Tensor, weight: CompressedColumns, bias: tf.Tensor1D | undefined, activation: FusedActivation, layer = ''): tf.Tensor {
  if (x.rank === 2) return sparseDense(x as tf.Tensor2D, weight, bias, activation, layer);
  const y = sparseDense(tf.reshape(x, [-1, weight.inDim]) as tf.Tensor2D, weight, bias, activation, layer);
  return tf.reshape(y, [...x.shape.slice(0, -1), y.shape[1]]);
}

/** The same product through dense ops: W scattered back to [inDim, outDim] (no gradient: inference only). */
function denseFallback(x: tf.Tensor2D, weight: CompressedColumns, bias: tf.Tensor1D | undefined, activation: FusedActivation): tf.Tensor2D {
  return tf.tidy(() => {
    const outDim = weight.columnStarts.shape[0] - 1;
    const nnz = weight.values.shape[0];
    const positions = tf.range(0, nnz, 1, 'int32');
    // The column of entry k is the number of column ends ≤ k.
    // (webgpu returns searchSorted's 1-D result as [1, nnz]: flatten it.)
    const columns = tf.searchSorted(weight.columnStarts.slice(1), positions, 'right').reshape([nnz]);
    const dense = tf.scatterND(tf.stack([weight.rowIndices, columns], 1), weight.values, [weight.inDim, outDim]) as tf.Tensor2D;
    const y = tf.matMul(x, dense);
    const biased = bias === undefined ? y : tf.add(y, bias);
    return (activation === 'relu' ? tf.relu(biased) : biased) as tf.Tensor2D;
  });
}
