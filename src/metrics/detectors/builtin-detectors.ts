import { dice, ash, react, scale } from './activation-shaping';
import { mahalanobis, rmds } from './class-gaussian';
import type { DetectorMethod } from './detector-method';
import { fdbd } from './fdbd';
import { knn } from './knn';
import { energy, gen, knownMass, maxLogit, moon, msp, temperature } from './logit-detectors';
import { vim } from './vim';

/** The detectors `fitDetector` knows by name, in OpenOOD's order, then MOON's two. */
export const BUILTIN_DETECTORS: Readonly<Record<string, DetectorMethod<never>>> = Object.fromEntries(
  [msp, temperature, energy, maxLogit, gen, react, scale, ash, dice, knn, mahalanobis, rmds, vim, fdbd, knownMass, moon].map((m) => [m.name, m as DetectorMethod<never>]),
);
