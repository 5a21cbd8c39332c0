import type { LearningRateScheduleInput } from '../../core/types';

/**
 * The learning-rate multiplier at optimizer step `step` (0-based, every step counted, mask-update steps included):
 * a cosine from `startMultiplier` to `endMultiplier` over the first (epochs − constantEpochs) · stepsPerEpoch steps,
 * then `endMultiplier` (the reference's `lr_tmp`).
 */
export function learningRateMultiplier(step: number, s: LearningRateScheduleInput): number {
  const cosineEpochs = s.epochs - s.constantEpochs;
  const [start, end] = 'startMultiplier' in s ? [s.startMultiplier, s.endMultiplier] : [s.start, s.end];
  if (Math.floor(step / s.stepsPerEpoch) >= cosineEpochs) return end;
  return end + (start - end) * 0.5 * (1 + Math.cos((Math.PI * step) / (cosineEpochs * s.stepsPerEpoch)));
}
