import * as tf from '@tensorflow/tfjs';
import { MoonTrainingError } from '../core/errors';
import type { NonFiniteLossWatch } from '../plugins/fit/loss-watch';

/**
 * Stops training with a {@link MoonTrainingError} when the loss becomes NaN or infinite. Each batch's loss goes to
 * the {@link NonFiniteLossWatch} (no per-batch read); once per epoch, before any later callback of that epoch, it
 * asks the watch: a checkpoint callback placed after the kit's callbacks never writes a diverged model, so the last
 * checkpoint stays intact.
 */
export class NanGuardCallback extends tf.Callback {
  constructor(private readonly watch: NonFiniteLossWatch) {
    super();
  }

  override async onTrainBegin(): Promise<void> {
    this.watch.reset();
  }

  override async onBatchEnd(_batch: number, logs?: tf.Logs): Promise<void> {
    this.watch.record(logs?.loss as unknown, this.model.optimizer?.iterations ?? 0);
  }

  override async onEpochEnd(epoch: number): Promise<void> {
    const step = await this.watch.firstNonFiniteStep();
    if (step < 0) return;
    this.model.stopTraining = true;
    throw new MoonTrainingError(
      `the loss became NaN or infinite at optimizer step ${step} (epoch ${epoch + 1}); training stopped before any later ` +
        'callback of this epoch (the last checkpoint is intact). Likely causes: a learning rate too high for this model ' +
        '(try 10× lower), inputs with NaN or unscaled values, or tuner.alphaFinal too large',
    );
  }
}
