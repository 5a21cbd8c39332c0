import * as tf from '@tensorflow/tfjs';
import { MoonConfigError } from '../../core/errors';
import { kernelsOn, type SparseKernelExports } from './kernel-module';

/** The wasm backend's internals the kernels use (tfjs-backend-wasm 4.22; feature-detected, with a copying fallback). */
interface WasmBackendInternals extends tf.KernelBackend {
  wasm: { asm?: { memory?: unknown }; _malloc(bytes: number): number; _free(address: number): void };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.backend_util.BackendValues): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object): boolean;
}

/** The cpu backend's internals: the data store and the output constructor. */
interface CpuBackendInternals extends tf.KernelBackend {
  data: { get(dataId: object): { values?: tf.backend_util.BackendValues } | undefined };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
}

/** An output a kernel call makes: of this shape, float32 unless `dtype` says int32 (4-byte elements either way). */
export interface OutputSpec {
  shape: number[];
  dtype?: 'float32' | 'int32';
}

/**
 * One kernel call: the tensors it reads, the outputs it writes, the float32 scratch it needs, and the compiled
 * function to run on their addresses (inputs, then outputs, then scratch, in order).
 */
export interface HeapCall {
  inputs: readonly tf.TensorInfo[];
  outputs: readonly OutputSpec[];
  scratchFloats: readonly number[];
  run(kernels: SparseKernelExports, inputs: number[], outputs: number[], scratch: number[]): void;
}

const byteLength = (shape: readonly number[]): number => 4 * tf.util.sizeFromShape(shape as number[]);
const align16 = (n: number): number => (n + 15) & ~15;

/** The wasm backend's memory when the kernels may run on it in place: a plain (not shared) WebAssembly.Memory. */
function wasmBackendMemory(backend: tf.KernelBackend): WebAssembly.Memory | undefined {
  const memory = (backend as Partial<WasmBackendInternals>).wasm?.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) return undefined;
  // The threaded build shares its memory with workers; the kernel module declares a plain one.
  if (typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer) return undefined;
  return memory;
}

/** Runs `call` in place on the wasm backend's heap: inputs are read where they live, outputs made there. */
function runInPlace(call: HeapCall, backend: WasmBackendInternals, memory: WebAssembly.Memory): tf.TensorInfo[] {
  const address = (info: tf.TensorInfo): number => backend.dataIdMap.get(info.dataId)!.memoryOffset;
  const outputs = call.outputs.map((o) => backend.makeOutput(o.shape, o.dtype ?? 'float32'));
  const scratch = call.scratchFloats.map((n) => backend.wasm._malloc(Math.max(16, 4 * n)));
  try {
    // Allocation may have grown the memory; the kernels see the grown memory, and no JS view is held here.
    call.run(kernelsOn(memory), call.inputs.map(address), outputs.map(address), scratch);
  } catch (error) {
    outputs.forEach((o) => backend.disposeData(o.dataId)); // a call that throws (a bad index) leaves nothing behind
    throw error;
  } finally {
    scratch.forEach((a) => backend.wasm._free(a));
  }
  return outputs;
}

let privateMemory: WebAssembly.Memory | undefined;

/** A memory of its own for the copying path, grown to at least `bytes`. */
function privateHeap(bytes: number): WebAssembly.Memory {
  privateMemory ??= new WebAssembly.Memory({ initial: 1 });
  const missing = bytes - privateMemory.buffer.byteLength;
  if (missing > 0) privateMemory.grow(Math.ceil(missing / 65536));
  return privateMemory;
}

/** Whether `backend` is the wasm backend (the cpu backend has a `makeOutput` too, with other arguments). */
const isWasmBackend = (backend: tf.KernelBackend): backend is WasmBackendInternals => 'typedArrayFromHeap' in backend;

/** The values of a tensor, as the backend holds them (a view of the heap on wasm, the store's array on cpu). */
export function valuesOf(info: tf.TensorInfo, backend: tf.KernelBackend): ArrayBufferView {
  if (isWasmBackend(backend)) return backend.typedArrayFromHeap(info);
  const values = (backend as CpuBackendInternals).data.get(info.dataId)?.values;
  if (!ArrayBuffer.isView(values)) {
    throw new MoonConfigError(
      `the sparse kernels cannot read a ${info.dtype} tensor of this backend (its values are not a typed array): ` +
        "run SparseDense layers on the cpu or wasm backend, or load the model with loadSparse(source, { kernels: 'dense' })",
    );
  }
  return values;
}

/**
 * The values as the kernels read them: 4-byte elements of the tensor's dtype. The cpu backend casts int32 to
 * float32 without a copy (the float32 tensor still holds an Int32Array), which the kernels would read as raw bits.
 */
function asStoredDtype(info: tf.TensorInfo, values: ArrayBufferView): ArrayBufferView {
  if (info.dtype === 'float32' && !(values instanceof Float32Array)) return Float32Array.from(values as unknown as ArrayLike<number>);
  if (info.dtype === 'int32' && !(values instanceof Int32Array)) return Int32Array.from(values as unknown as ArrayLike<number>);
  return values;
}

/** Runs `call` on a private memory: inputs copied in, outputs copied out (the cpu backend, or an unreachable heap). */
function runWithCopies(call: HeapCall, backend: tf.KernelBackend): tf.TensorInfo[] {
  const sizes = [...call.inputs.map((i) => byteLength(i.shape)), ...call.outputs.map((o) => byteLength(o.shape)), ...call.scratchFloats.map((n) => 4 * n)];
  const offsets: number[] = [];
  let end = 16; // address 0 is never handed out
  for (const size of sizes) {
    offsets.push(end);
    end += align16(Math.max(size, 16));
  }
  const memory = privateHeap(end);
  const heap = new Uint8Array(memory.buffer); // made after the growth, so it is not detached
  call.inputs.forEach((info, i) => {
    const values = asStoredDtype(info, valuesOf(info, backend));
    heap.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), offsets[i]);
  });
  const nIn = call.inputs.length;
  const nOut = call.outputs.length;
  call.run(kernelsOn(memory), offsets.slice(0, nIn), offsets.slice(nIn, nIn + nOut), offsets.slice(nIn + nOut));
  return call.outputs.map((o, i) => {
    const bytes = memory.buffer.slice(offsets[nIn + i], offsets[nIn + i] + byteLength(o.shape));
    const dtype = o.dtype ?? 'float32';
    const values = dtype === 'int32' ? new Int32Array(bytes) : new Float32Array(bytes);
    if (isWasmBackend(backend)) return backend.makeOutput(o.shape, dtype, undefined, values);
    return (backend as CpuBackendInternals).makeTensorInfo(o.shape, dtype, values);
  });
}

/**
 * Runs a compiled kernel call on `backend` (cpu or wasm): in place on the wasm backend's heap where that is safe,
 * else through copies into a private memory.
 */
export function runOnBackend(call: HeapCall, backend: tf.KernelBackend): tf.TensorInfo[] {
  const memory = wasmBackendMemory(backend);
  return memory === undefined ? runWithCopies(call, backend) : runInPlace(call, backend as WasmBackendInternals, memory);
}

/** Whether the wasm backend's heap is reachable, so the kernels run there without copies. */
export function runsInPlace(backend: tf.KernelBackend): boolean {
  return wasmBackendMemory(backend) !== undefined;
}
