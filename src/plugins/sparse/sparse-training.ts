import * as tf from '@tensorflow/tfjs';
import type { MaskEntry, MaskSet } from '../masks/mask-set';
import { compressColumns } from './column-layout';
import { CompactOptimizerState } from './compact-state';
import { gatherElements, scatterAddElements } from './gather-scatter-op';
import { sparsePays, type KernelChoice } from './sparse-conversion';
import { sparseDenseLastAxis, type FusedActivation } from './sparse-dense-op';

/** The column layout of one mask on the device: where the active weights are, in the kernels' order. */
interface DeviceLayout {
  readonly rowIndices: tf.Tensor1D;
  readonly columnStarts: tf.Tensor1D;
  /** Flat position in the kernel of each stored entry (row · outDim + column), column-major order. */
  readonly positions: tf.Tensor1D;
  readonly density: number;
  /** Whether the layer computes sparsely: decided when the layout is built ('auto' measures; see sparsePays). */
  readonly sparse: boolean;
  /** The backend the decision was made on; another backend gets the dense product until the next refresh. */
  readonly backend: string;
}

/** A Dense layer's `call`, as tfjs-layers defines it. */
type LayerCall = (inputs: tf.Tensor | tf.Tensor[], kwargs: tf.serialization.ConfigDict) => tf.Tensor | tf.Tensor[];

/** What the patch reads from a tfjs Dense layer (public in tfjs-layers' JavaScript, not in its typings). */
interface DenseInternals {
  kernel: { read(): tf.Tensor };
  bias?: { read(): tf.Tensor } | null;
  activation?: { getClassName(): string; apply(x: tf.Tensor): tf.Tensor };
  call: LayerCall;
}

/**
 * The active weights of `kernel` at `positions`; the gradient scatters back into a dense, kernel-shaped tensor, or,
 * given `collect` (compact optimizer state), goes to `collect` at the active weights, and the kernel's gradient is
 * what `collect` returns (zeros the wrapper never applies). Both run as compiled loops on wasm (tfjs-wasm's GatherV2
 * spent 28–56% of a sparse step checking indices in JavaScript); tf.gather's own gradient would be an
 * UnsortedSegmentSum, which the wasm backend lacks.
 */
function gatherActive(kernel: tf.Tensor, positions: tf.Tensor1D, collect?: (gradient: tf.Tensor) => tf.Tensor): tf.Tensor1D {
  const gather = tf.customGrad(((k: tf.Tensor) => ({
    value: gatherElements(k, positions),
    gradFunc: (dy: tf.Tensor | tf.Tensor[]) =>
      collect ? collect(dy as tf.Tensor) : tf.reshape(scatterAddElements(dy as tf.Tensor1D, positions, k.size), k.shape),
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return gather(kernel) as tf.Tensor1D;
}

/**
 * Sparse training of masked Dense layers (`createMoon({ kernels })`): dense kernels, sparse compute. Each Dense
 * layer keeps its dense kernel variable, masks, checkpoints and export exactly as in dense-with-mask training; its
 * forward product (and so its backward products) runs through the compiled sparse kernels on the active weights,
 * gathered from the kernel each step, so the weights follow the same updates to float32 rounding. Without compact
 * steps (below) their gradient comes back as a dense tensor that is zero off the mask, which the wrapper masks.
 *
 * A step that needs the dense gradient (RigL's growth, armed by the mask updater) runs the layer's own dense product.
 * Conv2D layers stay dense. Layouts are rebuilt from the masks (one asynchronous read each) whenever they change.
 *
 * With compact optimizer state ({@link CompactOptimizerState}; off for dense training and for the as-released random
 * weight drop, which changes kernels every step), a sparse layer's gradient stays at its active weights and the optimizer steps only those:
 * no dense gradient and no pass over the whole kernel per step.
 */
export class SparseTraining {
  private readonly layouts = new Map<MaskEntry, DeviceLayout>();
  /** Each patched layer's own `call` property before the patch (undefined: it had none, `call` came from its class). */
  private readonly originals = new Map<MaskEntry, LayerCall | undefined>();
  /** Set by the mask-updater callback for a step whose gradients must be dense (RigL's growth). */
  denseStep = false;
  /** The optimizer wrapper's view of the compact steps (what `kit.optimizer` hands it). */
  readonly compact = new CompactOptimizerState();

  /**
   * @param masks the kit's mask set: its Dense entries train sparsely
   * @param choice 'sparse': every masked Dense layer on cpu and wasm; 'auto': those under the backend's crossover
   * @param compactSteps whether the optimizer may step sparse layers on their active weights alone
   */
  constructor(
    private readonly masks: MaskSet,
    private readonly choice: Exclude<KernelChoice, 'dense'>,
    private readonly compactSteps = true,
  ) {
    for (const entry of this.denseEntries()) this.patch(entry);
  }

  /**
   * Before a step: makes `optimizer`'s slots of the layers that compute sparsely compact, if they are not yet (after
   * a refresh, a checkpoint, a `getWeights`). Asynchronous, so the kit's callbacks run it before each batch.
   */
  async prepareStep(optimizer: tf.Optimizer): Promise<void> {
    if (!this.compactSteps || this.compact.isCompact) return;
    const candidates = this.denseEntries().flatMap((entry) => {
      const layout = this.layouts.get(entry);
      return this.runsSparse(layout) ? [{ entry, positions: layout.positions }] : [];
    });
    await this.compact.toCompact(optimizer, candidates);
  }

  /** Rebuilds every layout from the current masks (after masks changed: a mask update, pruning, a resume). */
  async refresh(): Promise<void> {
    await this.compact.toDense(); // compact slots follow the old layouts
    for (const entry of this.denseEntries()) {
      const [inDim, outDim] = entry.kernel.shape;
      const { rowIndices, columnStarts } = compressColumns((await entry.mask.data()) as Float32Array, inDim, outDim);
      const positions = new Int32Array(rowIndices.length);
      for (let j = 0; j < outDim; j++) {
        for (let k = columnStarts[j]; k < columnStarts[j + 1]; k++) positions[k] = rowIndices[k] * outDim + j;
      }
      const old = this.layouts.get(entry);
      if (old) tf.dispose([old.rowIndices, old.columnStarts, old.positions]);
      this.layouts.set(entry, {
        rowIndices: tf.tensor1d(rowIndices, 'int32'),
        columnStarts: tf.tensor1d(columnStarts, 'int32'),
        positions: tf.tensor1d(positions, 'int32'),
        density: rowIndices.length / entry.kernel.size,
        // Decided here, outside fit's gradient tape ('auto' may run a probe, which runs ops of its own).
        sparse: sparsePays(this.choice, { inDim, units: outDim, nnz: rowIndices.length }, tf.getBackend(), 'training'),
        backend: tf.getBackend(),
      });
    }
  }

  /** Restores the layers' own `call` and frees the layouts and the compact vectors. */
  dispose(): void {
    this.compact.release();
    for (const [entry, own] of this.originals) {
      const layer = entry.kernel.layer as unknown as DenseInternals;
      if (own) layer.call = own;
      else delete (layer as Partial<DenseInternals>).call; // back to the class's method, as before the patch
    }
    this.originals.clear();
    for (const l of this.layouts.values()) tf.dispose([l.rowIndices, l.columnStarts, l.positions]);
    this.layouts.clear();
  }

  private denseEntries(): MaskEntry[] {
    // A wrapped Dense (TimeDistributed) is called by its wrapper step by step: it keeps the dense product.
    return this.masks.entries.filter((e) => e.kernel.className === 'Dense' && e.kernel.shape.length === 2 && e.kernel.layer === e.kernel.outerLayer);
  }

  /** Whether `entry` runs sparse now: a layout that chose sparse on the current backend, and no dense step. */
  private runsSparse(layout: DeviceLayout | undefined): layout is DeviceLayout {
    return layout !== undefined && !this.denseStep && layout.sparse && layout.backend === tf.getBackend();
  }

  /** Per masked Dense layer (by name), whether it computes sparsely with the current layouts: what 'auto' chose. */
  sparseLayers(): Record<string, boolean> {
    return Object.fromEntries(this.denseEntries().map((e) => [e.kernel.layer.name, this.layouts.get(e)?.sparse ?? false]));
  }

  private patch(entry: MaskEntry): void {
    const layer = entry.kernel.layer as unknown as DenseInternals;
    const original = layer.call;
    this.originals.set(entry, Object.prototype.hasOwnProperty.call(layer, 'call') ? original : undefined);
    const inDim = entry.kernel.shape[0];
    layer.call = (inputs, kwargs) => {
      const layout = this.layouts.get(entry);
      if (!this.runsSparse(layout)) return original.call(layer, inputs, kwargs);
      return tf.tidy(() => {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        // tfjs-layers' activation classes are registered under lower-case names ('relu', 'linear').
        const activationName = (layer.activation?.getClassName() ?? 'linear').toLowerCase();
        const fused: FusedActivation = activationName === 'relu' ? 'relu' : 'linear';
        const values = gatherActive(layer.kernel.read(), layout.positions, this.compact.collectorFor(entry));
        const bias = layer.bias ? (layer.bias.read() as tf.Tensor1D) : undefined;
        const layout2d = { values, rowIndices: layout.rowIndices, columnStarts: layout.columnStarts, inDim };
        const shaped = sparseDenseLastAxis(x, layout2d, bias, fused, entry.kernel.layer.name);
        return fused === 'linear' && activationName !== 'linear' && layer.activation ? layer.activation.apply(shaped) : shaped;
      });
    };
  }
}
