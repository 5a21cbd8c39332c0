import * as tf from '@tensorflow/tfjs';
import { MoonConfigError } from '../../core/errors';
import { ownedVariable } from '../owned-variable';
import type { LayerMaskInfo } from '../../core/events';
import type { PartState } from '../../core/types';
import type { MaskableKernel } from '../../core/maskable-kernels';

/**
 * weights · mask, with the masked positions at +0: a plain product gives −0 for negative weights, and a sparse
 * weight should be a true zero (so that a compact export restores it bit for bit). −0 + 0 = +0 in IEEE arithmetic.
 * Call inside `tf.tidy`.
 */
export function applyMask(weights: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  return tf.add(tf.mul(weights, mask), 0);
}

/** An initial mask: flat 0/1 values on the host, or a 0/1 tensor on the device with its count of ones. */
export type InitialMask = Float32Array | { readonly tensor: tf.Tensor; readonly active: number };

/** One masked kernel: the live weight, its 0/1 mask and the exact number of active weights. */
export interface MaskEntry {
  readonly kernel: MaskableKernel;
  /** float32 0/1 tensor of the kernel's shape; a non-trainable variable, updated in place. */
  readonly mask: tf.Variable;
  /** Number of ones in `mask`, tracked exactly so that reading it never syncs with the device. */
  active: number;
}

/**
 * The mask set of one kit: one mask per masked kernel. The optimizer wrapper and the mask updater read it; only
 * the updater changes it.
 */
export class MaskSet {
  readonly entries: readonly MaskEntry[];
  private readonly byVariable: Map<string, MaskEntry>;
  private disposed = false;

  /**
   * @param kernels the kernels to mask
   * @param masks one 0/1 mask per kernel: a flat array of the kernel's size, or a device tensor with its (exact)
   *   count of ones, so that masks made on the device need no read (the tensor is taken over and freed)
   */
  constructor(kernels: readonly MaskableKernel[], masks: readonly InitialMask[]) {
    this.entries = kernels.map((kernel, i) => {
      const given = masks[i];
      if (given instanceof Float32Array) {
        let active = 0;
        for (const v of given) active += v;
        return { kernel, mask: ownedVariable(() => tf.tensor(given, kernel.shape as number[], 'float32')), active };
      }
      const mask = ownedVariable(() => tf.reshape(tf.cast(given.tensor, 'float32'), kernel.shape as number[]));
      given.tensor.dispose(); // taken over: the variable holds the mask now
      return { kernel, mask, active: given.active };
    });
    this.byVariable = new Map(this.entries.map((e) => [e.kernel.variable.name, e]));
  }

  /** The entry masking the variable of that name, if any. */
  entryFor(variableName: string): MaskEntry | undefined {
    return this.byVariable.get(variableName);
  }

  /** Sets every masked weight to exactly 0. */
  applyToWeights(): void {
    tf.tidy(() => {
      for (const e of this.entries) e.kernel.variable.assign(applyMask(e.kernel.variable, e.mask));
    });
  }

  /** A read-only snapshot of the masks (plain numbers). */
  view(): LayerMaskInfo[] {
    return this.entries.map((e) => ({
      name: e.kernel.name,
      variable: e.kernel.variable.name,
      shape: e.kernel.shape.slice(),
      total: e.kernel.size,
      active: e.active,
      density: e.active / e.kernel.size,
    }));
  }

  /** Σ active / Σ total over the masked kernels. */
  density(): number {
    let active = 0;
    let total = 0;
    for (const e of this.entries) {
      active += e.active;
      total += e.kernel.size;
    }
    return total === 0 ? 1 : active / total;
  }

  /** The masks (copies) and their active counts. */
  exportState(): PartState {
    return {
      tensors: Object.fromEntries(this.entries.map((e, i) => [`mask${i}`, e.mask.clone()])),
      values: { active: this.entries.map((e) => e.active) },
    };
  }

  /** Restores what {@link exportState} saved (shapes were checked by the caller). */
  importState(state: PartState): void {
    const active = state.values.active as number[];
    this.entries.forEach((e, i) => {
      e.mask.assign(state.tensors[`mask${i}`]);
      e.active = active[i];
    });
  }

  /**
   * Density over every trainable weight of `model`: a masked kernel counts its active weights, every other weight
   * (biases, BatchNorm, layers the kit cannot mask) counts whole.
   */
  modelDensity(model: tf.LayersModel): number {
    let total = 0;
    let active = 0;
    for (const weight of model.trainableWeights) {
      const size = tf.util.sizeFromShape(weight.shape as number[]);
      total += size;
      active += this.byVariable.get((weight.read() as tf.Variable).name)?.active ?? size;
    }
    return total === 0 ? 1 : active / total;
  }

  /** Whether {@link dispose} ran: the masks, and with them the kit, are gone. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Throws a typed error naming `use` when the masks were disposed (a kit used after `kit.dispose()`). */
  assertLive(use: string): void {
    if (this.disposed) {
      throw new MoonConfigError(`${use}: this kit was disposed (kit.dispose() freed its masks and state); create a new kit with createMoon`);
    }
  }

  /** Frees the mask tensors (the model's weights are untouched); a second call does nothing. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const e of this.entries) e.mask.dispose();
  }
}
