import * as tf from '@tensorflow/tfjs';
import type { MoonEventBus } from '../core/events';
import type { LossStallWatch } from '../plugins/fit/loss-stall';
import { reportMaskWarning } from '../plugins/masks/mask-warnings';
import { epochOfStep } from '../plugins/schedules/epochs';

/**
 * Hands the batch losses of the plan's first epoch to the {@link LossStallWatch}, and at its end reports the watch's
 * verdict (`mask:warning`, kind `loss-stalled`, or one console line). One read of two scalars per run.
 */
export class LossStallCallback extends tf.Callback {
  /**
   * @param watch the kit's stall watch
   * @param stepsPerEpoch the kit's plan, to tell the epoch from the optimizer's steps (one fit per epoch works too)
   * @param events the kit's event bus
   */
  constructor(
    private readonly watch: LossStallWatch,
    private readonly stepsPerEpoch: number,
    private readonly events: MoonEventBus,
  ) {
    super();
  }

  override async onBatchEnd(_batch: number, logs?: tf.Logs): Promise<void> {
    if (this.watch.wants(this.epochOfLastStep())) this.watch.record(logs?.loss);
  }

  override async onEpochEnd(): Promise<void> {
    if (!this.watch.wants(this.epochOfLastStep())) return;
    const warning = await this.watch.verdict();
    if (warning) reportMaskWarning(this.events, warning);
  }

  /** The plan's epoch of the optimizer step just taken. */
  private epochOfLastStep(): number {
    return epochOfStep(Math.max(0, (this.model.optimizer?.iterations ?? 0) - 1), this.stepsPerEpoch);
  }
}
