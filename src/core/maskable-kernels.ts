import * as tf from '@tensorflow/tfjs';
import { MoonModelError } from './errors';
import { leafLayers } from './layers';
import { builtinMaskableLayer, type AppliedAt, type MaskableLayerLookup, type UnitAxes } from './maskable-layers';

/** One maskable weight of a model (a kernel, a recurrent kernel, an embedding table), found by its layer's class. */
export interface MaskableKernel {
  /**
   * The mask's name in summaries, events and messages: the layer's name, or `layer/weight path` when the layer
   * has several masked weights (an LSTM's `lstm_1/kernel` and `lstm_1/recurrent_kernel`; a Bidirectional's
   * `bidi/forward_lstm_1/kernel`).
   */
  readonly name: string;
  /** The name of the model's layer that holds the weight (the wrapper, for a wrapped layer): what `denseLayers` names. */
  readonly layerName: string;
  /** The class of the layer that owns the weight, e.g. `Dense`, `LSTM` (the wrapped class inside a wrapper). */
  readonly className: string;
  /** The last part of the weight's name: `kernel`, `recurrent_kernel`, `embeddings`, … */
  readonly weightName: string;
  /** The layer that owns the weight (owned by the model). */
  readonly layer: tf.layers.Layer;
  /** The model's layer that holds it: `layer` itself, or the wrapper around it. */
  readonly outerLayer: tf.layers.Layer;
  /** Whether the weight is trained (false for a frozen layer: `trainable = false`). */
  readonly trainable: boolean;
  /** The axes of its output units. */
  readonly units: UnitAxes;
  /** Where it is applied, for multiply-add counts. */
  readonly appliedAt: AppliedAt;
  /** The live weight variable (owned by the model: never dispose it). */
  readonly variable: tf.Variable;
  readonly shape: readonly number[];
  readonly size: number;
}

/** The layers a wrapper holds: Bidirectional's two, TimeDistributed's (any `Wrapper`'s) one; undefined for others. */
function wrappedLayers(layer: tf.layers.Layer): tf.layers.Layer[] | undefined {
  const wrapper = layer as unknown as { layer?: unknown; forwardLayer?: unknown; backwardLayer?: unknown };
  if (wrapper.forwardLayer instanceof tf.layers.Layer && wrapper.backwardLayer instanceof tf.layers.Layer) return [wrapper.forwardLayer, wrapper.backwardLayer];
  if (wrapper.layer instanceof tf.layers.Layer) return [wrapper.layer];
  return undefined;
}

/** The weights to mask in `layer` (descending into wrappers), each with the layer that owns it. */
type FoundWeight = Omit<MaskableKernel, 'name' | 'layerName' | 'outerLayer'> & { readonly originalName: string };

function maskableWeightsOf(layer: tf.layers.Layer, lookup: MaskableLayerLookup): FoundWeight[] {
  const spec = lookup(layer.getClassName());
  if (spec === undefined) return (wrappedLayers(layer) ?? []).flatMap((inner) => maskableWeightsOf(inner, lookup));
  return spec.weights.flatMap((weightName) => {
    const weight = layer.weights.find((w) => w.originalName === weightName || w.originalName.endsWith(`/${weightName}`));
    if (weight === undefined) return [];
    const variable = weight.read() as tf.Variable;
    const units = spec.units ?? 'last';
    const appliedAt = spec.appliedAt ?? 'output-positions';
    const { originalName, trainable } = weight;
    return [{ className: layer.getClassName(), weightName, layer, units, appliedAt, variable, shape: variable.shape.slice(), size: variable.size, trainable, originalName }];
  });
}

/** The weight's name without the leading `layerName/`: its path inside the layer. */
function pathInside(layerName: string, weight: FoundWeight): string {
  const prefix = `${layerName}/`;
  return weight.originalName.startsWith(prefix) ? weight.originalName.slice(prefix.length) : weight.weightName;
}

/**
 * Finds every maskable weight of `model` in layer order, descending into nested models (a Sequential or a
 * functional model used as a layer) and wrappers (Bidirectional, TimeDistributed). Layers are recognised by class
 * through `lookup` (the built-ins, or a kit's registry with your custom layers), never by index.
 */
export function findMaskableKernels(model: tf.LayersModel, lookup: MaskableLayerLookup = builtinMaskableLayer): MaskableKernel[] {
  const found: MaskableKernel[] = [];
  const seen = new Set<string>();
  for (const layer of leafLayers(model)) {
    const weights = maskableWeightsOf(layer, lookup);
    if (weights.length === 0 && !layer.built && (lookup(layer.getClassName()) !== undefined || wrappedLayers(layer) !== undefined)) {
      throw new MoonModelError(
        `layer "${layer.name}" is not built yet, so its kernel does not exist: give the model an inputShape ` +
          `(or call model.build / model.predict once) before createMoon`,
      );
    }
    for (const w of weights) {
      if (seen.has(w.variable.name)) continue; // a layer shared between two places in the graph is masked once
      seen.add(w.variable.name);
      const { originalName: _, ...kernel } = w;
      const name = weights.length === 1 ? layer.name : `${layer.name}/${pathInside(layer.name, w)}`;
      found.push({ ...kernel, name, layerName: layer.name, outerLayer: layer, trainable: w.trainable && layer.trainable });
    }
  }
  return found;
}

/** How many output units a maskable weight has, along its unit axes (0 for an embedding table). */
export function outputUnits(kernel: Pick<MaskableKernel, 'shape' | 'units'>): number {
  const s = kernel.shape;
  switch (kernel.units) {
    case 'none':
      return 0;
    case 'depthwise':
      return s[s.length - 2] * s[s.length - 1];
    case 'second-last':
      return s[s.length - 2];
    default:
      return s[s.length - 1];
  }
}
