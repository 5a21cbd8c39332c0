import * as tf from '@tensorflow/tfjs';
import type { OutputKind } from '../../metrics/scores';
import { leafLayers } from '../layers';

/**
 * Whether `model` outputs probabilities or logits, from the activation of the layer that produces its (first)
 * output: 'softmax' means probabilities, anything else logits.
 */
export function detectOutputKind(model: tf.LayersModel): OutputKind {
  const source = model.outputs[0]?.sourceLayer as (tf.layers.Layer & { layers?: tf.layers.Layer[] }) | undefined;
  const last = source && Array.isArray(source.layers) ? leafLayers(source).at(-1) : source;
  const activation = last?.getConfig().activation;
  return activation === 'softmax' ? 'probabilities' : 'logits';
}
