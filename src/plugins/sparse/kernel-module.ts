import { MoonConfigError } from '../../core/errors';
import { SPARSE_KERNELS_WASM_BASE64 } from './kernel-binary.generated';

/** The exports of the compiled kernels (kernels/sparse-dense.ts, gather-scatter.ts, top-k-select.ts); every pointer is a byte address in the memory. */
export interface SparseKernelExports {
  transposeToFeatureMajor(x: number, batch: number, n: number, xT: number, stride: number): void;
  transposeToBatchMajor(xT: number, n: number, stride: number, batch: number, x: number): void;
  forwardGathered(
    x: number, batch: number, inDim: number, vals: number, rows: number, colStarts: number, outDim: number,
    bias: number, hasBias: number, relu: number, y: number,
  ): void;
  forwardTransposed(
    xT: number, stride: number, batch: number, vals: number, rows: number, colStarts: number, outDim: number,
    bias: number, hasBias: number, relu: number, y: number,
  ): void;
  inputGradientTransposed(dyT: number, stride: number, vals: number, rows: number, colStarts: number, outDim: number, inDim: number, dxT: number): void;
  valuesGradient(xT: number, dyT: number, stride: number, rows: number, colStarts: number, outDim: number, dvals: number): void;
  /** out[k] = src[idx[k]]; returns −1, or the first k whose index is outside [0, limit). */
  gatherElements(src: number, limit: number, idx: number, count: number, out: number): number;
  /** out = zeros(size), out[idx[k]] += src[k]; returns −1, or the first k whose index is outside [0, size). */
  scatterAddElements(src: number, idx: number, count: number, size: number, out: number): number;
  /** Row r of out = row idx[r] of src ([limit, width]); returns −1, or the first r whose index is outside [0, limit). */
  gatherRows(src: number, limit: number, width: number, idx: number, count: number, out: number): number;
  /** out = 0/1 mask of the k largest scores, ties by the lower rank (ranks ≠ 0) or index; scratch: 65,538 int32. */
  topKMask(scores: number, ranks: number, n: number, k: number, out: number, scratch: number): void;
}

let compiled: WebAssembly.Module | undefined;
const instances = new WeakMap<WebAssembly.Memory, SparseKernelExports>();

function kernelBytes(): Uint8Array<ArrayBuffer> {
  // atob is global in browsers and in Node ≥ 16.
  return Uint8Array.from(atob(SPARSE_KERNELS_WASM_BASE64), (c) => c.charCodeAt(0));
}

/**
 * Compiles the kernel module ahead of its first use. `loadSparse` does it for you. Otherwise the first kernel call
 * compiles it synchronously, which Node allows but a browser's main thread may refuse for a module of this size
 * (about 6 KB): call `await compileSparseKernels()` once before using SparseDense layers built by hand.
 */
export async function compileSparseKernels(): Promise<void> {
  compiled ??= await WebAssembly.compile(kernelBytes());
}

/** The kernels instantiated on `memory` (one instance per memory, made on first use). */
export function kernelsOn(memory: WebAssembly.Memory): SparseKernelExports {
  let kernels = instances.get(memory);
  if (kernels === undefined) {
    try {
      compiled ??= new WebAssembly.Module(kernelBytes());
    } catch (error) {
      throw new MoonConfigError(
        `the sparse kernels could not be compiled synchronously here (${(error as Error).message}): ` +
          'call `await compileSparseKernels()` once before the first predict (loadSparse does it), or check that this engine runs WebAssembly SIMD',
      );
    }
    kernels = new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as SparseKernelExports;
    instances.set(memory, kernels);
  }
  return kernels;
}

let simdSupported: boolean | undefined;

/** Whether this JavaScript engine runs WebAssembly SIMD (the kernels need it); checked once. */
export function wasmSimdSupported(): boolean {
  if (simdSupported === undefined) {
    try {
      simdSupported = typeof WebAssembly === 'object' && WebAssembly.validate(kernelBytes());
    } catch {
      simdSupported = false;
    }
  }
  return simdSupported;
}
