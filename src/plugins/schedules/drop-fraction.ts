import type { MaskSchedule } from '../../core/types';

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
