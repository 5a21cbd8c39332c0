import * as tf from '@tensorflow/tfjs';
import { MoonMetricError } from '../../core/errors';
import type { OodMetricValues, ReliabilityEpochEvent } from '../../core/events';
import type { OutputKind } from '../../core/types';
import { requireInteger } from '../../core/validate';
import { expectedCalibrationError, labelArray, labelArrayAsync, type EceOptions } from '../../metrics/calibration';
import { oodMetrics, type RocPoints } from '../../metrics/ood-metrics';
import { probabilitiesFrom, scoreByNameAsync, type AsyncScore, type ScoreForms, type ScoreName } from '../../metrics/scores';
import type { NumericArray } from '../../metrics/validate';
import { Detector } from '../detectors/detector';
import { resolveOutputIndex } from '../moon/output-kind';

/** A fitted detector, or a function that fits one on the model as it is now (called at each evaluation). */
export type MonitorDetector = Detector | ((model: tf.LayersModel) => Promise<Detector>);

/** What to evaluate and how: the options of a `ReliabilityMonitor`. */
export interface ReliabilityEvaluationOptions {
  /** In-distribution validation inputs and labels (integer labels, or one-hot rows over K or K+1). */
  id: { x: tf.Tensor; y: tf.Tensor | NumericArray };
  /** Named OOD input sets. */
  ood: Readonly<Record<string, tf.Tensor>> | ReadonlyArray<{ name: string; x: tf.Tensor }>;
  /** K, the number of known classes. */
  numClasses: number;
  /**
   * The OOD score: 'msp' (default), 'energy', 'max-logit', 'known-mass', a name given to registerScore, or the
   * score's functions themselves.
   */
  score?: ScoreName | ScoreForms;
  /** What the model outputs: 'probabilities' (default) or 'logits'. */
  from?: OutputKind;
  /** Samples per forward pass, so large sets never sit on the device whole. Default 256. */
  batchSize?: number;
  /** ECE options (default: 15 bins, Guo et al.). */
  ece?: Omit<EceOptions, 'tolerance'>;
  /** The ROC points FPR@95 is read from: 'full' (default) or 'thinned' (the reference evaluator's; `as-released`). */
  roc?: RocPoints;
  /** Accuracy over 'K+1' columns (default: "unknown" predictions are wrong) or the first 'K'. */
  accuracyOver?: 'K+1' | 'K';
  /** For a model with several outputs: the classifier's output, by index or name (a kit's monitor sets it). */
  output?: number | string;
  /**
   * A post-hoc detector whose scores replace `score` for the OOD metrics (accuracy and ECE still come from the
   * model's outputs). A fitted `Detector` scores with the head and statistics it was fitted with, so use one fitted
   * after training; during training pass a function, e.g. `(model) => fitDetector('knn', { model, x, kit })`, which
   * is called at every evaluation (its detector is disposed after it).
   */
  detector?: MonitorDetector;
}

/** One pass over a set: the OOD score per sample and, for the ID set, what accuracy and ECE need. */
interface Pass {
  scores: Float32Array;
  /** Top-label probability of the full softmax. */
  confidences: Float32Array;
  /** Argmax of the full softmax (what ECE's correctness uses). */
  topLabels: Int32Array;
  /** Argmax over the `accuracyOver` columns. */
  predictions: Int32Array;
}

/**
 * The reliability evaluation of a model on an ID set and named OOD sets: ID accuracy and ECE and, per OOD set,
 * AUROC / AUPR-In / AUPR-Out / FPR@95 of the chosen score, in batches, every read asynchronous. It owns the sets,
 * the chosen score and the ID labels once read; the `ReliabilityMonitor` callback schedules it.
 */
export class ReliabilityEvaluator {
  private readonly options: ReliabilityEvaluationOptions;
  private readonly oodSets: ReadonlyArray<{ name: string; x: tf.Tensor }>;
  private readonly score: AsyncScore;
  /** The ID labels, read from the device (without blocking) at the first evaluation. */
  private labels: Float64Array | undefined;

  /** Checks every option now, so a monitor fails when it is created, not at the end of an epoch. */
  constructor(options: ReliabilityEvaluationOptions) {
    this.options = options;
    if (options === undefined || options === null || options.id === undefined || !(options.id.x instanceof tf.Tensor)) {
      throw new MoonMetricError('ReliabilityMonitor needs the in-distribution set: { id: { x, y }, ood: { name: x }, numClasses }');
    }
    this.oodSets = Array.isArray(options.ood)
      ? (options.ood as ReadonlyArray<{ name: string; x: tf.Tensor }>)
      : Object.entries((options.ood ?? {}) as Record<string, tf.Tensor>).map(([name, x]) => ({ name, x }));
    if (this.oodSets.length === 0 || this.oodSets.some((s) => !(s.x instanceof tf.Tensor) || s.x.shape[0] === 0)) {
      throw new MoonMetricError('ReliabilityMonitor needs at least one non-empty OOD set: ood: { noise: xNoise, … }');
    }
    requireInteger('ReliabilityMonitor: numClasses', options.numClasses, 1, '', MoonMetricError);
    requireInteger('ReliabilityMonitor: batchSize', options.batchSize ?? 256, 1, '', MoonMetricError);
    if (options.detector !== undefined && !(options.detector instanceof Detector) && typeof options.detector !== 'function') {
      throw new MoonMetricError('ReliabilityMonitor: detector must be a fitted Detector or a function (model) => Promise<Detector>');
    }
    if (options.detector !== undefined && options.score !== undefined) throw new MoonMetricError('ReliabilityMonitor: give score or detector, not both (the detector gives the scores)');
    this.score = typeof options.score === 'object' && options.score !== null ? options.score.async : scoreByNameAsync(options.score ?? 'msp'); // fails now on an unknown name
    const y = options.id.y;
    if (!(y instanceof tf.Tensor)) this.labels = labelArray(y); // host labels are checked now; tensors are read later
    const count = y instanceof tf.Tensor ? y.shape[0] : (this.labels as Float64Array).length;
    if (count !== options.id.x.shape[0]) {
      throw new MoonMetricError(`ReliabilityMonitor: id.y has ${count} labels for ${options.id.x.shape[0]} samples`);
    }
  }

  /**
   * Evaluates `model` now (during or after training). Every device read is
   * asynchronous, so it runs on every backend (WebGPU included).
   */
  async evaluate(model: tf.LayersModel, epoch = -1): Promise<ReliabilityEpochEvent> {
    this.labels ??= await labelArrayAsync(this.options.id.y);
    const id = await this.pass(model, this.options.id.x, true);
    const detector = await this.detectorFor(model);
    try {
      if (detector) id.scores = await detector.score(this.options.id.x);
      return await this.metrics(model, id, epoch, detector);
    } finally {
      if (detector && detector !== this.options.detector) detector.dispose();
    }
  }

  /** The detector of this evaluation: the fitted one (checked to be on `model`), or a new one from the function. */
  private async detectorFor(model: tf.LayersModel): Promise<Detector | undefined> {
    const given = this.options.detector;
    if (given === undefined) return undefined;
    const detector = given instanceof Detector ? given : await given(model);
    if (!(detector instanceof Detector)) throw new MoonMetricError('ReliabilityMonitor: the detector function must return a Detector (from fitDetector)');
    if (detector.model !== model) {
      if (detector !== given) detector.dispose();
      throw new MoonMetricError('ReliabilityMonitor: the detector was fitted on another model; fit it on the monitored one');
    }
    return detector;
  }

  private async metrics(model: tf.LayersModel, id: Pass, epoch: number, detector: Detector | undefined): Promise<ReliabilityEpochEvent> {
    const labels = this.labels!;
    const hitsOf = (predicted: Int32Array) => Float64Array.from(predicted, (p, i) => (p === labels[i] ? 1 : 0));
    const hits = hitsOf(id.predictions);
    // ECE on the top label of the full softmax, as the reference evaluator does; accuracy per accuracyOver.
    const ece = expectedCalibrationError({ confidences: id.confidences, correct: hitsOf(id.topLabels) }, this.options.ece);
    const ood: Record<string, OodMetricValues> = {};
    for (const set of this.oodSets) {
      const scores = detector ? await detector.score(set.x) : (await this.pass(model, set.x, false)).scores;
      ood[set.name] = oodMetrics(id.scores, scores, { roc: this.options.roc });
    }
    return { epoch, accuracy: hits.reduce((s, h) => s + h, 0) / hits.length, ece, ood };
  }

  /** The classifier's output among the model's predictions (the only one, or the one `output` names). */
  private classifierOutput(model: tf.LayersModel, predicted: tf.Tensor | tf.Tensor[]): tf.Tensor2D {
    if (!Array.isArray(predicted)) return predicted as tf.Tensor2D;
    try {
      return predicted[resolveOutputIndex(model, this.options.output)] as tf.Tensor2D; // the kit's rule for `output`
    } catch (error) {
      throw new MoonMetricError(`ReliabilityMonitor: ${(error as Error).message}`);
    }
  }

  /** Scores (and for the ID set: confidences and predictions) in batches of `batchSize`, read without blocking. */
  private async pass(model: tf.LayersModel, x: tf.Tensor, withPredictions: boolean): Promise<Pass> {
    const n = x.shape[0];
    const size = this.options.batchSize ?? 256;
    const k = this.options.numClasses;
    const score = this.score;
    const m = withPredictions ? n : 0;
    const out: Pass = { scores: new Float32Array(n), confidences: new Float32Array(m), topLabels: new Int32Array(m), predictions: new Int32Array(m) };
    for (let start = 0; start < n; start += size) {
      const count = Math.min(size, n - start);
      const output = tf.tidy(() => this.classifierOutput(model, model.predict(tf.slice(x, start, count))));
      try {
        out.scores.set(await score(output, { numClasses: k, from: this.options.from }), start);
        if (withPredictions) await this.readPredictions(output, out, start);
      } finally {
        output.dispose();
      }
    }
    return out;
  }

  /** Confidence, top label and prediction of each row of one batch, in one asynchronous read. */
  private async readPredictions(output: tf.Tensor2D, out: Pass, start: number): Promise<void> {
    const k = this.options.numClasses;
    const stats = tf.tidy(() => {
      const probs = probabilitiesFrom(output, this.options.from);
      const over = this.options.accuracyOver === 'K' ? tf.slice(probs, [0, 0], [-1, k]) : probs;
      return tf.stack([tf.max(probs, 1), tf.cast(tf.argMax(probs, 1), 'float32'), tf.cast(tf.argMax(over, 1), 'float32')]);
    });
    const rows = output.shape[0];
    const data = await stats.data();
    stats.dispose();
    out.confidences.set(data.subarray(0, rows), start);
    out.topLabels.set(data.subarray(rows, 2 * rows), start);
    out.predictions.set(data.subarray(2 * rows, 3 * rows), start);
  }
}
