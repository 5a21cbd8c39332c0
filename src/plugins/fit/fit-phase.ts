import * as tf from '@tensorflow/tfjs';
import type { NamedTensor } from '../optimizer/masked-optimizer';

/**
 * What a kit knows about the `model.fit` in progress, shared by the optimizer wrapper (which sees every training
 * step), the loss and the kit's callbacks. One instance per kit; nothing else holds this state.
 *
 * - `inTrainingStep` is true only while the wrapper computes a training step's gradients. tfjs-layers runs
 *   validation (`validationData`/`validationSplit`) inside the last training batch, before `onBatchEnd`, so batch
 *   callbacks cannot tell training from validation batches; the gradient computation can.
 * - `announcedStep` is the optimizer step (1-based) the kit's callbacks announced in their last `onBatchBegin`: a
 *   wrapper step that was not announced means `kit.callbacks` are not in this fit. (A flag set in `onTrainBegin`
 *   would not do: TF.js skips `onTrainEnd` when a fit throws, so it would outlive a failed fit.)
 * - `completedEpochs` is the `initialEpoch` of a fit that continues this one (a checkpoint's default next epoch).
 * - `pendingOptimizerState` holds a checkpoint's optimizer weights until the next fit starts (restoring slots is
 *   asynchronous in TF.js, so it cannot happen when the kit is created).
 */
export class FitPhase {
  inTrainingStep = false;
  announcedStep = -1;
  /** Whether `mask:init` was emitted (once per kit, at the start of its first fit). */
  initAnnounced = false;
  completedEpochs = 0;
  private pendingOptimizerState: NamedTensor[] | undefined;

  /** Keeps a checkpoint's optimizer weights for the next fit, and the epoch it continues at. */
  holdOptimizerState(weights: NamedTensor[], completedEpochs: number): void {
    this.pendingOptimizerState = weights;
    this.completedEpochs = completedEpochs;
  }

  /** Hands held optimizer weights (if any) to `optimizer`, once, and frees them. */
  async restoreOptimizerState(optimizer: tf.Optimizer): Promise<void> {
    const pending = this.pendingOptimizerState;
    if (pending === undefined) return;
    this.pendingOptimizerState = undefined;
    try {
      await optimizer.setWeights(pending);
    } finally {
      tf.dispose(pending.map((w) => w.tensor));
    }
  }

  /** Frees held optimizer weights that no fit took. */
  dispose(): void {
    if (this.pendingOptimizerState) tf.dispose(this.pendingOptimizerState.map((w) => w.tensor));
    this.pendingOptimizerState = undefined;
  }
}
