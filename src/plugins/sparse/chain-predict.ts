import * as tf from '@tensorflow/tfjs';

/**
 * Layers the direct path runs by their own `call`: one tensor in, one out, nothing that differs between a batch and
 * its slices. Dropout is the identity at inference; anything else (BatchNorm, RNNs, merges) keeps tfjs's `predict`.
 */
const CHAIN_LAYER_CLASSES: ReadonlySet<string> = new Set(['SparseDense', 'Dense', 'Activation', 'Dropout']);

/** The default of tfjs-layers' `predict`: batches of 32, each run separately and concatenated. */
const DEFAULT_PREDICT_BATCH = 32;

type Predict = tf.LayersModel['predict'];

/** Marks models whose `predict` this module replaced (own property, so a clone or a subclass is not fooled). */
const chained = new WeakSet<tf.LayersModel>();

/** The input width when `model` is a Sequential chain of the layers the direct path runs, else undefined. */
function chainInputWidth(model: tf.LayersModel): number | undefined {
  if (!(model instanceof tf.Sequential) || model.inputs.length !== 1 || model.outputs.length !== 1) return undefined;
  const shape = model.inputs[0].shape;
  if (shape.length !== 2 || typeof shape[1] !== 'number') return undefined;
  return model.layers.every((l) => CHAIN_LAYER_CLASSES.has(l.getClassName())) ? shape[1] : undefined;
}

/** Whether `dispose()` released the model's layers (tfjs's `predict` then throws its "already disposed" error). */
function isDisposed(model: tf.LayersModel): boolean {
  return model.layers.some((l) => (l as unknown as { _refCount: number | null })._refCount === 0);
}

/** One batch through every layer's `call` (inference: Dropout passes its input through). */
function runChain(model: tf.LayersModel, x: tf.Tensor): tf.Tensor {
  let h = x;
  for (const layer of model.layers) h = layer.call(h, { training: false }) as tf.Tensor;
  return h;
}

/**
 * Replaces `model.predict` of a loaded Sequential chain of SparseDense / Dense / Activation / Dropout layers by a
 * direct path: the layers' own `call`s on the input, in the same batches of `batchSize` (32 by default) that tfjs's
 * `predict` slices and concatenates, so the values are the same. tfjs-layers' `predict` spends about 100 µs per
 * call on its symbolic execution (feed dictionaries, input standardisation, a slice and a concat even for one
 * batch): more than LeNet-300-100's sparse products at batch 1. Anything the direct path does not handle (an array
 * or dictionary of inputs, another width, a non-float32 input, a disposed model) goes to tfjs's `predict`, with its
 * errors. Returns whether the model got the direct path.
 */
export function installChainPredict(model: tf.LayersModel): boolean {
  const width = chainInputWidth(model);
  if (width === undefined || chained.has(model)) return false;
  const original: Predict = model.predict.bind(model);
  const direct = (x: tf.Tensor | tf.Tensor[], config?: tf.ModelPredictConfig): tf.Tensor | tf.Tensor[] => {
    if (!(x instanceof tf.Tensor) || x.rank !== 2 || x.shape[1] !== width || x.dtype !== 'float32' || x.isDisposed || isDisposed(model)) return original(x, config);
    const batchSize = config?.batchSize ?? DEFAULT_PREDICT_BATCH;
    if (!Number.isInteger(batchSize) || batchSize < 1) return original(x, config); // tfjs's own error for a bad batch size
    const n = x.shape[0];
    return tf.tidy(() => {
      if (n <= batchSize) return runChain(model, x);
      const parts: tf.Tensor[] = [];
      for (let start = 0; start < n; start += batchSize) parts.push(runChain(model, tf.slice(x, [start, 0], [Math.min(batchSize, n - start), width])));
      return tf.concat(parts, 0);
    });
  };
  Object.defineProperty(model, 'predict', { value: direct, configurable: true, writable: true });
  chained.add(model);
  return true;
}
