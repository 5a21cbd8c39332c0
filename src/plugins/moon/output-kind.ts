import * as tf from '@tensorflow/tfjs';
import type { OutputKind } from '../../metrics/scores';

/**
 * Whether `model` outputs probabilities or logits, from the activation of the layer that produces its (first)
 * output: 'softmax' means probabilities, anything else logits.
 */
export function detectOutputKind(model: tf.LayersModel): OutputKind {
  type Nested = tf.layers.Layer & { layers?: tf.layers.Layer[] };
  let last = model.outputs[0]?.sourceLayer as Nested | undefined;
  while (last && Array.isArray(last.layers)) last = last.layers[last.layers.length - 1] as Nested;
  const activation = last?.getConfig().activation;
  return activation === 'softmax' ? 'probabilities' : 'logits';
}
