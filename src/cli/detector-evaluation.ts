import * as tf from '@tensorflow/tfjs';
import { DETECTORS, RECOMMENDED_DETECTOR, fitDetector, idRejectedAtOodTpr, oodMetrics, randomPermutation, SeededRandom, type OodMetrics, type RocPoints } from 'tfjs-moon';
import { CliError } from './cli-error';

/**
 * The detectors a run scores with, from 'all', 'recommended' (RECOMMENDED_DETECTOR) or a comma-separated list
 * ('knn, vim'); typed error on an unknown name. MOON's two (knownMass, moon) read the unknown output and are left
 * out of a base run.
 */
export function detectorNames(spec: string, unknownAware: boolean): string[] {
  const named = (n: string) => (n === 'recommended' ? RECOMMENDED_DETECTOR.name : n);
  const names = spec.trim() === 'all' ? [...DETECTORS] : [...new Set(spec.split(',').map((n) => named(n.trim())).filter((n) => n !== ''))];
  if (names.length === 0) throw new CliError(`--detectors: expected 'all' or a list such as knn,vim; got ${JSON.stringify(spec)}`, 2);
  const unknown = names.filter((n) => !DETECTORS.includes(n));
  if (unknown.length > 0) throw new CliError(`--detectors: unknown ${unknown.join(', ')}; the detectors are ${DETECTORS.join(', ')} (or all, or recommended)`, 2);
  // knownMass and moon read the unknown output: a base run has none, so they are left out (not an error with 'all').
  return names.filter((n) => unknownAware || (n !== 'knownMass' && n !== 'moon'));
}

/** One detector's figures on one OOD set. */
export interface DetectorOodFigures extends OodMetrics {
  /** OpenOOD's FPR@95: the fraction of ID test samples rejected when 95% of this set is caught. */
  idRejectedAt95: number;
  /** The fraction of this set accepted at the threshold calibrated on the calibration split (the decision's real FPR). */
  oodAccepted: number;
}

/** What one detector gave on one run. */
export interface DetectorFigures {
  /** The threshold calibrated at 95% TPR on the calibration split. */
  threshold: number;
  /** The fraction of the evaluation split at or above it (≈ 0.95 if the calibration split is representative). */
  idAccepted: number;
  ood: Record<string, DetectorOodFigures>;
  /** Fitting (features of the training set and the statistics) and scoring every set, in seconds. */
  fitSeconds: number;
  scoreSeconds: number;
}

/** The data a detector evaluation needs, as tensors in the model's input layout. */
export interface DetectorData {
  readonly train: { x: tf.Tensor; labels: Int32Array };
  readonly test: { x: tf.Tensor; labels: Int32Array };
  readonly ood: ReadonlyArray<{ name: string; x: tf.Tensor }>;
}

/**
 * Splits the ID test set in two by a seeded permutation: the first half calibrates thresholds (and fits the
 * temperature), the second is what every detector, MSP included, is measured on. The detectors are fitted on the
 * training split, so no score is measured on data it was fitted on.
 */
export function calibrationSplit(count: number, seed: number): { calibration: Int32Array; evaluation: Int32Array } {
  const order = randomPermutation(count, new SeededRandom(seed * 7919 + 17));
  const half = Math.floor(count / 2);
  return { calibration: order.slice(0, half).sort(), evaluation: order.slice(half).sort() };
}

/** Fits, calibrates and measures every named detector on a trained model; asynchronous reads only, no leaks. */
export async function evaluateDetectors(
  names: readonly string[], model: tf.LayersModel, numClasses: number, data: DetectorData, options: { seed: number; roc?: RocPoints; onDetector?: (name: string) => void },
): Promise<Record<string, DetectorFigures>> {
  const split = calibrationSplit(data.test.x.shape[0], options.seed);
  const pick = (indices: Int32Array) => tf.tidy(() => tf.gather(data.test.x, tf.tensor1d(indices, 'int32')));
  const xCalibration = pick(split.calibration);
  const xEvaluation = pick(split.evaluation);
  const calibrationLabels = Array.from(split.calibration, (i) => data.test.labels[i]);
  const out: Record<string, DetectorFigures> = {};
  try {
    for (const name of names) {
      options.onDetector?.(name);
      let started = Date.now();
      // The temperature is fitted by NLL on held-out labelled data (its method), the others on the training split.
      const fitOn = name === 'temperature' ? { x: xCalibration, labels: calibrationLabels } : { x: data.train.x, labels: data.train.labels };
      const detector = await fitDetector(name, { model, numClasses, batchSize: 512, ...fitOn });
      const fitSeconds = (Date.now() - started) / 1000;
      started = Date.now();
      try {
        const threshold = await detector.calibrate(xCalibration, { tpr: 0.95 });
        const id = await detector.score(xEvaluation);
        const ood: Record<string, DetectorOodFigures> = {};
        for (const set of data.ood) {
          const scores = await detector.score(set.x);
          ood[set.name] = {
            ...oodMetrics(id, scores, { roc: options.roc }),
            idRejectedAt95: idRejectedAtOodTpr(id, scores, 0.95, { roc: options.roc }),
            oodAccepted: scores.filter((s) => s >= threshold).length / scores.length,
          };
        }
        out[name] = { threshold, idAccepted: id.filter((s) => s >= threshold).length / id.length, ood, fitSeconds, scoreSeconds: (Date.now() - started) / 1000 };
      } finally {
        detector.dispose();
      }
    }
  } finally {
    tf.dispose([xCalibration, xEvaluation]);
  }
  return out;
}
