import * as tf from '@tensorflow/tfjs';
import { MoonConfigError } from '../../core/errors';

type KernelFunc = tf.KernelConfig['kernelFunc'];
type TypedArray = Float32Array | Int32Array | Uint8Array;

/** The part of tfjs-backend-wasm's backend these kernels use: outputs allocated on its heap, views of tensors there. */
interface WasmHeap {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): TypedArray;
}

/**
 * Allocates the output first, then takes the views: an allocation may grow the wasm memory, which detaches every
 * view taken before it.
 */
function withHeapViews(backend: unknown, shape: number[], inputs: readonly tf.TensorInfo[], fill: (out: TypedArray, ins: TypedArray[]) => void): tf.TensorInfo {
  const heap = backend as WasmHeap;
  const out = heap.makeOutput(shape, 'float32');
  const outValues = heap.typedArrayFromHeap(out);
  outValues.fill(0);
  fill(outValues, inputs.map((t) => heap.typedArrayFromHeap(t)));
  return out;
}

/**
 * `UnsortedSegmentSum` for wasm (tfjs-wasm 4.22 has none, so the gradient of every Embedding fails there): each
 * row of `x` (its leading dimensions, as many as `segmentIds` has) is added to output row `segmentIds[i]`; ids
 * outside [0, numSegments) are dropped, as TensorFlow drops negative ids. One pass over `x` in index order: the
 * same additions in the same order as the cpu backend's kernel (bit-identical), which builds a mask per segment
 * instead (numSegments × the work: 10 s per step for a 10,000-word vocabulary).
 */
export const unsortedSegmentSum: KernelFunc = ({ inputs, attrs, backend }) => {
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = attrs as unknown as tf.UnsortedSegmentSumAttrs;
  if (x.dtype !== 'float32' || segmentIds.dtype !== 'int32') {
    throw new MoonConfigError(`UnsortedSegmentSum on wasm takes float32 values and int32 ids, got ${x.dtype} and ${segmentIds.dtype}`);
  }
  // Checked before any heap view is read: ids for rows x does not have would read past x's buffer.
  if (segmentIds.shape.some((d, i) => d !== x.shape[i])) {
    throw new MoonConfigError(`UnsortedSegmentSum on wasm: segment ids of shape [${segmentIds.shape}] do not match the leading dimensions of x [${x.shape}]`);
  }
  const rows = segmentIds.shape.reduce((p, d) => p * d, 1);
  const inner = x.shape.slice(segmentIds.shape.length);
  const width = inner.reduce((p, d) => p * d, 1);
  return withHeapViews(backend, [numSegments, ...inner], [x, segmentIds], (out, [values, ids]) => {
    for (let i = 0; i < rows; i++) {
      const id = ids[i];
      if (id < 0 || id >= numSegments) continue;
      const from = i * width;
      const to = id * width;
      for (let j = 0; j < width; j++) out[to + j] += values[from + j];
    }
  });
};

/** The depthwise convolution's geometry, as the forward pass computed it. */
function depthwiseInfo(inShape: number[], filterShape: number[], attrs: tf.NamedAttrMap): tf.backend_util.Conv2DInfo {
  const { strides, dilations, pad, dimRoundingMode } = attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  const info = tf.backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    dilations,
    pad,
    dimRoundingMode,
    true,
  );
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) throw new MoonConfigError('depthwise convolution gradients on wasm support dilation 1 only');
  return info;
}

/**
 * `DepthwiseConv2dNativeBackpropFilter` for wasm (missing in tfjs-wasm 4.22): dW[a,b,c,m] = Σ_{n,i,j}
 * x[n, i·s + a − pad, j·s + b − pad, c] · dy[n, i, j, c·M + m]. The cpu backend's loop, on the wasm heap: the same
 * sums in the same order.
 */
export const depthwiseBackpropFilter: KernelFunc = ({ inputs, attrs, backend }) => {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { filterShape } = attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  const info = depthwiseInfo(x.shape, filterShape, attrs ?? {});
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const { top, left } = info.padInfo;
  const multiplier = outChannels / inChannels;
  return withHeapViews(backend, info.filterShape, [x, dy], (dW, [xs, dys]) => {
    for (let wR = 0; wR < filterHeight; ++wR) {
      const yRMin = Math.max(0, Math.ceil((top - wR) / strideHeight));
      const yRMax = Math.min(outHeight, (inHeight + top - wR) / strideHeight);
      for (let wC = 0; wC < filterWidth; ++wC) {
        const yCMin = Math.max(0, Math.ceil((left - wC) / strideWidth));
        const yCMax = Math.min(outWidth, (inWidth + left - wC) / strideWidth);
        for (let d2 = 0; d2 < outChannels; ++d2) {
          const d1 = Math.trunc(d2 / multiplier);
          let dot = 0;
          for (let b = 0; b < batchSize; ++b) {
            for (let yR = yRMin; yR < yRMax; ++yR) {
              const xR = wR + yR * strideHeight - top;
              for (let yC = yCMin; yC < yCMax; ++yC) {
                const xC = wC + yC * strideWidth - left;
                dot += xs[((b * inHeight + xR) * inWidth + xC) * inChannels + d1] * dys[((b * outHeight + yR) * outWidth + yC) * outChannels + d2];
              }
            }
          }
          dW[((wR * filterWidth + wC) * inChannels + d1) * multiplier + (d2 % multiplier)] = dot;
        }
      }
    }
  });
};

/**
 * `DepthwiseConv2dNativeBackpropInput` for wasm (missing in tfjs-wasm 4.22): dx[n,h,w,c] = Σ_{m,a,b}
 * dy[n, (h + pad − a)/s, (w + pad − b)/s, c·M + m] · f[a, b, c, m] over the positions the stride reaches. The cpu
 * backend's loop, on the wasm heap: the same sums in the same order.
 */
export const depthwiseBackpropInput: KernelFunc = ({ inputs, attrs, backend }) => {
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const { inputShape } = attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  const info = depthwiseInfo(inputShape, filter.shape, attrs ?? {});
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const topPad = filterHeight - 1 - info.padInfo.top;
  const leftPad = filterWidth - 1 - info.padInfo.left;
  const multiplier = outChannels / inChannels;
  return withHeapViews(backend, info.inShape, [dy, filter], (dx, [dys, flt]) => {
    for (let b = 0; b < batchSize; ++b) {
      for (let d1 = 0; d1 < inChannels; ++d1) {
        for (let xR = 0; xR < inHeight; ++xR) {
          const xRCorner = xR - topPad;
          const yRMin = Math.max(0, Math.ceil(xRCorner / strideHeight));
          const yRMax = Math.min(outHeight, (filterHeight + xRCorner) / strideHeight);
          for (let xC = 0; xC < inWidth; ++xC) {
            const xCCorner = xC - leftPad;
            const yCMin = Math.max(0, Math.ceil(xCCorner / strideWidth));
            const yCMax = Math.min(outWidth, (filterWidth + xCCorner) / strideWidth);
            let dot = 0;
            for (let yR = yRMin; yR < yRMax; ++yR) {
              const wR = yR * strideHeight - xRCorner;
              for (let yC = yCMin; yC < yCMax; ++yC) {
                const wC = yC * strideWidth - xCCorner;
                const dyOffset = ((b * outHeight + yR) * outWidth + yC) * outChannels;
                const fltOffset = (((filterHeight - 1 - wR) * filterWidth + (filterWidth - 1 - wC)) * inChannels + d1) * multiplier;
                for (let dm = 0; dm < multiplier; ++dm) dot += dys[dyOffset + d1 * multiplier + dm] * flt[fltOffset + dm];
              }
            }
            dx[((b * inHeight + xR) * inWidth + xC) * inChannels + d1] = dot;
          }
        }
      }
    }
  });
};
