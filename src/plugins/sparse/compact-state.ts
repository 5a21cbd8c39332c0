import * as tf from '@tensorflow/tfjs';
import type { MaskEntry } from '../masks/mask-set';
import type { CompactGradients, CompactStep } from '../optimizer/compact-gradients';
import { remapSlots, type SlotRemap } from '../optimizer/optimizer-slots';
import { gatherElements, scatterAddElements } from './gather-scatter-op';

/**
 * The optimizers whose slots are elementwise and kept by position (`getWeights`/`setWeights` rebuild them in order),
 * so a step on a vector of active weights is the dense step at those weights. Others train as in dense mode.
 */
const ELEMENTWISE_OPTIMIZERS: ReadonlySet<string> = new Set(['SGD', 'Momentum', 'Adam', 'Adagrad', 'Adadelta', 'RMSProp']);

/** A kernel that trains compactly: where its active weights are, and the vector the inner optimizer steps. */
interface CompactKernel {
  readonly entry: MaskEntry;
  /** Flat kernel position of each active weight (the sparse layout's order); owned by the layout. */
  readonly positions: tf.Tensor1D;
  readonly values: tf.Variable;
  /** A gradient of zeros for the kernel itself: what the sparse layer reports to `fit` (shared, never applied). */
  readonly zeros: tf.Tensor;
  /** This step's gradient at the active weights, collected from the sparse layer's backward pass. */
  collected?: tf.Tensor;
  /** The kernel's data when the write-back last made it: the only data it may write in place. */
  ownData?: object;
}

/** A kernel that may train compactly, as the sparse training hands it over. */
export interface CompactCandidate {
  readonly entry: MaskEntry;
  readonly positions: tf.Tensor1D;
}

let nextId = 0;

/** The wasm backend's view of a tensor on its heap (tfjs-backend-wasm 4.22; feature-detected). */
interface WasmHeapAccess {
  refCount(dataId: object): number;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

const wasmHeap = (): WasmHeapAccess | undefined => {
  const backend = tf.backend() as unknown as Partial<WasmHeapAccess>;
  return tf.getBackend() === 'wasm' && typeof backend.typedArrayFromHeap === 'function' && typeof backend.refCount === 'function' ? (backend as WasmHeapAccess) : undefined;
};

/**
 * Compact optimizer state for sparse training (`createMoon({ kernels })`, issue #24): each masked Dense kernel that
 * computes sparsely is stepped by the inner optimizer through a vector of its active weights, with optimizer slots
 * of that size. A step then makes no dense gradient and runs no optimizer or mask pass over the whole kernel; the
 * stepped values are written back into the kernel (in place on wasm when nothing else holds its data), so the kernel
 * is current after every step for everything that reads it (mask updates, the voter, checkpoints, export).
 *
 * The slots are compact only between {@link toCompact} and {@link toDense}: before the slots are read, saved or
 * changed (a mask update, a checkpoint, `getWeights`) they go back to the kernels' shape and names, zero off the
 * mask, which dense mode never reads either (its gradient is masked and grown positions' slots are zeroed), so the
 * weights follow dense mode's to float32 rounding and a checkpoint resumes in either mode.
 */
export class CompactOptimizerState implements CompactGradients {
  private kernels = new Map<string, CompactKernel>();
  private optimizer: tf.Optimizer | undefined;
  private collecting = false;

  /** Whether the slots are compact (the last conversion was {@link toCompact}). */
  get isCompact(): boolean {
    return this.optimizer !== undefined;
  }

  /** Whether `optimizer`'s steps can be taken on active weights alone. */
  static supports(optimizer: tf.Optimizer): boolean {
    return ELEMENTWISE_OPTIMIZERS.has(optimizer.getClassName());
  }

  /**
   * Makes the slots of `candidates`' kernels compact (gathered at their positions) and their steps compact from now
   * on. Call with the slots in the kernels' shape (after {@link toDense}, or before the first step).
   */
  async toCompact(optimizer: tf.Optimizer, candidates: readonly CompactCandidate[]): Promise<void> {
    if (this.isCompact || candidates.length === 0 || !CompactOptimizerState.supports(optimizer)) return;
    const kernels = new Map<string, CompactKernel>();
    for (const { entry, positions } of candidates) {
      const variable = entry.kernel.variable;
      const values = tf.tidy(() => tf.variable(gatherElements(variable, positions), false, `${variable.name}/moon_active_${nextId++}`));
      kernels.set(variable.name, { entry, positions, values, zeros: tf.zeros(variable.shape) });
    }
    const remap = new Map<string, SlotRemap>(
      [...kernels.values()].map((k) => [k.entry.kernel.variable.name, { owner: k.values.name, convert: (slot) => gatherElements(slot, k.positions) }]),
    );
    try {
      await remapSlots(optimizer, remap);
    } catch (error) {
      for (const k of kernels.values()) tf.dispose([k.values, k.zeros]);
      throw error;
    }
    this.kernels = kernels;
    this.optimizer = optimizer;
  }

  /** Slots back in the kernels' shape and names, zero off the mask; the compact vectors are freed. */
  async toDense(): Promise<void> {
    const optimizer = this.optimizer;
    if (optimizer === undefined) return;
    const remap = new Map<string, SlotRemap>(
      [...this.kernels.values()].map((k) => {
        const variable = k.entry.kernel.variable;
        return [k.values.name, { owner: variable.name, convert: (slot) => tf.reshape(scatterAddElements(slot as tf.Tensor1D, k.positions, variable.size), variable.shape) }];
      }),
    );
    await remapSlots(optimizer, remap);
    this.release();
  }

  /**
   * Where `entry`'s sparse layer hands its gradient at the active weights now (inside a step's gradient computation,
   * for a compact kernel), or undefined: the gradient is kept as this step's, added to what an earlier call of the
   * same layer in this step gave, and the function returns the gradient the layer reports for the kernel (zeros,
   * never applied).
   */
  collectorFor(entry: MaskEntry): ((gradient: tf.Tensor) => tf.Tensor) | undefined {
    const kernel = this.collecting ? this.kernels.get(entry.kernel.variable.name) : undefined;
    if (kernel === undefined) return undefined;
    return (gradient) => {
      const before = kernel.collected;
      kernel.collected = tf.keep(before ? tf.add(before, gradient) : tf.clone(gradient));
      before?.dispose();
      return tf.clone(kernel.zeros);
    };
  }

  /** Runs a step's gradient computation with the compact kernels' layers collecting (see {@link collectorFor}). */
  collectDuring<T>(compute: () => T): T {
    this.close();
    this.collecting = this.isCompact;
    try {
      return compute();
    } finally {
      this.collecting = false;
    }
  }

  /** This step's compact step of a kernel: its active weights gathered afresh, and their gradient. */
  take(variableName: string, denseGradient: tf.Tensor): CompactStep | undefined {
    const kernel = this.kernels.get(variableName);
    if (kernel === undefined) return undefined;
    const variable = kernel.entry.kernel.variable;
    // The kernel is the truth (a checkpoint load or a user may have set it): this step starts from its active weights.
    kernel.values.assign(gatherElements(variable, kernel.positions));
    // A layer that ran its dense product this step (another backend) gives a dense gradient: its active part.
    const gradient = kernel.collected ?? gatherElements(denseGradient, kernel.positions);
    return { values: kernel.values, gradient, writeBack: () => this.writeBack(kernel) };
  }

  /** Frees the gradients this step collected. */
  close(): void {
    for (const k of this.kernels.values()) {
      k.collected?.dispose();
      k.collected = undefined;
    }
  }

  /** Frees the compact vectors without touching the optimizer (its slots must already be dense, or be discarded). */
  release(): void {
    this.close();
    for (const k of this.kernels.values()) tf.dispose([k.values, k.zeros]);
    this.kernels.clear();
    this.optimizer = undefined;
  }

  /**
   * kernel ← the stepped values at their positions, zero elsewhere (the kernel is zero off its mask, as dense mode
   * leaves it). On wasm the values are written into the kernel's own data when this write-back made that data and
   * nothing else holds it (no clone, no snapshot); otherwise the kernel gets new data from a scatter.
   */
  private writeBack(kernel: CompactKernel): void {
    const variable = kernel.entry.kernel.variable;
    const heap = wasmHeap();
    if (heap && kernel.ownData === variable.dataId && heap.refCount(variable.dataId) === 1) {
      const target = heap.typedArrayFromHeap(variable) as Float32Array;
      const values = heap.typedArrayFromHeap(kernel.values) as Float32Array;
      const positions = heap.typedArrayFromHeap(kernel.positions) as Int32Array;
      for (let k = 0; k < positions.length; k++) target[positions[k]] = values[k];
      return;
    }
    tf.tidy(() => {
      variable.assign(tf.reshape(scatterAddElements(kernel.values as tf.Tensor as tf.Tensor1D, kernel.positions, variable.size), variable.shape));
    });
    kernel.ownData = variable.dataId;
  }
}
