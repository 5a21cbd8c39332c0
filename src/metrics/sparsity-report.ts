import * as tf from '@tensorflow/tfjs';
import { MoonMetricError } from '../core/errors';
import type { LayerMaskInfo } from '../core/events';
import { findMaskableKernels, type MaskableKernel } from '../core/maskable-kernels';
import { builtinMaskableLayer, type MaskableLayerLookup } from '../core/maskable-layers';

/** A model with mask information, as a kit gives it: `sparsityReport(kit)`. */
export interface MaskedModel {
  readonly model: tf.LayersModel;
  /** Per masked kernel: its variable's name and active count. */
  readonly maskSummary: readonly Pick<LayerMaskInfo, 'variable' | 'active'>[];
  /** The layer classes the kit masks (its container's registrations); default: the built-in ones. */
  readonly maskableLayers?: MaskableLayerLookup;
}

/** Options of {@link sparsityReport} for a bare model. */
export interface SparsityReportOptions {
  /**
   * The layer classes to report for a bare model (a kit brings its own): default the built-in ones; pass
   * `maskableLayerLookup()` to include the classes registered with `registerMaskableLayer`.
   */
  readonly maskableLayers?: MaskableLayerLookup;
}

/** One maskable weight in a {@link SparsityReport}. */
export interface LayerSparsity {
  /** The mask's name: the layer's, or `layer/weight` for a layer with several maskable weights (RNNs, Bidirectional). */
  readonly name: string;
  readonly className: string;
  /** The weight: `kernel`, `recurrent_kernel`, `embeddings`, … */
  readonly weight: string;
  readonly shape: readonly number[];
  readonly total: number;
  /** Active weights: the mask's count for a kit; the nonzero count for a bare model. */
  readonly active: number;
  readonly density: number;
  /** Whether a kit masks this kernel (false for layers kept dense or frozen, and for every layer of a bare model). */
  readonly masked: boolean;
  /** Forward multiply-adds per example with every weight used; null when the layer's output size is not fixed. */
  readonly macsDense: number | null;
  /** Forward multiply-adds per example counting active weights only. */
  readonly macsSparse: number | null;
}

/** What {@link sparsityReport} returns. */
export interface SparsityReport {
  readonly layers: readonly LayerSparsity[];
  /** Σ total and Σ active over the maskable kernels, and their ratio. */
  readonly kernelTotal: number;
  readonly kernelActive: number;
  readonly kernelDensity: number;
  /** Every parameter of the model (biases, BatchNorm, … counted as active). */
  readonly totalParams: number;
  readonly activeParams: number;
  readonly overallDensity: number;
  /** Σ over the maskable kernels of the per-example multiply-adds (null if any layer's is unknown). */
  readonly macsDense: number | null;
  readonly macsSparse: number | null;
  /** Bytes of the model's weights stored densely (float32: 4 bytes per weight). */
  readonly denseBytes: number;
}

/** The dimensions of a single (not nested) shape between batch and channels; null if unknown. */
function innerPositions(shape: tf.Shape | tf.Shape[]): number | null {
  if (!Array.isArray(shape) || Array.isArray(shape[0])) return null;
  const inner = (shape as (number | null)[]).slice(1, -1);
  if (inner.some((d) => d === null)) return null;
  return (inner as number[]).reduce((p, d) => p * d, 1);
}

/**
 * Positions a weight is applied at, per example (from the model's layer, the wrapper for a wrapped layer): the
 * output positions (Dense, convolutions), the input positions (transposed convolutions), the time steps
 * (recurrent kernels), or 0 for an embedding lookup; null when the shape is not fixed.
 */
function positionsPerExample(kernel: MaskableKernel): number | null {
  const layer = kernel.outerLayer;
  const inputShape = (layer.inboundNodes[0]?.inputShapes ?? null) as tf.Shape | tf.Shape[] | null;
  switch (kernel.appliedAt) {
    case 'none':
      return 0;
    case 'input-positions':
      return inputShape === null ? null : innerPositions(inputShape);
    case 'time-steps': {
      // A wrapper (Bidirectional) lists its input shapes, the sequence's first.
      const shape = (Array.isArray(inputShape?.[0]) ? inputShape[0] : inputShape) as (number | null)[] | null;
      return Array.isArray(shape) && typeof shape[1] === 'number' ? shape[1] : null;
    }
    default:
      return innerPositions(layer.outputShape);
  }
}

/** The nonzero count of a kernel, computed on the device (the caller reads it). */
function nonzeroTensor(variable: tf.Variable): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.cast(tf.notEqual(variable, 0), 'float32')) as tf.Scalar);
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, string: 0 };

/**
 * Sparsity and cost of a model, or of a kit's model with the kit's masks: per maskable weight (the kernels of Dense,
 * Conv1D/2D/3D and their transposes, DepthwiseConv2D, SeparableConv2D pointwise; LSTM/GRU/SimpleRNN kernels and
 * recurrent kernels; Embedding tables; inside Bidirectional and TimeDistributed too) its total, active and density,
 * and the forward multiply-adds per example dense vs sparse (Dense: in × out per output position; convolutions:
 * kernel size × output positions; recurrent kernels: size × time steps; an embedding lookup: 0); globally the density over the kernels and over all parameters, and the
 * model's dense weight bytes. For a bare model it reads the kernels synchronously, which throws on WebGPU in Node and
 * blocks a browser page: use {@link sparsityReportAsync} there.
 */
export function sparsityReport(target: tf.LayersModel | MaskedModel, options: SparsityReportOptions = {}): SparsityReport {
  const { model, kit } = reportTarget(target, 'sparsityReport');
  const lookup = lookupOf(kit, options);
  const nonzero = kit ? undefined : findMaskableKernels(model, lookup).map((k) => readScalarSync(nonzeroTensor(k.variable)));
  return buildReport(model, kit, nonzero, lookup);
}

/** {@link sparsityReport} without a synchronous read (any backend, WebGPU included): a bare model's nonzeros are read asynchronously. */
export async function sparsityReportAsync(target: tf.LayersModel | MaskedModel, options: SparsityReportOptions = {}): Promise<SparsityReport> {
  const { model, kit } = reportTarget(target, 'sparsityReportAsync');
  const lookup = lookupOf(kit, options);
  const nonzero = kit ? undefined : await Promise.all(findMaskableKernels(model, lookup).map((k) => readScalar(nonzeroTensor(k.variable))));
  return buildReport(model, kit, nonzero, lookup);
}

function reportTarget(target: tf.LayersModel | MaskedModel, name: string): { model: tf.LayersModel; kit: MaskedModel | undefined } {
  const kit = target instanceof tf.LayersModel ? undefined : target;
  const model = kit ? kit.model : (target as tf.LayersModel);
  if (!(model instanceof tf.LayersModel)) throw new MoonMetricError(`${name} takes a tf.LayersModel or a kit from createMoon`);
  return { model, kit };
}

/** The kit's maskable classes, else the options', else the built-in ones. */
function lookupOf(kit: MaskedModel | undefined, options: SparsityReportOptions): MaskableLayerLookup {
  return kit?.maskableLayers ?? options.maskableLayers ?? builtinMaskableLayer;
}

function readScalarSync(t: tf.Scalar): number {
  const value = t.dataSync()[0];
  t.dispose();
  return value;
}

async function readScalar(t: tf.Scalar): Promise<number> {
  const value = (await t.data())[0];
  t.dispose();
  return value;
}

/** The report from the kernels' active counts: the kit's masks, or the nonzero counts read for a bare model. */
function buildReport(model: tf.LayersModel, kit: MaskedModel | undefined, nonzero: readonly number[] | undefined, lookup: MaskableLayerLookup): SparsityReport {
  const activeByVariable = new Map((kit?.maskSummary ?? []).map((m) => [m.variable, m.active]));
  const layers = findMaskableKernels(model, lookup).map((k, index): LayerSparsity => {
    const masked = activeByVariable.has(k.variable.name);
    const active = masked ? activeByVariable.get(k.variable.name)! : kit ? k.size : nonzero![index];
    const positions = positionsPerExample(k);
    return {
      name: k.name,
      className: k.className,
      weight: k.weightName,
      shape: k.shape,
      total: k.size,
      active,
      density: active / k.size,
      masked,
      macsDense: positions === null ? null : k.size * positions,
      macsSparse: positions === null ? null : active * positions,
    };
  });
  const sum = (f: (l: LayerSparsity) => number) => layers.reduce((s, l) => s + f(l), 0);
  const kernelTotal = sum((l) => l.total);
  const kernelActive = sum((l) => l.active);
  const totalParams = model.weights.reduce((s, w) => s + w.read().size, 0);
  const unknownMacs = layers.some((l) => l.macsDense === null);
  return {
    layers,
    kernelTotal,
    kernelActive,
    kernelDensity: kernelTotal === 0 ? 1 : kernelActive / kernelTotal,
    totalParams,
    activeParams: totalParams - kernelTotal + kernelActive,
    overallDensity: totalParams === 0 ? 1 : (totalParams - kernelTotal + kernelActive) / totalParams,
    macsDense: unknownMacs ? null : sum((l) => l.macsDense!),
    macsSparse: unknownMacs ? null : sum((l) => l.macsSparse!),
    denseBytes: model.weights.reduce((s, w) => s + w.read().size * (BYTES[w.dtype] ?? 4), 0),
  };
}
