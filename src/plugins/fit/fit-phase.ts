/**
 * What a kit knows about the `model.fit` in progress, shared by the optimizer wrapper (which sees every training
 * step), the loss and the kit's callbacks. One instance per kit; nothing else holds this state.
 *
 * - `inTrainingStep` is true only while the wrapper computes a training step's gradients. tfjs-layers runs
 *   validation (`validationData`/`validationSplit`) inside the last training batch, before `onBatchEnd`, so batch
 *   callbacks cannot tell training from validation batches; the gradient computation can.
 * - `callbacksAttached` is true between the kit's `onTrainBegin` and `onTrainEnd`: a wrapper step without it means
 *   the user forgot `kit.callbacks`.
 */
export class FitPhase {
  inTrainingStep = false;
  callbacksAttached = false;
}

/** The 0-based epoch that optimizer step `completedSteps` (steps done so far) falls in. */
export function epochOfStep(completedSteps: number, stepsPerEpoch: number): number {
  return Math.floor(completedSteps / stepsPerEpoch);
}
