import { MoonMetricError } from '../core/errors';
import { requireOneOf } from '../core/validate';
import type { OodMetricValues } from '../core/events';
import { finiteArray, type NumericArray } from './validate';

/** Which side is the positive class of a binary OOD metric. */
export type PositiveClass = 'id' | 'ood';

/**
 * The binary classification curve at every distinct score (scikit-learn's `_binary_clf_curve`): for thresholds
 * t_1 > t_2 > … (the distinct scores, descending), the cumulative true positives `tps` and false positives `fps`
 * among samples with score ≥ t_i. Positives are `positive`, negatives `negative`; higher score = more positive.
 */
interface BinaryCurve {
  readonly tps: Float64Array;
  readonly fps: Float64Array;
  readonly thresholds: Float64Array;
  readonly positives: number;
  readonly negatives: number;
}

/**
 * Builds the curve by sorting each side once (native typed-array sort) and merging the two sorted arrays, so it
 * is O(n log n) without a comparator, and ties across the sides fall on one threshold as in scikit-learn.
 */
function binaryCurve(positive: Float64Array, negative: Float64Array): BinaryCurve {
  const pos = positive.slice().sort();
  const neg = negative.slice().sort();
  const n = pos.length + neg.length;
  const tps = new Float64Array(n);
  const fps = new Float64Array(n);
  const thresholds = new Float64Array(n);
  let i = pos.length - 1;
  let j = neg.length - 1;
  let tp = 0;
  let fp = 0;
  let k = 0;
  while (i >= 0 || j >= 0) {
    const value = Math.max(i >= 0 ? pos[i] : -Infinity, j >= 0 ? neg[j] : -Infinity);
    while (i >= 0 && pos[i] === value) {
      tp++;
      i--;
    }
    while (j >= 0 && neg[j] === value) {
      fp++;
      j--;
    }
    tps[k] = tp;
    fps[k] = fp;
    thresholds[k] = value;
    k++;
  }
  return { tps: tps.subarray(0, k), fps: fps.subarray(0, k), thresholds: thresholds.subarray(0, k), positives: pos.length, negatives: neg.length };
}

/** Trapezoidal area under y(x), for x monotone (either direction), as scikit-learn's `auc`. */
function trapezoid(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let area = 0;
  for (let i = 1; i < x.length; i++) area += ((x[i] - x[i - 1]) * (y[i] + y[i - 1])) / 2;
  return Math.abs(area);
}

/** The two sides as positives and negatives; negating flips "higher = more ID" into "higher = more OOD". */
function sides(id: NumericArray, ood: NumericArray, positive: PositiveClass): [Float64Array, Float64Array] {
  const idScores = finiteArray('id scores', id);
  const oodScores = finiteArray('ood scores', ood);
  requireOneOf('positive', positive, ['id', 'ood'] as const, MoonMetricError);
  return positive === 'id' ? [idScores, oodScores] : [oodScores.map((v) => -v), idScores.map((v) => -v)];
}

/**
 * Area under the ROC curve of separating in-distribution from OOD samples by score (higher = more ID), with
 * scikit-learn's `roc_curve` + `auc` semantics: one ROC point per distinct score, ties counted as half. 1 is
 * perfect separation, 0.5 chance. The value does not depend on which side is called positive.
 * @param id scores of in-distribution samples
 * @param ood scores of out-of-distribution samples
 */
export function auroc(id: NumericArray, ood: NumericArray): number {
  return aurocOf(binaryCurve(...sides(id, ood, 'id')));
}

function aurocOf(curve: BinaryCurve): number {
  const roc = rocOf(curve);
  return trapezoid(roc.fpr, roc.tpr);
}

/** The ROC curve's points from (0, 0): one per distinct score, as scikit-learn's `roc_curve(drop_intermediate=False)`. */
function rocOf(curve: BinaryCurve): RocCurve {
  const n = curve.tps.length;
  const fpr = new Float64Array(n + 1);
  const tpr = new Float64Array(n + 1);
  const thresholds = new Float64Array(n + 1);
  thresholds[0] = Infinity;
  for (let k = 0; k < n; k++) {
    fpr[k + 1] = curve.fps[k] / curve.negatives;
    tpr[k + 1] = curve.tps[k] / curve.positives;
    thresholds[k + 1] = curve.thresholds[k];
  }
  return { fpr, tpr, thresholds };
}

/** A ROC curve: false- and true-positive rates at descending score thresholds, starting at (0, 0). */
export interface RocCurve {
  readonly fpr: Float64Array;
  readonly tpr: Float64Array;
  /** The score at or above which samples are called positive; the first is +∞ (nothing positive). */
  readonly thresholds: Float64Array;
}

/**
 * The ROC curve of separating `id` from `ood` scores, ID positive (higher = more in-distribution): one point per
 * distinct score, ties on one point, from (0, 0) to (1, 1) — the curve {@link auroc} integrates with trapezoids, so
 * draw it with straight segments (linear interpolation), not steps.
 */
export function rocCurve(id: NumericArray, ood: NumericArray): RocCurve {
  return rocOf(binaryCurve(...sides(id, ood, 'id')));
}

/** A precision-recall curve, from the threshold of full recall to the appended point (recall 0, precision 1). */
export interface PrCurve {
  readonly recall: Float64Array;
  readonly precision: Float64Array;
}

/**
 * The precision-recall curve that {@link aupr} integrates (trapezoids, recall descending to 0).
 * @param options.positive 'id' (default) or 'ood' (OOD samples positive, ranked by −score)
 */
export function prCurve(id: NumericArray, ood: NumericArray, options: { positive?: PositiveClass } = {}): PrCurve {
  return prOf(binaryCurve(...sides(id, ood, options.positive ?? 'id')));
}

function prOf(curve: BinaryCurve): PrCurve {
  const last = curve.tps.indexOf(curve.positives); // first threshold with full recall
  const recall = new Float64Array(last + 2);
  const precision = new Float64Array(last + 2);
  for (let k = last, i = 0; k >= 0; k--, i++) {
    recall[i] = curve.tps[k] / curve.positives;
    precision[i] = curve.tps[k] / (curve.tps[k] + curve.fps[k]);
  }
  precision[last + 1] = 1; // recall 0
  return { recall, precision };
}

/**
 * Area under the precision-recall curve (trapezoidal, not average precision), as scikit-learn 0.24's
 * `precision_recall_curve` + `auc`: the curve runs from the threshold of full recall to the appended point
 * (recall 0, precision 1).
 * @param options.positive 'id' (AUPR-In, default): ID samples are the positives, ranked by score; 'ood'
 *   (AUPR-Out): OOD samples are the positives, ranked by −score.
 */
export function aupr(id: NumericArray, ood: NumericArray, options: { positive?: PositiveClass } = {}): number {
  return auprOf(binaryCurve(...sides(id, ood, options.positive ?? 'id')));
}

function auprOf(curve: BinaryCurve): number {
  const pr = prOf(curve);
  return trapezoid(pr.recall, pr.precision);
}

/**
 * Which ROC points FPR@TPR searches: 'full', every distinct score (the default); 'thinned', the points scikit-learn's
 * `roc_curve(drop_intermediate=True)` keeps (collinear intermediate points dropped), which is what the reference
 * evaluator reads FPR@95 from. AUROC is the same on both.
 */
export type RocPoints = 'full' | 'thinned';

/** Options of {@link fprAtTpr}. */
export interface FprOptions {
  /** 'id' (default): ID samples are the positives; 'ood': OOD samples are, ranked by −score. */
  positive?: PositiveClass;
  /** The ROC points searched: 'full' (default) or 'thinned' (the reference evaluator's; see {@link RocPoints}). */
  roc?: RocPoints;
}

/**
 * False-positive rate at the first ROC point (scores descending) whose true-positive rate reaches `tpr`. With the
 * default `positive: 'id'` this is FPR@95TPR: the fraction of OOD samples accepted when at least 95% of the ID
 * samples are. With `positive: 'ood'`: the fraction of ID samples rejected when at least `tpr` of the OOD samples
 * are. On the full curve (default) every distinct score is a point; the reference evaluator reads it from the
 * thinned curve (`roc: 'thinned'`), which gives a higher value where the first point past `tpr` lies inside a run of
 * collinear points (long runs of tied or alternating scores).
 * @param tpr the target true-positive rate, in (0, 1]
 */
export function fprAtTpr(id: NumericArray, ood: NumericArray, tpr = 0.95, options: FprOptions = {}): number {
  if (typeof tpr !== 'number' || !(tpr > 0 && tpr <= 1)) {
    throw new MoonMetricError(`the target TPR must be a number in (0, 1], got ${tpr}: e.g. 0.95 for FPR@95TPR`);
  }
  const roc = requireOneOf('roc', options.roc ?? 'full', ['full', 'thinned'] as const, MoonMetricError);
  return fprOf(binaryCurve(...sides(id, ood, options.positive ?? 'id')), tpr, roc);
}

/**
 * **Our FPR@95** (the common convention, and the `fpr95` of every report): the fraction of OOD samples *accepted* when
 * the threshold keeps `tpr` (default 95%) of the ID samples. The same as `fprAtTpr(id, ood, tpr)`. Not OpenOOD's
 * FPR@95, which is {@link idRejectedAtOodTpr}.
 */
export function oodAcceptedAtIdTpr(id: NumericArray, ood: NumericArray, tpr = 0.95, options: { roc?: RocPoints } = {}): number {
  return fprAtTpr(id, ood, tpr, { roc: options.roc, positive: 'id' });
}

/**
 * **OpenOOD's FPR@95** (`fpr_recall` in its `metrics.py`, its issue #308): the fraction of ID samples *rejected* when
 * the threshold catches `tpr` (default 95%) of the OOD samples. OpenOOD reads it from scikit-learn's thinned ROC
 * curve: pass `roc: 'thinned'` to match its figures exactly. Not our FPR@95, which is {@link oodAcceptedAtIdTpr}.
 */
export function idRejectedAtOodTpr(id: NumericArray, ood: NumericArray, tpr = 0.95, options: { roc?: RocPoints } = {}): number {
  return fprAtTpr(id, ood, tpr, { roc: options.roc, positive: 'ood' });
}

/**
 * The indices of the curve points scikit-learn's `drop_intermediate=True` keeps: the first, the last, and every
 * point where the curve bends (a nonzero second difference of fps or tps).
 */
function thinnedPoints(curve: BinaryCurve): number[] {
  const n = curve.tps.length;
  if (n <= 2) return Array.from({ length: n }, (_, k) => k);
  const bends = (a: Float64Array, k: number) => a[k + 1] - 2 * a[k] + a[k - 1] !== 0;
  const kept = [0];
  for (let k = 1; k < n - 1; k++) if (bends(curve.fps, k) || bends(curve.tps, k)) kept.push(k);
  kept.push(n - 1);
  return kept;
}

function fprOf(curve: BinaryCurve, tpr: number, roc: RocPoints = 'full'): number {
  const points = roc === 'thinned' ? thinnedPoints(curve) : curve.tps.keys();
  for (const k of points) {
    if (curve.tps[k] / curve.positives >= tpr) return curve.fps[k] / curve.negatives;
  }
  return 1; // unreachable: the last point has TPR 1
}

/** @deprecated 0.1 name of {@link OodMetricValues}, the one type of the four OOD metrics (kept for one release). */
export type OodMetrics = OodMetricValues;

/**
 * AUROC, AUPR-In, AUPR-Out and FPR@95TPR of separating `id` from `ood` scores (higher = more in-distribution).
 * @param options.roc the ROC points FPR@95 is read from: 'full' (default) or 'thinned' (the reference evaluator's)
 */
export function oodMetrics(id: NumericArray, ood: NumericArray, options: { roc?: RocPoints } = {}): OodMetricValues {
  const roc = requireOneOf('roc', options.roc ?? 'full', ['full', 'thinned'] as const, MoonMetricError);
  const idPositive = binaryCurve(...sides(id, ood, 'id')); // each side is validated and sorted once per curve
  const oodPositive = binaryCurve(...sides(id, ood, 'ood'));
  return { auroc: aurocOf(idPositive), auprIn: auprOf(idPositive), auprOut: auprOf(oodPositive), fpr95: fprOf(idPositive, 0.95, roc) };
}
