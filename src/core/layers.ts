import type * as tf from '@tensorflow/tfjs';

/** A layer that holds layers: a Sequential or functional model used as a layer (or a model itself). */
type Container = { layers?: tf.layers.Layer[] };

/**
 * The layers of `container` in order, with every nested model (a Sequential or functional model used as a layer)
 * replaced by its own layers, recursively. The place where the library walks a model's structure.
 */
export function leafLayers(container: Container): tf.layers.Layer[] {
  return (container.layers ?? []).flatMap((layer) => (Array.isArray((layer as Container).layers) ? leafLayers(layer as Container) : [layer]));
}
