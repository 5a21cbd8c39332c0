import type { PruneSchedule } from '../../core/types';

/**
 * Whether optimizer step `step` (1-based) is a pruning step: beginStep, then every `frequency` steps, and endStep
 * itself (so the final counts are reached there whatever the frequency).
 */
export function isPruneStep(step: number, s: PruneSchedule): boolean {
  return step >= s.beginStep && step <= s.endStep && ((step - s.beginStep) % s.frequency === 0 || step === s.endStep);
}

/**
 * A layer's active count at `step` under the schedule (Zhu & Gupta 2017; TFMOT's `PolynomialDecay`): from
 * `initial` at beginStep to `final` at endStep, final + (initial − final)·(1 − progress)^power, rounded; a
 * constant schedule is at `final` from beginStep on. Never above `initial`.
 */
export function prunedCount(step: number, s: PruneSchedule, initial: number, final: number): number {
  if (step < s.beginStep) return initial;
  if (s.kind === 'constant' || step >= s.endStep) return final;
  const progress = (step - s.beginStep) / (s.endStep - s.beginStep);
  return Math.min(initial, Math.round(final + (initial - final) * (1 - progress) ** s.power));
}
