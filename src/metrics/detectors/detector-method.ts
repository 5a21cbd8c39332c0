import * as tf from '@tensorflow/tfjs';

/**
 * What a detector scores, per batch: the penultimate features z (the input of the classifier's last Dense layer),
 * the K known logits W z + b (computed from the head's own weights, never from probabilities), and every logit
 * (K + 1 for a MOON model, whose last one is "unknown"; the same K otherwise).
 */
export interface DetectorBatch {
  readonly features: tf.Tensor2D;
  readonly logits: tf.Tensor2D;
  readonly allLogits: tf.Tensor2D;
}

/** The classifier's last Dense layer restricted to the K known classes: kernel [D, K] and bias [K]. */
export interface DetectorHead {
  readonly kernel: tf.Tensor2D;
  readonly bias: tf.Tensor1D;
}

/** What a detector is fitted on: in-distribution data (features and logits as for scoring), labels where needed. */
export interface DetectorFitData extends DetectorBatch {
  /** Class ids in [0, K), one per row, when the method needs them. */
  readonly labels?: Int32Array;
  readonly head: DetectorHead;
  readonly numClasses: number;
  /** Whether `allLogits` has the unknown output last. */
  readonly unknownAware: boolean;
}

/** A fitted detector's statistics: numbers and tensors (owned by the detector that holds them). */
export type DetectorState = Record<string, number | tf.Tensor>;

/**
 * One post-hoc OOD detector (OpenOOD's postprocessor contract): `fit` summarises in-distribution data once,
 * `score` maps a batch to one score per row, higher meaning more in-distribution. `score` runs inside `tf.tidy`
 * and must not read from the device.
 */
export interface DetectorMethod<O extends object = Record<string, number>> {
  /** The name `fitDetector` takes. */
  readonly name: string;
  /** What fitting needs beyond logits: the features' statistics, class labels, the unknown output of a MOON model. */
  readonly needs: readonly ('features' | 'labels' | 'unknown')[];
  /** The hyper-parameters and their defaults (OpenOOD's names and defaults). */
  readonly defaults: O;
  /**
   * OpenOOD's search grid for `tuneDetector`: the values tried per hyper-parameter (every combination is fitted).
   * Absent: nothing to tune.
   */
  readonly grid?: { readonly [K in keyof O]?: readonly O[K][] };
  /** Checks the options (merged over the defaults) against the data's shapes; throws a MoonConfigError. */
  check?(options: O, shapes: { width: number; numClasses: number }): void;
  fit(data: DetectorFitData, options: O): Promise<DetectorState>;
  score(batch: DetectorBatch, state: DetectorState, head: DetectorHead, options: O): tf.Tensor1D;
}

/** T · logsumexp(logits / T), the energy score of Liu et al. (OpenOOD's EBO), per row. */
export function energyOf(logits: tf.Tensor2D, temperature = 1): tf.Tensor1D {
  return tf.mul(tf.logSumExp(tf.div(logits, temperature), 1), temperature) as tf.Tensor1D;
}

/** W z + b for a batch of features. */
export function headLogits(features: tf.Tensor2D, head: DetectorHead): tf.Tensor2D {
  return tf.add(tf.matMul(features, head.kernel), head.bias) as tf.Tensor2D;
}

/** The state's tensor `key` (a fitted detector always has it). */
export function stateTensor<T extends tf.Tensor>(state: DetectorState, key: string): T {
  const value = state[key];
  if (!(value instanceof tf.Tensor)) throw new Error(`detector state has no tensor "${key}"`);
  return value as T;
}
