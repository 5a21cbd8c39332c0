import * as tf from '@tensorflow/tfjs';
import { MoonConfigError, MoonModelError } from '../../core/errors';
import { leafLayers } from '../../core/layers';
import type { DetectorHead } from '../../metrics/detectors/detector-method';

/** The classifier's last Dense (or SparseDense) layer and its weights: all its columns, and the K known ones. */
export interface ClassifierHead {
  readonly layer: tf.layers.Layer;
  /** All outputs (K, or K + 1 with MOON's unknown last). */
  readonly full: DetectorHead;
  /** The K known classes: every detector scores with these. */
  readonly known: DetectorHead;
  readonly unknownAware: boolean;
}

const HEAD_CLASSES = ['Dense', 'SparseDense'];

/** The last Dense or SparseDense layer of the model, nested models included: the layer whose input is the feature. */
export function findHeadLayer(model: tf.LayersModel): tf.layers.Layer {
  const head = leafLayers(model).filter((l) => HEAD_CLASSES.includes(l.getClassName())).at(-1);
  if (head === undefined) throw new MoonModelError('the model has no Dense layer: a detector reads the input of the classifier\'s last Dense layer as its features');
  return head;
}

/** A dense [inputDim, units] kernel from a SparseDense layer's compressed columns (read asynchronously, once). */
async function sparseDenseKernel(layer: tf.layers.Layer): Promise<tf.Tensor2D> {
  const byName = (suffix: string) => layer.weights.find((w) => w.originalName.endsWith(`/${suffix}`))!.read();
  const [values, rows, starts] = await Promise.all([byName('values').data(), byName('row_indices').data(), byName('column_starts').data()]);
  const { units, inputDim } = layer as unknown as { units: number; inputDim: number };
  const dense = new Float32Array(inputDim * units);
  for (let j = 0; j < units; j++) for (let k = starts[j]; k < starts[j + 1]; k++) dense[rows[k] * units + j] = values[k];
  return tf.tensor2d(dense, [inputDim, units]);
}

/**
 * The head's weights as detectors use them: copies of the kernel [D, outputs] and bias, and their K known columns.
 * `outputs` must be K (a plain classifier) or K + 1 (MOON: the unknown output last). The copies belong to the caller.
 */
export async function classifierHead(model: tf.LayersModel, numClasses: number): Promise<ClassifierHead> {
  const layer = findHeadLayer(model);
  const kernel = layer.getClassName() === 'SparseDense' ? await sparseDenseKernel(layer) : (tf.clone(layer.getWeights()[0]) as tf.Tensor2D);
  const outputs = kernel.shape[1];
  if (outputs !== numClasses && outputs !== numClasses + 1) {
    kernel.dispose();
    throw new MoonConfigError(
      `the model's last Dense layer "${layer.name}" has ${outputs} units, and numClasses is ${numClasses}: it must have K (${numClasses}) units, or K + 1 (${numClasses + 1}) with MOON's unknown output last`,
    );
  }
  const useBias = (layer as unknown as { useBias?: boolean }).useBias !== false;
  const biasWeight = layer.weights.find((w) => w.originalName.endsWith('/bias'));
  const bias = useBias && biasWeight ? (tf.clone(biasWeight.read()) as tf.Tensor1D) : tf.zeros([outputs]) as tf.Tensor1D;
  const known = tf.tidy(() => ({ kernel: kernel.slice([0, 0], [-1, numClasses]) as tf.Tensor2D, bias: bias.slice(0, numClasses) as tf.Tensor1D }));
  return { layer, full: { kernel, bias }, known, unknownAware: outputs === numClasses + 1 };
}

/** Frees the head's copies. */
export function disposeHead(head: ClassifierHead): void {
  tf.dispose([head.full.kernel, head.full.bias, head.known.kernel, head.known.bias]);
}

/**
 * The features (the head's input) of `x`, in batches of `batchSize`, each handed to `use` with its logits; what
 * `use` returns is kept. The head's `call` is wrapped for the duration to capture its input, so any graph works
 * (Sequential, functional, nested models, a kit's sparse layers), and restored after.
 */
export async function forEachFeatureBatch<T extends tf.TensorContainer>(
  model: tf.LayersModel,
  head: ClassifierHead,
  x: tf.Tensor,
  batchSize: number,
  use: (batch: { features: tf.Tensor2D; allLogits: tf.Tensor2D; logits: tf.Tensor2D }) => T,
): Promise<T[]> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new MoonConfigError(`batchSize must be a positive integer, got ${batchSize}`);
  const layer = head.layer as tf.layers.Layer & { call: tf.layers.Layer['call'] };
  const ownCall = Object.prototype.hasOwnProperty.call(layer, 'call') ? layer.call : undefined;
  const original = layer.call;
  // Every call's input is kept: predict may split a batch again (it should not, given batchSize: the whole slice).
  let captured: tf.Tensor[] = [];
  layer.call = function (this: tf.layers.Layer, inputs, kwargs) {
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    captured.push(tf.keep(tf.clone(input)));
    return original.call(this, inputs, kwargs);
  };
  const results: T[] = [];
  try {
    const n = x.shape[0];
    for (let start = 0; start < n; start += batchSize) {
      const size = Math.min(batchSize, n - start);
      tf.tidy(() => {
        const slice = x.slice([start], [size]);
        tf.dispose(model.predict(slice, { batchSize: size }) as tf.Tensor | tf.Tensor[]);
      });
      const features = captured.length === 1 ? captured[0] : tf.concat(captured);
      if (captured.length > 1) tf.dispose(captured);
      captured = [];
      if (features.rank !== 2) {
        features.dispose();
        throw new MoonModelError(`the input of the last Dense layer "${layer.name}" has rank ${features.rank}: detectors need one feature vector per sample ([N, D])`);
      }
      results.push(
        tf.tidy(() => {
          const f = features as tf.Tensor2D;
          const allLogits = tf.add(tf.matMul(f, head.full.kernel), head.full.bias) as tf.Tensor2D;
          return use({ features: f, allLogits, logits: allLogits.slice([0, 0], [-1, head.known.bias.shape[0]]) as tf.Tensor2D });
        }),
      );
      features.dispose();
    }
  } finally {
    tf.dispose(captured); // inputs kept by a forward pass that threw
    if (ownCall) layer.call = ownCall;
    else delete (layer as { call?: unknown }).call;
  }
  return results;
}
