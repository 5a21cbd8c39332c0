import type { MaskSchedule } from '../../core/types';

/** Whether step `step` (1-based) is a mask-update step under `schedule`. */
export function isMaskUpdateStep(step: number, schedule: MaskSchedule): boolean {
  if (step <= schedule.startStep || step > schedule.endStep) return false;
  if (schedule.phase !== 'epoch') return (step - schedule.startStep) % schedule.interval === 0;
  const stepInEpoch = ((step - 1) % schedule.stepsPerEpoch!) + 1; // 1-based, as the reference's train_step
  return stepInEpoch % schedule.interval === 0;
}

/** How many of `active` weights an update at `step` drops (and regrows): the drop fraction, rounded as scheduled. */
export function dropCountAt(step: number, active: number, schedule: MaskSchedule): number {
  const exact = dropFractionAt(step, schedule) * active;
  return Math.min(active, schedule.dropRounding === 'ceil' ? Math.ceil(exact) : Math.floor(exact));
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
