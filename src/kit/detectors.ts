import type * as tf from '@tensorflow/tfjs';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { MoonConfigError } from '../core/errors';
import { requireName } from '../core/validate';
import { BUILTIN_DETECTORS } from '../metrics/detectors/builtin-detectors';
import type { DetectorMethod } from '../metrics/detectors/detector-method';
import type { Detector, DetectorJSON, DetectorOptions } from '../plugins/detectors/detector';
import { fitDetectorWith, loadDetectorWith, type FitDetectorOptions } from '../plugins/detectors/fit-detector';
import { tuneDetectorWith, type DetectorTuning, type TuneDetectorOptions } from '../plugins/detectors/tune-detector';

/** The built-in detectors' names: msp, temperature, energy, maxLogit, gen, react, scale, ash, dice, knn, mahalanobis, rmds, vim, fdbd, knownMass, moon. */
export const DETECTORS: readonly string[] = Object.freeze(Object.keys(BUILTIN_DETECTORS));

/**
 * The detector we recommend for sparse (and MOON) models, chosen by the detector benchmark in docs/RESULTS.md
 * ("Post-hoc OOD detectors"): the CLI and the demo use it. Fitted on the training set, no OOD data needed.
 */
export const RECOMMENDED_DETECTOR: Readonly<{ name: string; options: Readonly<Record<string, number | string>> }> = Object.freeze({ name: 'vim', options: Object.freeze({}) });

const detectorToken = (name: string): string => `tfjs-moon:detector:${name}`;

/**
 * Registers a detector under `name` (the same registry/DI pattern as sparsifiers), globally or in `target` (a
 * tsyringe container you pass as `fitDetector(name, { …, container })`). A built-in name cannot be replaced.
 * @example registerDetector('myScore', { name: 'myScore', needs: [], defaults: {}, fit: async () => ({}), score: (b) => tf.max(b.logits, 1) })
 */
export function registerDetector(name: string, method: DetectorMethod<DetectorOptions>, target: DependencyContainer = rootContainer): void {
  requireName('detector', name);
  if (name in BUILTIN_DETECTORS) throw new MoonConfigError(`"${name}" is a built-in detector: register yours under another name`);
  if (method === null || typeof method !== 'object' || typeof method.fit !== 'function' || typeof method.score !== 'function' || !Array.isArray(method.needs) || typeof method.defaults !== 'object') {
    throw new MoonConfigError(`registerDetector("${name}", …) needs a detector { needs, defaults, fit(data, options), score(batch, state, head, options) }`);
  }
  target.register<DetectorMethod<DetectorOptions>>(detectorToken(name), { useValue: method });
}

/** The detector called `name` in `target` (its registrations, those above it, then the built-ins). */
function detectorMethod(name: string, target: DependencyContainer): DetectorMethod<DetectorOptions> {
  const token = detectorToken(name);
  if (target.isRegistered(token, true)) return target.resolve<DetectorMethod<DetectorOptions>>(token);
  const builtin = (BUILTIN_DETECTORS as Record<string, DetectorMethod<DetectorOptions>>)[name];
  if (builtin === undefined) {
    throw new MoonConfigError(`unknown detector ${JSON.stringify(name)}: the built-in ones are ${DETECTORS.join(', ')}; register your own with registerDetector`);
  }
  return builtin;
}

/**
 * Fits a post-hoc OOD detector on a trained model and in-distribution data (the features are the input of the
 * model's last Dense layer; for a MOON model every detector uses the K known logits and rows of W).
 * @example
 * const detector = await fitDetector('knn', { model, x: xTrain, kit, k: 50 });
 * await detector.calibrate(xHeldOut, { tpr: 0.95 });
 * const { labels } = await detector.predict(x); // −1: "I don't know"
 */
export async function fitDetector(name: string, options: FitDetectorOptions & { container?: DependencyContainer; kit?: { numClasses: number; container?: DependencyContainer } }): Promise<Detector> {
  const { container, ...rest } = options;
  return fitDetectorWith(name, detectorMethod(name, container ?? options.kit?.container ?? rootContainer), rest as FitDetectorOptions);
}

/** A detector from `detector.toJSON()`, on the same model: its scores equal the original's. */
export async function loadDetector(json: DetectorJSON, model: tf.LayersModel, options: { container?: DependencyContainer; batchSize?: number } = {}): Promise<Detector> {
  if (json === null || typeof json !== 'object' || typeof json.name !== 'string') throw new MoonConfigError('loadDetector expects what detector.toJSON() wrote');
  return loadDetectorWith(json, detectorMethod(json.name, options.container ?? rootContainer), model, options.batchSize);
}

/**
 * Tunes a detector's hyper-parameters as OpenOOD does: fits it with every setting of `grid` (default: OpenOOD's grid
 * of the method) and keeps the one with the highest AUROC of held-out ID data `idVal` against **OOD data** `oodVal`.
 * This uses OOD samples, which `fitDetector`'s defaults never do: report tuned results as such.
 * @example
 * const { detector, options, trials } = await tuneDetector('knn', { model, x: xTrain, idVal, oodVal, kit });
 */
export async function tuneDetector(name: string, options: TuneDetectorOptions & { container?: DependencyContainer; kit?: { numClasses: number; container?: DependencyContainer } }): Promise<DetectorTuning> {
  const { container, ...rest } = options;
  return tuneDetectorWith(name, detectorMethod(name, container ?? options.kit?.container ?? rootContainer), rest as TuneDetectorOptions);
}
