import * as tf from '@tensorflow/tfjs';
import { MoonConfigError } from '../../errors';

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
 * Registers, for the wasm backend, the training kernels tfjs 4.22 lacks there: today `Conv2DBackpropFilter`
 * (needed to train any Conv2D). Opt-in, idempotent; checked numerically against the cpu backend in the tests.
 * Depthwise-convolution gradients are still missing on wasm: train DepthwiseConv2D / SeparableConv2D on cpu or
 * a native backend. Import `@tensorflow/tfjs-backend-wasm` before calling.
 * @returns the names of the kernels this call registered (empty when they were already there).
 */
export function registerWasmTrainingKernels(): string[] {
  if (tf.getKernel('Conv2D', 'wasm') === undefined) {
    throw new MoonConfigError(
      "the wasm backend is not loaded: import '@tensorflow/tfjs-backend-wasm' before registerWasmTrainingKernels()",
    );
  }
  const registered: string[] = [];
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm') === undefined) {
    tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2DBackpropFilter });
    registered.push('Conv2DBackpropFilter');
  }
  return registered;
}
