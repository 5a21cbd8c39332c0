import * as tf from '@tensorflow/tfjs';
import { MoonMetricError } from '../core/errors';
import { requireInteger, requireOneOf } from '../core/validate';
import { finiteArray, type NumericArray } from './validate';

/** Per-sample confidence and correctness (1 = correct, 0 = wrong). */
export interface ConfidenceInput {
  confidences: NumericArray;
  correct: NumericArray;
}

/** Class probabilities (rows sum to 1) and integer labels (or one-hot rows). */
export interface ProbabilityInput {
  probabilities: tf.Tensor2D | number[][];
  labels: NumericArray | tf.Tensor;
}

/** Options of {@link expectedCalibrationError}. */
export interface EceOptions {
  /** Number of equal-width bins. Default 15 (10 with the reference variant). */
  bins?: number;
  /**
   * 'guo' (default): bins ((m−1)/M, m/M], each weighted by its share of all samples (Guo et al. 2017).
   * 'reference': the reference evaluator's variant, used by the `as-released` preset: bins [lo, hi); a
   * confidence of exactly 1 falls in no bin and is dropped; weights are shares of the binned samples.
   */
  variant?: 'guo' | 'reference';
  /** Tolerance for rows of `probabilities` to sum to 1. Default 1e-3. */
  tolerance?: number;
}

/**
 * The bin of confidence c among `bins` equal-width bins with edges m/bins (exact divisions): ((m−1)/M, m/M] when
 * `closedRight` (c = 0 is in no bin), [m/M, (m+1)/M) otherwise (c = 1 is in none). Returns -1 for no bin. The
 * first guess from c·M can be one off (0.3·10 = 3.0000000000000004), so it is checked against the edges.
 */
function binIndex(c: number, bins: number, closedRight: boolean): number {
  let b = Math.min(bins - 1, Math.max(0, closedRight ? Math.ceil(c * bins) - 1 : Math.floor(c * bins)));
  const inside = (i: number) => (closedRight ? c > i / bins && c <= (i + 1) / bins : c >= i / bins && c < (i + 1) / bins);
  if (inside(b)) return b;
  b += c * bins < b + 0.5 ? -1 : 1;
  return b >= 0 && b < bins && inside(b) ? b : -1;
}

/** Integer labels from an array, an integer tensor [N], or one-hot rows [N, C] (internal: not exported by the package). */
export async function labelArrayAsync(labels: NumericArray | tf.Tensor): Promise<Float64Array> {
  if (!(labels instanceof tf.Tensor)) return finiteArray('labels', labels);
  if (labels.rank !== 2) return Float64Array.from(await labels.data()); // the caller's tensor: read, never dispose
  const ids = tf.argMax(labels, 1);
  const data = await ids.data();
  ids.dispose();
  return Float64Array.from(data);
}

/**
 * {@link labelArrayAsync} with a synchronous read for tensors (fails on backends without synchronous reads, e.g.
 * WebGPU in Node).
 */
export function labelArray(labels: NumericArray | tf.Tensor): Float64Array {
  if (labels instanceof tf.Tensor) {
    const flat = tf.tidy(() => (labels.rank === 2 ? tf.argMax(labels, 1) : labels).dataSync());
    return Float64Array.from(flat);
  }
  return finiteArray('labels', labels);
}

/** Per row of a probability matrix: the top probability, its class, and the row's sum. */
interface RowStats {
  confidences: ArrayLike<number>;
  predictions: ArrayLike<number>;
  sums: ArrayLike<number>;
}

/** The row statistics on the device, [3, N] (the caller reads and frees it). */
function rowStats(probs: tf.Tensor2D): tf.Tensor {
  return tf.tidy(() => tf.stack([tf.max(probs, 1), tf.cast(tf.argMax(probs, 1), 'float32'), tf.sum(probs, 1)]));
}

function splitRows(data: ArrayLike<number>, n: number): RowStats {
  const all = Float64Array.from(data);
  return { confidences: all.subarray(0, n), predictions: all.subarray(n, 2 * n), sums: all.subarray(2 * n) };
}

/** Confidences and correctness from the row statistics and the labels, checking that rows are distributions. */
function fromRowStats(stats: RowStats, labels: Float64Array, tolerance: number): ConfidenceInput & { confidences: Float64Array; correct: Float64Array } {
  if (labels.length !== stats.confidences.length) {
    throw new MoonMetricError(`labels has ${labels.length} entries but probabilities has ${stats.confidences.length} rows: pass one label per row`);
  }
  Array.from(stats.sums).forEach((s, i) => {
    if (!(Math.abs(s - 1) <= tolerance)) {
      throw new MoonMetricError(
        `row ${i} of probabilities sums to ${s}, not 1 (tolerance ${tolerance}): pass softmax outputs, or apply tf.softmax to logits first`,
      );
    }
  });
  return { confidences: Float64Array.from(stats.confidences), correct: Float64Array.from(stats.predictions, (p, i) => (p === labels[i] ? 1 : 0)) };
}

/** The probabilities as a tensor, and whether this function made it (and must free it). */
function probabilityTensor(input: ProbabilityInput): { probs: tf.Tensor2D; owned: boolean } {
  return input.probabilities instanceof tf.Tensor ? { probs: input.probabilities, owned: false } : { probs: tf.tensor2d(input.probabilities), owned: true };
}

/** Confidences and correctness from probabilities and labels, read synchronously. */
function fromProbabilities(input: ProbabilityInput, tolerance: number): { confidences: Float64Array; correct: Float64Array } {
  const { probs, owned } = probabilityTensor(input);
  try {
    const stats = rowStats(probs);
    const data = stats.dataSync();
    stats.dispose();
    return fromRowStats(splitRows(data, probs.shape[0]), labelArray(input.labels), tolerance);
  } finally {
    if (owned) probs.dispose();
  }
}

/** {@link fromProbabilities} without a synchronous read. */
async function fromProbabilitiesAsync(input: ProbabilityInput, tolerance: number): Promise<{ confidences: Float64Array; correct: Float64Array }> {
  const { probs, owned } = probabilityTensor(input);
  try {
    const stats = rowStats(probs);
    const data = await stats.data();
    stats.dispose();
    return fromRowStats(splitRows(data, probs.shape[0]), await labelArrayAsync(input.labels), tolerance);
  } finally {
    if (owned) probs.dispose();
  }
}

/**
 * Expected calibration error of top-label confidences: Σ_bins weight_b · |accuracy_b − mean confidence_b| with
 * equal-width bins (L1). Pass `{ confidences, correct }` or `{ probabilities, labels }` (top label = argmax).
 * With probability tensors it reads synchronously (throws on WebGPU in Node, blocks a browser page): use
 * {@link expectedCalibrationErrorAsync} there.
 */
export function expectedCalibrationError(input: ConfidenceInput | ProbabilityInput, options: EceOptions = {}): number {
  const settings = eceSettings(options);
  const pairs = 'probabilities' in input ? fromProbabilities(input, options.tolerance ?? 1e-3) : hostPairs(input);
  return eceOf(pairs.confidences, pairs.correct, settings);
}

/**
 * {@link expectedCalibrationError} without a synchronous read: the same value for probability tensors on every
 * backend (WebGPU included).
 */
export async function expectedCalibrationErrorAsync(input: ConfidenceInput | ProbabilityInput, options: EceOptions = {}): Promise<number> {
  const settings = eceSettings(options);
  const pairs = 'probabilities' in input ? await fromProbabilitiesAsync(input, options.tolerance ?? 1e-3) : hostPairs(input);
  return eceOf(pairs.confidences, pairs.correct, settings);
}

function eceSettings(options: EceOptions): { variant: 'guo' | 'reference'; bins: number } {
  const variant = requireOneOf('ECE variant', options.variant ?? 'guo', ['guo', 'reference'] as const, MoonMetricError);
  const bins = requireInteger('bins', options.bins ?? (variant === 'reference' ? 10 : 15), 1, '', MoonMetricError);
  return { variant, bins };
}

function hostPairs(input: ConfidenceInput): { confidences: Float64Array; correct: Float64Array } {
  return { confidences: finiteArray('confidences', input.confidences), correct: finiteArray('correct', input.correct) };
}

/** Σ_bins weight_b · |accuracy_b − mean confidence_b| over equal-width bins. */
function eceOf(confidences: Float64Array, correct: Float64Array, { variant, bins }: { variant: 'guo' | 'reference'; bins: number }): number {
  if (confidences.length !== correct.length) {
    throw new MoonMetricError(`confidences has ${confidences.length} entries but correct has ${correct.length}: pass one of each per sample`);
  }
  const count = new Float64Array(bins);
  const sumConf = new Float64Array(bins);
  const sumCorrect = new Float64Array(bins);
  confidences.forEach((c, i) => {
    if (c < 0 || c > 1) throw new MoonMetricError(`confidences[${i}] is ${c}: confidences must lie in [0, 1]`);
    const b = binIndex(c, bins, variant === 'guo');
    if (b < 0) return;
    count[b]++;
    sumConf[b] += c;
    sumCorrect[b] += correct[i];
  });
  const weightTotal = variant === 'guo' ? confidences.length : count.reduce((s, n) => s + n, 0);
  let ece = 0;
  for (let b = 0; b < bins; b++) {
    if (count[b] > 0) ece += (count[b] / weightTotal) * Math.abs(sumCorrect[b] / count[b] - sumConf[b] / count[b]);
  }
  return ece;
}

type AccuracyOptions = { numClasses: number; over?: 'K+1' | 'K' };

/** Checks accuracy's arguments; returns the columns the argmax runs over. */
function accuracyColumns(output: tf.Tensor, options: AccuracyOptions): 'K+1' | 'K' {
  if (!(output instanceof tf.Tensor) || output.rank !== 2) throw new MoonMetricError('accuracy needs a 2-D output tensor [N, C]');
  if (options === undefined || options === null) throw new MoonMetricError('accuracy needs options: { numClasses: K }');
  const k = options.numClasses;
  const width = output.shape[1] as number;
  if (!Number.isInteger(k) || k < 1 || k > width) {
    throw new MoonMetricError(`accuracy: numClasses must be an integer in [1, ${width}] (the output's width), got ${k}`);
  }
  const over = options.over ?? 'K+1';
  requireOneOf('accuracy: over', over, ['K+1', 'K'] as const, MoonMetricError);
  return over;
}

/** The argmax of each row over the chosen columns, on the device. */
function predictionsOf(output: tf.Tensor, k: number, over: 'K+1' | 'K'): tf.Tensor {
  return tf.tidy(() => tf.argMax(over === 'K' ? tf.slice(output, [0, 0], [-1, k]) : output, 1));
}

/** One label per output row, before anything is computed on the device. */
function checkLabelCount(truth: Float64Array, rows: number): void {
  if (truth.length !== rows) {
    throw new MoonMetricError(`labels has ${truth.length} entries but the output has ${rows} rows: pass one label per row`);
  }
}

/** The fraction of predictions equal to their label. */
function hitRate(predictions: ArrayLike<number>, truth: Float64Array, rows: number): number {
  let hits = 0;
  for (let i = 0; i < rows; i++) if (predictions[i] === truth[i]) hits++;
  return hits / truth.length;
}

/**
 * Top-1 accuracy of a model output against labels.
 * @param options.numClasses K
 * @param options.over 'K+1' (default): argmax over every output column, so a sample predicted "unknown" is
 *   wrong (the accuracy the reference prints); 'K': argmax over the first K columns only (the reference CSV's ACC).
 * It reads synchronously (throws on WebGPU in Node, blocks a browser page): use {@link accuracyAsync} there.
 */
export function accuracy(output: tf.Tensor, labels: NumericArray | tf.Tensor, options: AccuracyOptions): number {
  const over = accuracyColumns(output, options);
  const truth = labelArray(labels);
  checkLabelCount(truth, output.shape[0]);
  const predictions = predictionsOf(output, options.numClasses, over);
  const data = predictions.dataSync();
  predictions.dispose();
  return hitRate(data, truth, output.shape[0]);
}

/** {@link accuracy} without a synchronous read (any backend, WebGPU included). */
export async function accuracyAsync(output: tf.Tensor, labels: NumericArray | tf.Tensor, options: AccuracyOptions): Promise<number> {
  const over = accuracyColumns(output, options);
  const truth = await labelArrayAsync(labels);
  checkLabelCount(truth, output.shape[0]);
  const predictions = predictionsOf(output, options.numClasses, over);
  const data = await predictions.data();
  predictions.dispose();
  return hitRate(data, truth, output.shape[0]);
}
