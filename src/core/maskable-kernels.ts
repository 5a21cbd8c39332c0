import * as tf from '@tensorflow/tfjs';
import { MoonModelError } from './errors';
import { leafLayers } from './layers';

/** The kernel of one maskable layer, found in a model. */
export interface MaskableKernel {
  /** The layer's name. */
  readonly layerName: string;
  /** The layer's class, e.g. `Dense` or `Conv2D`. */
  readonly className: string;
  /** The layer itself (owned by the model). */
  readonly layer: tf.layers.Layer;
  /** The live weight variable (owned by the model: never dispose it). */
  readonly variable: tf.Variable;
  readonly shape: readonly number[];
  readonly size: number;
}

/**
 * Which weight of each layer class is masked. SeparableConv2D keeps its depthwise kernel dense (it holds few
 * weights and each filter sees one channel); only the pointwise kernel is masked, as in the design.
 */
export const MASKED_WEIGHT_BY_CLASS: Readonly<Record<string, string>> = {
  Dense: 'kernel',
  Conv2D: 'kernel',
  DepthwiseConv2D: 'depthwise_kernel',
  SeparableConv2D: 'pointwise_kernel',
};

/**
 * Finds every maskable kernel of `model` in layer order, descending into nested models (a Sequential or a
 * functional model used as a layer). Layers are recognised by class, never by index.
 */
export function findMaskableKernels(model: tf.LayersModel): MaskableKernel[] {
  const found: MaskableKernel[] = [];
  const seen = new Set<string>();
  for (const layer of leafLayers(model)) {
    const weightName = MASKED_WEIGHT_BY_CLASS[layer.getClassName()];
    if (weightName === undefined) continue;
    if (!layer.built) {
      throw new MoonModelError(
        `layer "${layer.name}" is not built yet, so its kernel does not exist: give the model an inputShape ` +
          `(or call model.build / model.predict once) before createMoon`,
      );
    }
    const weight = layer.weights.find((w) => w.originalName.endsWith(`/${weightName}`));
    if (weight === undefined) continue;
    const variable = weight.read() as tf.Variable;
    if (seen.has(variable.name)) continue; // a layer shared between two places in the graph is masked once
    seen.add(variable.name);
    found.push({
      layerName: layer.name,
      className: layer.getClassName(),
      layer,
      variable,
      shape: variable.shape.slice(),
      size: variable.size,
    });
  }
  return found;
}
