import * as tf from '@tensorflow/tfjs';
import type { MoonEventBus } from '../events';
import { epochOfStep } from '../plugins/fit/fit-phase';
import { MaskedOptimizer } from '../plugins/optimizer/masked-optimizer';
import { getOptimizerLearningRate, setOptimizerLearningRate } from '../plugins/optimizer/optimizer-slots';

/** The learning-rate schedule of the reference (`lr_tmp`), as multipliers of the optimizer's initial rate. */
export interface LearningRateSchedule {
  /** Multiplier at step 0 (the reference's `lr_ini`, 1.2). */
  readonly start: number;
  /** Multiplier at the end of the cosine and during the constant tail (`lr_end`, 0.08). */
  readonly end: number;
  readonly epochs: number;
  readonly stepsPerEpoch: number;
  /** Epochs at the end of the run with the constant multiplier `end` (the averaging epochs). */
  readonly constantEpochs: number;
}

/**
 * The multiplier at optimizer step `step` (0-based, every step counted, mask-update steps included): a cosine from
 * `start` to `end` over the first (epochs − constantEpochs) · stepsPerEpoch steps, then `end`.
 */
export function learningRateMultiplier(step: number, s: LearningRateSchedule): number {
  const cosineEpochs = s.epochs - s.constantEpochs;
  if (Math.floor(step / s.stepsPerEpoch) >= cosineEpochs) return s.end;
  return s.end + (s.start - s.end) * 0.5 * (1 + Math.cos((Math.PI * step) / (cosineEpochs * s.stepsPerEpoch)));
}

/**
 * Sets the learning rate before every batch: base × {@link learningRateMultiplier}(step), where base is the
 * optimizer's learning rate when the kit wrapped it and step is the optimizer's own step counter (so a resumed run
 * continues). Works for SGD/Momentum (`setLearningRate`) and Adam & co. (`learningRate` field). Emits `lr:update`
 * at the start of each epoch.
 */
export class LearningRateScheduleCallback extends tf.Callback {
  private base: number | undefined;
  private current: number | undefined;

  constructor(
    readonly schedule: LearningRateSchedule,
    private readonly events: MoonEventBus,
  ) {
    super();
  }

  override async onTrainBegin(): Promise<void> {
    const optimizer = this.model.optimizer;
    this.base ??= optimizer instanceof MaskedOptimizer ? optimizer.baseLearningRate : getOptimizerLearningRate(optimizer);
    this.current = undefined;
  }

  override async onEpochBegin(): Promise<void> {
    const step = this.model.optimizer.iterations;
    const learningRate = this.rateAt(step);
    if (learningRate !== undefined) this.events.emit('lr:update', { epoch: epochOfStep(step, this.schedule.stepsPerEpoch), learningRate });
  }

  override async onBatchBegin(): Promise<void> {
    const learningRate = this.rateAt(this.model.optimizer.iterations);
    if (learningRate === undefined || learningRate === this.current) return; // the constant tail sets nothing
    setOptimizerLearningRate(this.model.optimizer, learningRate);
    this.current = learningRate;
  }

  private rateAt(step: number): number | undefined {
    return this.base === undefined ? undefined : this.base * learningRateMultiplier(step, this.schedule);
  }
}
