import * as tf from '@tensorflow/tfjs';
import { MoonConfigError } from '../../core/errors';
import type { DetectorMethod } from '../../metrics/detectors/detector-method';
import { disposeHead, forEachFeatureBatch } from './classifier-head';
import { Detector, headFor, hostCopy, type DetectorJSON, type DetectorOptions, type DetectorParts } from './detector';

/** The options of `fitDetector`: the data, the class count, and the method's hyper-parameters. */
export interface FitDetectorOptions {
  /** The trained classifier; its last Dense layer is the head, its input the features. */
  readonly model: tf.LayersModel;
  /** In-distribution inputs to fit on (the training set for feature-space methods; held-out data for `temperature`). */
  readonly x: tf.Tensor;
  /** Class ids of `x` ([N] ids, an array, or one-hot rows), for methods that need them (mahalanobis, rmds, temperature). */
  readonly labels?: tf.Tensor | ArrayLike<number>;
  /** K; or give a kit, whose numClasses is used. */
  readonly numClasses?: number;
  readonly kit?: { readonly numClasses: number };
  /** Rows per forward pass (default 256). */
  readonly batchSize?: number;
  /** The method's hyper-parameters, by OpenOOD's names (`k: 50`, `percentile: 90`, …). */
  readonly [option: string]: unknown;
}

const DATA_KEYS = new Set(['model', 'x', 'labels', 'numClasses', 'kit', 'batchSize']);

/** The method's hyper-parameters from `options`, over its defaults; an unknown key is a typed error. */
function methodOptions(name: string, method: DetectorMethod<DetectorOptions>, options: Record<string, unknown>): DetectorOptions {
  const merged: DetectorOptions = { ...method.defaults };
  for (const [key, value] of Object.entries(options)) {
    if (DATA_KEYS.has(key) || value === undefined) continue;
    if (!(key in method.defaults)) {
      const known = Object.keys(method.defaults);
      throw new MoonConfigError(`detector "${name}" has no option "${key}"; ${known.length ? `its options are ${known.join(', ')}` : 'it takes no options'}`);
    }
    merged[key] = value as number | string;
  }
  return merged;
}

/** Class ids as an Int32Array: ids, or the argmax of one-hot rows (read asynchronously). */
async function classIds(labels: tf.Tensor | ArrayLike<number>, n: number, numClasses: number): Promise<Int32Array> {
  let ids: Int32Array;
  if (labels instanceof tf.Tensor) {
    const flat = labels.rank === 2 && labels.shape[1]! > 1 ? tf.argMax(labels, 1) : labels.reshape([-1]);
    ids = Int32Array.from(await flat.data());
    if (flat !== labels) flat.dispose();
  } else ids = Int32Array.from(labels);
  if (ids.length !== n) throw new MoonConfigError(`labels has ${ids.length} entries for ${n} samples`);
  const bad = ids.findIndex((id) => !(id >= 0 && id < numClasses));
  if (bad >= 0) throw new MoonConfigError(`label ${ids[bad]} (sample ${bad}) is not a class id in [0, ${numClasses})`);
  return ids;
}

/** The parts every detector has, from the options. */
function partsOf(name: string, method: DetectorMethod<DetectorOptions>, options: FitDetectorOptions): DetectorParts {
  const numClasses = options.numClasses ?? options.kit?.numClasses;
  if (!(options.model instanceof tf.LayersModel)) throw new MoonConfigError('fitDetector needs { model }: the trained tf.LayersModel');
  if (!Number.isInteger(numClasses) || numClasses! < 1) throw new MoonConfigError('fitDetector needs numClasses (K, the known classes) or a kit');
  return { name, method, model: options.model, numClasses: numClasses!, options: methodOptions(name, method, options), batchSize: options.batchSize ?? 256 };
}

/**
 * Fits the detector `method` (called `name`) on in-distribution data: the features of `options.x` are extracted in
 * batches, the method's statistics computed, and a {@link Detector} returned.
 */
export async function fitDetectorWith(name: string, method: DetectorMethod<DetectorOptions>, options: FitDetectorOptions): Promise<Detector> {
  const parts = partsOf(name, method, options);
  if (!(options.x instanceof tf.Tensor) || options.x.shape[0] === 0) throw new MoonConfigError('fitDetector needs { x }: a non-empty tensor of in-distribution inputs');
  const needsLabels = method.needs.includes('labels');
  if (needsLabels && options.labels === undefined) throw new MoonConfigError(`detector "${name}" needs the class ids of x: pass labels`);
  const labels = needsLabels ? await classIds(options.labels!, options.x.shape[0], parts.numClasses) : undefined;
  const head = await headFor(parts);
  let data: { features: tf.Tensor2D; allLogits: tf.Tensor2D; logits: tf.Tensor2D } | undefined;
  try {
    const batches = await forEachFeatureBatch(parts.model, head, options.x, parts.batchSize, (b) => ({ features: b.features.clone(), allLogits: b.allLogits, logits: b.logits }));
    data = tf.tidy(() => ({
      features: tf.concat(batches.map((b) => b.features)) as tf.Tensor2D,
      allLogits: tf.concat(batches.map((b) => b.allLogits)) as tf.Tensor2D,
      logits: tf.concat(batches.map((b) => b.logits)) as tf.Tensor2D,
    }));
    batches.forEach((b) => tf.dispose([b.features, b.allLogits, b.logits]));
    method.check?.(parts.options, { width: data.features.shape[1], numClasses: parts.numClasses });
    const state = await method.fit({ ...data, labels, head: head.known, numClasses: parts.numClasses, unknownAware: head.unknownAware }, parts.options);
    return new Detector(name, method, parts.model, head, state, await hostCopy(state), parts.options, parts.numClasses, parts.batchSize);
  } catch (error) {
    disposeHead(head);
    throw error;
  } finally {
    if (data) tf.dispose([data.features, data.allLogits, data.logits]);
  }
}

/** A detector from {@link Detector.toJSON}, on the same model (checked against the head's shape). */
export async function loadDetectorWith(json: DetectorJSON, method: DetectorMethod<DetectorOptions>, model: tf.LayersModel, batchSize = 256): Promise<Detector> {
  if (json === null || typeof json !== 'object' || json.format !== 'tfjs-moon-detector' || json.version !== 1) {
    throw new MoonConfigError('loadDetector expects what detector.toJSON() wrote (format "tfjs-moon-detector", version 1)');
  }
  const parts: DetectorParts = { name: json.name, method, model, numClasses: json.numClasses, options: methodOptions(json.name, method, json.options), batchSize };
  const head = await headFor(parts);
  const state = Object.fromEntries(
    Object.entries(json.state).map(([key, value]) => {
      if (typeof value === 'number') return [key, value];
      const size = value.shape.reduce((p, d) => p * d, 1);
      if (!Array.isArray(value.values) || value.values.length !== size) throw new MoonConfigError(`loadDetector: state "${key}" has ${value.values?.length} values for shape [${value.shape}]`);
      return [key, tf.tensor(value.values, value.shape)];
    }),
  );
  const detector = new Detector(json.name, method, model, head, state, json.state, parts.options, json.numClasses, batchSize);
  detector.threshold = json.threshold ?? undefined;
  return detector;
}
