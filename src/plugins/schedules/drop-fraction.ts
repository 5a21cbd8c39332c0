/** How the drop fraction decays between the first and the last mask update. */
export type DropFractionDecay = 'cosine' | 'linear' | 'constant';

/** The schedule of mask updates, in optimizer steps (1-based: step t is the t-th optimizer step of the run). */
export interface MaskSchedule {
  /** Updates happen at startStep + interval, startStep + 2·interval, … */
  readonly interval: number;
  readonly startStep: number;
  /** No update after this step. */
  readonly endStep: number;
  /** Drop fraction at startStep. */
  readonly dropFraction: number;
  readonly decay: DropFractionDecay;
  /**
   * Steps over which the decay runs from its initial value to 0; defaults to endStep − startStep (RigL). After
   * the horizon the fraction stays at its value one step before it (the reference code's CosineDecay).
   */
  readonly decayHorizon?: number;
}

/** Whether step `step` (1-based) is a mask-update step under `schedule`. */
export function isMaskUpdateStep(step: number, schedule: MaskSchedule): boolean {
  return step > schedule.startStep && step <= schedule.endStep && (step - schedule.startStep) % schedule.interval === 0;
}

/** The drop fraction at `step`: cosine (RigL's default), linear or constant decay from `dropFraction` to 0. */
export function dropFractionAt(step: number, schedule: MaskSchedule): number {
  const horizon = schedule.decayHorizon ?? schedule.endStep - schedule.startStep;
  if (schedule.decay === 'constant' || horizon <= 0) return schedule.dropFraction;
  const elapsed = Math.max(step - schedule.startStep, 0);
  const progress = Math.min(elapsed, horizon - 1) / horizon; // frozen at r(horizon − 1) after the horizon

  if (schedule.decay === 'linear') return schedule.dropFraction * (1 - progress);
  return (schedule.dropFraction * (1 + Math.cos(Math.PI * progress))) / 2;
}
