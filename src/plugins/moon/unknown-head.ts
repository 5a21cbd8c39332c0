import * as tf from '@tensorflow/tfjs';
import { MoonModelError } from '../../core/errors';
import { oneHotLabels, type LabelInput } from '../labels';

/**
 * Labels for a K+1-output model: one-hot rows over K (any numeric dtype) get a zero "unknown" column; integer class
 * ids ([N] or [N, 1], or an array) are one-hot encoded first; float32 rows over K+1 are returned as they are (the
 * same tensor). No training sample is ever labelled "unknown".
 * @deprecated the same as `kit.labels(y)` of an unknown-aware kit; kept for one release.
 */
export function padUnknownColumn(labels: LabelInput, numClasses: number): tf.Tensor2D {
  return oneHotLabels(labels, numClasses, numClasses + 1);
}

/**
 * A copy of a K-output model with one more output unit, "unknown", last. Every layer is copied with its weights;
 * the last layer must be a Dense layer, and its K known units keep their trained weights while the new unit gets
 * a fresh initialisation from the layer's own initializers. The copy is a functional model sharing nothing with
 * the original.
 */
export function addUnknownHead(model: tf.LayersModel): tf.LayersModel {
  if (!(model instanceof tf.LayersModel) || model.outputs.length !== 1) {
    throw new MoonModelError('addUnknownHead takes a single-output tf.LayersModel whose last layer is Dense');
  }
  const copy = copyModel(model);
  const last = copy.outputs[0].sourceLayer as tf.layers.Layer;
  // A Keras-style head: Dense(K) then an Activation or Softmax layer, which is re-applied after the widened Dense.
  const after = SEPARATE_ACTIVATIONS.includes(last.getClassName()) ? last : undefined;
  const head = after ? ((after.input as tf.SymbolicTensor).sourceLayer as tf.layers.Layer) : last;
  if (head.getClassName() !== 'Dense') {
    throw new MoonModelError(
      `addUnknownHead needs a Dense last layer (optionally followed by an Activation or Softmax layer), got ${head.getClassName()} "${head.name}": end the model with ` +
        `tf.layers.dense({ units: K, activation: 'softmax' }) (or build it with K + 1 units yourself)`,
    );
  }
  const config = head.getConfig();
  const units = config.units as number;
  const newHead = tf.layers.dense({ ...(config as object), name: `${head.name}_unknown`, units: units + 1 } as Parameters<typeof tf.layers.dense>[0]);
  const widened = newHead.apply(head.input as tf.SymbolicTensor) as tf.SymbolicTensor;
  const output = after ? (activationLayerLike(after).apply(widened) as tf.SymbolicTensor) : widened;
  const result = tf.model({ inputs: copy.inputs, outputs: output, name: `${model.name}_unknown` });
  // getWeights() returns the live variables: read them, never dispose them.
  const old = head.getWeights();
  const fresh = newHead.getWeights();
  const merged = tf.tidy(() =>
    fresh.map((w, i) =>
      // kernel [in, K+1]: the K known columns from the trained head, the last one fresh; bias likewise.
      w.rank === 2 ? tf.concat([old[i], tf.slice(w, [0, units], [-1, 1])], 1) : tf.concat([old[i], tf.slice(w, [units], [1])]),
    ),
  );
  newHead.setWeights(merged);
  tf.dispose(merged); // the variables hold their own reference to the data
  return result;
}

/** Layers that hold a head's activation apart from its Dense layer. */
const SEPARATE_ACTIVATIONS = ['Activation', 'Softmax'];

/** A new layer of the same kind and configuration as `layer` (an Activation or Softmax), under a new name. */
function activationLayerLike(layer: tf.layers.Layer): tf.layers.Layer {
  const config = { ...layer.getConfig(), name: `${layer.name}_unknown` };
  return layer.getClassName() === 'Softmax'
    ? tf.layers.softmax(config as Parameters<typeof tf.layers.softmax>[0])
    : tf.layers.activation(config as unknown as Parameters<typeof tf.layers.activation>[0]);
}

/** A deep copy of a model (architecture from its config, then its weights). */
function copyModel(model: tf.LayersModel): tf.LayersModel {
  const isSequential = model instanceof tf.Sequential;
  const cls = (isSequential ? tf.Sequential : tf.LayersModel) as unknown as tf.serialization.SerializableConstructor<tf.LayersModel>;
  const copy = (cls as unknown as { fromConfig: (c: unknown, config: unknown) => tf.LayersModel }).fromConfig(cls, model.getConfig());
  copy.setWeights(model.getWeights());
  return copy;
}
