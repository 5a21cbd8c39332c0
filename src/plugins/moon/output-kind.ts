import * as tf from '@tensorflow/tfjs';
import { MoonConfigError, MoonModelError } from '../../core/errors';
import type { OutputKind } from '../../core/types';
import { leafLayers } from '../../core/layers';

/** The output names a user can pass as `output`: the model's output names. */
function outputNames(model: tf.LayersModel): string[] {
  return model.outputs.map((o, i) => model.outputNames?.[i] ?? o.sourceLayer.name);
}

/**
 * The index of the classification output among the model's outputs: `output` as an index or an output (layer)
 * name; for a single-output model, 0. A multi-output model must say which output the kit trains.
 */
export function resolveOutputIndex(model: tf.LayersModel, output: string | number | undefined): number {
  const names = outputNames(model);
  const list = names.map((n, i) => `${i}: "${n}"`).join(', ');
  if (output === undefined) {
    if (names.length === 1) return 0;
    throw new MoonConfigError(`the model has ${names.length} outputs (${list}): pass output (its index or name) to say which one is the classifier`);
  }
  const index = typeof output === 'number' ? output : names.findIndex((n, i) => n === output || model.outputs[i].sourceLayer.name === output);
  if (!Number.isInteger(index) || index < 0 || index >= names.length) {
    throw new MoonConfigError(`output ${JSON.stringify(output)} is not an output of this model; its outputs are ${list}`);
  }
  return index;
}

/**
 * The layer that computes output `index`: inside a nested model its last leaf layer, inside a TimeDistributed
 * (any single-layer wrapper) the layer it wraps, whose activation is the output's.
 */
function outputLayer(model: tf.LayersModel, index: number): tf.layers.Layer {
  const source = model.outputs[index].sourceLayer as tf.layers.Layer & { layers?: tf.layers.Layer[] };
  const last = Array.isArray(source.layers) ? (leafLayers(source).at(-1) ?? source) : source;
  const wrapped = (last as unknown as { layer?: unknown }).layer;
  return wrapped instanceof tf.layers.Layer ? wrapped : last;
}

/**
 * Whether output `index` of `model` holds probabilities or logits, from the layer that computes it: a `Softmax`
 * layer or `activation: 'softmax'` means probabilities, `activation: 'linear'` logits. Anything else (sigmoid,
 * relu, a layer without an activation) cannot be told apart and throws a {@link MoonModelError} asking for `from`.
 */
export function detectOutputKind(model: tf.LayersModel, index = 0): OutputKind {
  const layer = outputLayer(model, index);
  if (layer.getClassName() === 'Softmax') return 'probabilities';
  const activation = layer.getConfig().activation;
  if (activation === 'softmax') return 'probabilities';
  if (activation === 'linear') return 'logits';
  if (activation === 'sigmoid' && outputWidth(model, index) === 1) return 'probabilities'; // a binary classifier
  throw new MoonModelError(
    `cannot tell whether the model's output comes as probabilities or logits: it is computed by ${layer.getClassName()} ` +
      `"${layer.name}"${activation === undefined ? '' : ` with activation '${String(activation)}'`}; end the classifier with ` +
      `activation 'softmax' (or a Softmax layer) or 'linear', or pass from: 'probabilities' or 'logits'`,
  );
}

/** The width (last dimension) of output `index`, or undefined when it is not known. */
export function outputWidth(model: tf.LayersModel, index: number): number | undefined {
  const shape = model.outputs[index].shape;
  return shape[shape.length - 1] ?? undefined;
}
