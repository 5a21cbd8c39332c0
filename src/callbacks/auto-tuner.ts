import * as tf from '@tensorflow/tfjs';
import type { MoonEventBus } from '../core/events';
import type { AlphaSchedule } from '../plugins/moon/alpha-schedule';
import { epochOfStep } from '../plugins/schedules/epochs';

/**
 * Drives the α ramp of the unknown-aware loss ({@link AlphaSchedule}): at each epoch's start it hands the schedule
 * the epoch the optimizer's step count is in (so one `fit` call per epoch follows the same ramp) and emits
 * `tuner:alpha`, reading two numbers only when someone listens.
 */
export class AutoTunerCallback extends tf.Callback {
  constructor(
    private readonly schedule: AlphaSchedule,
    private readonly events: MoonEventBus,
  ) {
    super();
  }

  override async onEpochBegin(): Promise<void> {
    const epoch = epochOfStep(this.model.optimizer.iterations, this.schedule.settings.stepsPerEpoch);
    const ramping = this.schedule.enterEpoch(epoch);
    if (ramping && this.events.listenerCount('tuner:alpha') > 0) this.events.emit('tuner:alpha', { epoch, ...(await this.schedule.read()) });
  }
}
