import * as tf from '@tensorflow/tfjs';
import type { MoonEventBus } from '../core/events';
import type { LearningRateDriver } from '../plugins/optimizer/learning-rate-driver';
import { epochOfStep } from '../plugins/schedules/epochs';

/**
 * Schedules the learning rate: binds the {@link LearningRateDriver} to the fit's optimizer, has it set the rate
 * before every batch, and emits `lr:update` at the start of each epoch.
 */
export class LearningRateScheduleCallback extends tf.Callback {
  constructor(
    private readonly driver: LearningRateDriver,
    private readonly events: MoonEventBus,
  ) {
    super();
  }

  override async onTrainBegin(): Promise<void> {
    this.driver.bind(this.model.optimizer);
  }

  override async onEpochBegin(): Promise<void> {
    const step = this.model.optimizer.iterations;
    const learningRate = this.driver.rateAt(step);
    if (learningRate !== undefined) this.events.emit('lr:update', { epoch: epochOfStep(step, this.driver.schedule.stepsPerEpoch), learningRate });
  }

  override async onBatchBegin(): Promise<void> {
    this.driver.apply(this.model.optimizer);
  }
}
