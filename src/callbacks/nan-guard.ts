import * as tf from '@tensorflow/tfjs';
import { MoonTrainingError } from '../errors';
import { ownedVariable } from '../plugins/owned-variable';

/**
 * Stops training with a {@link MoonTrainingError} when the loss becomes NaN or infinite. It records, on the device,
 * the optimizer step of the first non-finite batch loss (no per-batch sync) and checks once per epoch, before any
 * later callback of that epoch: a checkpoint callback placed after the kit's callbacks never writes a diverged
 * model, so the last checkpoint stays intact.
 */
export class NanGuardCallback extends tf.Callback {
  /** The optimizer step (1-based, as in `mask:update`) of the first non-finite loss, −1 while none. */
  private readonly firstBadStep = ownedVariable(() => tf.scalar(-1)) as tf.Variable<tf.Rank.R0>;
  private hostBadStep = -1;

  /** Each fit starts clean: a diverged fit must not fail every later fit with the kit. */
  override async onTrainBegin(): Promise<void> {
    this.hostBadStep = -1;
    tf.tidy(() => this.firstBadStep.assign(tf.scalar(-1)));
  }

  override async onBatchEnd(_batch: number, logs?: tf.Logs): Promise<void> {
    const loss = logs?.loss as unknown;
    const step = this.model.optimizer?.iterations ?? 0;
    if (loss instanceof tf.Tensor) {
      tf.tidy(() => {
        const first = tf.logicalAnd(tf.logicalNot(tf.isFinite(loss)), tf.equal(this.firstBadStep, -1));
        this.firstBadStep.assign(tf.where(first, tf.scalar(step), this.firstBadStep) as tf.Scalar);
      });
    } else if (typeof loss === 'number' && !Number.isFinite(loss) && this.hostBadStep < 0) {
      this.hostBadStep = step; // a tf.CustomCallback earlier in the list already turned the logs into numbers
    }
  }

  override async onEpochEnd(epoch: number): Promise<void> {
    const step = this.hostBadStep >= 0 ? this.hostBadStep : (await this.firstBadStep.data())[0];
    if (step < 0) return;
    this.model.stopTraining = true;
    throw new MoonTrainingError(
      `the loss became NaN or infinite at optimizer step ${step} (epoch ${epoch + 1}); training stopped before any later ` +
        'callback of this epoch (the last checkpoint is intact). Likely causes: a learning rate too high for this model ' +
        '(try 10× lower), inputs with NaN or unscaled values, or tuner.alphaFinal too large',
    );
  }

  dispose(): void {
    this.firstBadStep.dispose();
  }
}
