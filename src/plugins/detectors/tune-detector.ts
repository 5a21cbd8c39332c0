import * as tf from '@tensorflow/tfjs';
import { MoonConfigError } from '../../core/errors';
import type { DetectorMethod } from '../../metrics/detectors/detector-method';
import { auroc } from '../../metrics/ood-metrics';
import type { Detector, DetectorOptions } from './detector';
import { fitDetectorWith, type FitDetectorOptions } from './fit-detector';

/** The grid of a tuning run: the values to try per hyper-parameter (every combination is fitted). */
export type DetectorGrid = Readonly<Record<string, ReadonlyArray<number | string>>>;

/** The options of `tuneDetector`: those of `fitDetector`, plus the two validation sets and the grid. */
export interface TuneDetectorOptions extends FitDetectorOptions {
  /** Held-out in-distribution inputs the AUROC is measured on (not the data the detector is fitted on). */
  readonly idVal: tf.Tensor;
  /** A small set of **OOD** inputs: tuning uses OOD data, which the defaults never do. */
  readonly oodVal: tf.Tensor;
  /** The values to try (default: OpenOOD's grid of the method). Options not in the grid keep their given value or default. */
  readonly grid?: DetectorGrid;
}

/** One fitted setting of a tuning run and its AUROC on (idVal, oodVal). */
export interface DetectorTrial {
  readonly options: DetectorOptions;
  readonly auroc: number;
}

/** What `tuneDetector` returns: the detector of the best setting (yours to dispose) and every trial. */
export interface DetectorTuning {
  readonly detector: Detector;
  readonly options: DetectorOptions;
  readonly auroc: number;
  readonly trials: readonly DetectorTrial[];
}

/** Every combination of the grid's values, in the grid's order (the first key varies slowest). */
export function gridSettings(grid: DetectorGrid): DetectorOptions[] {
  let settings: DetectorOptions[] = [{}];
  for (const [key, values] of Object.entries(grid)) {
    if (!Array.isArray(values) || values.length === 0) throw new MoonConfigError(`tuneDetector: grid.${key} must be a non-empty array of values`);
    settings = settings.flatMap((s) => values.map((v) => ({ ...s, [key]: v })));
  }
  return settings;
}

/**
 * Fits `method` once per setting of the grid (OpenOOD's automatic parameter search), scores `idVal` against `oodVal`
 * and keeps the setting with the highest AUROC (the first on ties). Settings the data cannot take (KNN's k above the
 * sample count, ViM's dimensions at or above the feature width) are skipped; if none fits, the error says why.
 */
export async function tuneDetectorWith(name: string, method: DetectorMethod<DetectorOptions>, options: TuneDetectorOptions): Promise<DetectorTuning> {
  const { idVal, oodVal, grid, ...fitOptions } = options;
  for (const [label, set] of [['idVal', idVal], ['oodVal', oodVal]] as const) {
    if (!(set instanceof tf.Tensor) || set.shape[0] === 0) throw new MoonConfigError(`tuneDetector needs { ${label} }: a non-empty tensor (idVal: held-out ID inputs, oodVal: OOD inputs)`);
  }
  const chosen = grid ?? (method.grid as DetectorGrid | undefined) ?? {};
  const unknown = Object.keys(chosen).filter((key) => !(key in method.defaults));
  if (unknown.length > 0) throw new MoonConfigError(`tuneDetector("${name}"): the grid names ${unknown.join(', ')}, which the detector does not take; its options are ${Object.keys(method.defaults).join(', ') || 'none'}`);
  const settings = gridSettings(chosen);
  const trials: DetectorTrial[] = [];
  let best: { detector: Detector; trial: DetectorTrial } | undefined;
  let lastError: Error | undefined;
  try {
    for (const setting of settings) {
      let detector: Detector;
      try {
        detector = await fitDetectorWith(name, method, { ...fitOptions, ...setting });
      } catch (error) {
        if (!(error instanceof MoonConfigError) || Object.keys(setting).length === 0) throw error;
        lastError = error; // a setting this data cannot take: skip it
        continue;
      }
      const trial = await trialOf(detector, idVal, oodVal);
      trials.push(trial);
      if (best === undefined || trial.auroc > best.trial.auroc) {
        best?.detector.dispose();
        best = { detector, trial };
      } else detector.dispose();
    }
  } catch (error) {
    best?.detector.dispose(); // nothing is returned, so nothing stays allocated
    throw error;
  }
  if (best === undefined) throw new MoonConfigError(`tuneDetector("${name}"): no setting of the grid fits this data (${lastError?.message}); pass a grid`);
  return { detector: best.detector, options: best.trial.options, auroc: best.trial.auroc, trials };
}

/** Scores one fitted setting; the detector is disposed if scoring fails (the caller owns it otherwise). */
async function trialOf(detector: Detector, idVal: tf.Tensor, oodVal: tf.Tensor): Promise<DetectorTrial> {
  try {
    return { options: detector.options, auroc: auroc(await detector.score(idVal), await detector.score(oodVal)) };
  } catch (error) {
    detector.dispose();
    throw error;
  }
}
