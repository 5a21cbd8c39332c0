import * as tf from '@tensorflow/tfjs';
import { MoonConfigError } from '../../core/errors';
import { fastGatherV2 } from '../sparse/gather-scatter-op';
import { depthwiseBackpropFilter, depthwiseBackpropInput, unsortedSegmentSum } from './wasm-heap-kernels';

type KernelFunc = tf.KernelConfig['kernelFunc'];
type Backend = tf.KernelBackend & { disposeData(dataId: object): boolean };

/** Runs the wasm backend's own kernel `name` on tensor infos, returning its single output. */
function runWasm(name: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap, backend: Backend): tf.TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (kernel === undefined) throw new MoonConfigError(`the wasm backend has no '${name}' kernel`);
  return kernel.kernelFunc({ inputs, attrs, backend }) as tf.TensorInfo;
}

/**
 * `Conv2DBackpropFilter` for the wasm backend, which lacks it in tfjs 4.22 (so `fit` of any Conv2D fails there).
 * The filter gradient dW[a,b,c,o] = Σ_{n,i,j} x_pad[n, i·s + a, j·s + b, c] · dy[n,i,j,o] is itself a convolution:
 * of x transposed to [C, H, W, N] with dy transposed to [oh, ow, N, O], dilated by the forward stride, padded as
 * the forward pass was. It runs on the backend's own (XNNPACK) Conv2D, Transpose and Slice kernels.
 */
const conv2DBackpropFilter: KernelFunc = ({ inputs, attrs, backend }) => {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (dataFormat === 'NCHW') throw new MoonConfigError("Conv2DBackpropFilter on wasm supports dataFormat 'NHWC' only");
  const b = backend as Backend;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const [kh, kw, inChannels, outChannels] = filterShape;
  const { top, bottom, left, right } = info.padInfo;
  const xT = runWasm('Transpose', { x }, { perm: [3, 1, 2, 0] }, b);
  const dyT = runWasm('Transpose', { x: dy }, { perm: [1, 2, 0, 3] }, b);
  const conv = runWasm(
    'Conv2D',
    { x: xT, filter: dyT },
    {
      strides: [1, 1],
      pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
      dataFormat: 'NHWC',
      dilations: [info.strideHeight, info.strideWidth],
      dimRoundingMode: undefined as unknown as string,
    } as unknown as tf.NamedAttrMap,
    b,
  );
  const sliced = runWasm('Slice', { x: conv }, { begin: [0, 0, 0, 0], size: [inChannels, kh, kw, outChannels] }, b);
  const dW = runWasm('Transpose', { x: sliced }, { perm: [1, 2, 0, 3] }, b);
  for (const t of [xT, dyT, conv, sliced]) b.disposeData(t.dataId);
  return dW;
};

/**
 * A faster `Conv2DBackpropInput` for stride 1 (the wasm kernel spends ~4× the time of the same work done as a
 * Conv2D): dx is the convolution of dy, padded by (k − 1 − forward padding) on each side, with the filter flipped
 * spatially and its in/out channels swapped. Other cases run the original kernel.
 */
function fastConv2DBackpropInput(original: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, attrs, backend } = args;
    const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
    const info = tf.backend_util.computeConv2DInfo(
      inputShape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      strides,
      1,
      pad,
      dimRoundingMode,
    );
    const [kh, kw] = filter.shape;
    const pads = [kh - 1 - info.padInfo.top, kh - 1 - info.padInfo.bottom, kw - 1 - info.padInfo.left, kw - 1 - info.padInfo.right];
    if (dataFormat === 'NCHW' || info.strideHeight !== 1 || info.strideWidth !== 1 || pads.some((p) => p < 0)) return original(args);
    const b = backend as Backend;
    const flipped = runWasm('Reverse', { x: filter }, { dims: [0, 1] }, b);
    const swapped = runWasm('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] }, b);
    const dx = runWasm(
      'Conv2D',
      { x: dy, filter: swapped },
      {
        strides: [1, 1],
        pad: [[0, 0], [pads[0], pads[1]], [pads[2], pads[3]], [0, 0]],
        dataFormat: 'NHWC',
        dilations: [1, 1],
        dimRoundingMode: undefined as unknown as string,
      } as unknown as tf.NamedAttrMap,
      b,
    );
    for (const t of [flipped, swapped]) b.disposeData(t.dataId);
    return dx;
  };
}

/**
 * A faster `Tile` for the broadcast-like case (every tiled dimension has size 1), which the BatchNorm gradient hits
 * on every batch: the tile is x + zeros of the output shape. Other cases run the original kernel.
 */
function fastTile(original: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, attrs, backend } = args;
    const { x } = inputs as { x: tf.TensorInfo };
    const { reps } = attrs as unknown as tf.TileAttrs;
    if (x.dtype !== 'float32' || reps.some((r, i) => r !== 1 && x.shape[i] !== 1)) return original(args);
    const b = backend as Backend;
    const zeros = runWasm('Fill', {}, { shape: x.shape.map((d, i) => d * reps[i]), value: 0, dtype: 'float32' }, b);
    const out = runWasm('Add', { a: x, b: zeros }, {}, b);
    b.disposeData(zeros.dataId);
    return out;
  };
}

/**
 * A faster `BatchMatMul` when a transpose flag is set: tfjs-wasm 4.22 then falls back to a scalar loop (63% of a
 * dense LeNet training step goes there, in the gradients), while an explicit Transpose followed by the plain
 * (XNNPACK) product is several times faster. Without transpose flags the original kernel runs.
 */
export function fastBatchMatMul(original: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, attrs, backend } = args;
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    if (!transposeA && !transposeB) return original(args);
    const wasm = backend as Backend;
    const swapLast = (x: tf.TensorInfo) => {
      const perm = x.shape.map((_, i) => i);
      [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
      return runWasm('Transpose', { x }, { perm }, wasm);
    };
    const aT = transposeA ? swapLast(a) : a;
    const bT = transposeB ? swapLast(b) : b;
    try {
      return original({ inputs: { a: aT, b: bT }, attrs: { ...attrs, transposeA: false, transposeB: false }, backend }) as tf.TensorInfo;
    } finally {
      if (transposeA) wasm.disposeData(aT.dataId);
      if (transposeB) wasm.disposeData(bT.dataId);
    }
  };
}

/** Replaces a registered wasm kernel, keeping its setup function (which initialises the wasm binding). */
function replaceWasmKernel(name: string, wrap: (original: KernelFunc) => KernelFunc): void {
  const original = tf.getKernel(name, 'wasm');
  if (original === undefined) return;
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ ...original, kernelFunc: wrap(original.kernelFunc) });
}

/** Options of {@link registerWasmTrainingKernels}. */
export interface WasmKernelOptions {
  /**
   * Also replace `Conv2DBackpropInput` (stride 1), `Tile` (broadcast-like) and `BatchMatMul` with a transpose flag
   * by faster equivalents built from other wasm kernels, and `GatherV2` along axis 0 (how `fit` slices every batch)
   * by a compiled row copy: about 2× faster CNN training, 2× more with BatchNorm, faster dense layers' gradients and
   * batch slicing (see docs/RESULTS.md). Default false.
   */
  speedups?: boolean;
}

/**
 * The kernels training needs that tfjs-wasm 4.22 lacks: the Conv2D filter gradient, the Embedding gradient
 * (`UnsortedSegmentSum`), and both depthwise-convolution gradients (DepthwiseConv2D, SeparableConv2D).
 */
const MISSING_TRAINING_KERNELS: readonly [string, KernelFunc][] = [
  ['Conv2DBackpropFilter', conv2DBackpropFilter],
  ['UnsortedSegmentSum', unsortedSegmentSum],
  ['DepthwiseConv2dNativeBackpropFilter', depthwiseBackpropFilter],
  ['DepthwiseConv2dNativeBackpropInput', depthwiseBackpropInput],
];

/**
 * Registers, for the wasm backend, the training kernels tfjs 4.22 lacks there: `Conv2DBackpropFilter` (needed to
 * train any Conv2D), `UnsortedSegmentSum` (any Embedding), `DepthwiseConv2dNativeBackpropFilter` and
 * `…BackpropInput` (DepthwiseConv2D, SeparableConv2D), and, with `speedups`, faster `Conv2DBackpropInput`, `Tile`,
 * `BatchMatMul` and `GatherV2` (axis 0). Opt-in, idempotent; each kernel is checked numerically against the cpu backend in the tests.
 * Import `@tensorflow/tfjs-backend-wasm` before calling.
 * @returns the names of the kernels this call registered or replaced (empty when already done).
 */
export function registerWasmTrainingKernels(options: WasmKernelOptions = {}): string[] {
  if (tf.getKernel('Conv2D', 'wasm') === undefined) {
    throw new MoonConfigError(
      "the wasm backend is not loaded: import '@tensorflow/tfjs-backend-wasm' before registerWasmTrainingKernels()",
    );
  }
  const registered: string[] = [];
  for (const [kernelName, kernelFunc] of MISSING_TRAINING_KERNELS) {
    if (tf.getKernel(kernelName, 'wasm') !== undefined) continue; // registered before (or by a newer tfjs-wasm)
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
    registered.push(kernelName);
  }
  if (options.speedups && !speedupsInstalled) {
    replaceWasmKernel('Conv2DBackpropInput', fastConv2DBackpropInput);
    replaceWasmKernel('Tile', fastTile);
    replaceWasmKernel('BatchMatMul', fastBatchMatMul);
    replaceWasmKernel('GatherV2', fastGatherV2);
    speedupsInstalled = true;
    registered.push('Conv2DBackpropInput', 'Tile', 'BatchMatMul', 'GatherV2');
  }
  return registered;
}

let speedupsInstalled = false;
