import type * as tf from '@tensorflow/tfjs';
import type { LearningRateSchedule } from '../../core/types';
import { learningRateMultiplier } from '../schedules/learning-rate';
import { MaskedOptimizer } from './masked-optimizer';
import { getOptimizerLearningRate, setOptimizerLearningRate } from './optimizer-slots';

/**
 * Sets an optimizer's learning rate to base × {@link learningRateMultiplier}(step), where base is the optimizer's
 * learning rate when the kit wrapped it and step is the optimizer's own step counter (so a resumed run continues).
 * Works for SGD/Momentum (`setLearningRate`) and Adam & co. (`learningRate` field).
 */
export class LearningRateDriver {
  private base: number | undefined;
  private current: number | undefined;

  constructor(readonly schedule: LearningRateSchedule) {}

  /** Takes the base rate from the optimizer the first time (the wrapper remembers the rate it was created with). */
  bind(optimizer: tf.Optimizer): void {
    this.base ??= optimizer instanceof MaskedOptimizer ? optimizer.baseLearningRate : getOptimizerLearningRate(optimizer);
    this.current = undefined;
  }

  /** The rate at 0-based step `step`, once bound. */
  rateAt(step: number): number | undefined {
    return this.base === undefined ? undefined : this.base * learningRateMultiplier(step, this.schedule);
  }

  /** Sets the rate for the optimizer's next step; the constant tail sets nothing. */
  apply(optimizer: tf.Optimizer): void {
    const learningRate = this.rateAt(optimizer.iterations);
    if (learningRate === undefined || learningRate === this.current) return;
    setOptimizerLearningRate(optimizer, learningRate);
    this.current = learningRate;
  }
}
