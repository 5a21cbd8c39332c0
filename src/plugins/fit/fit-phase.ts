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
 */
export class FitPhase {
  inTrainingStep = false;
  announcedStep = -1;
}

/** The 0-based epoch that optimizer step `completedSteps` (steps done so far) falls in. */
export function epochOfStep(completedSteps: number, stepsPerEpoch: number): number {
  return Math.floor(completedSteps / stepsPerEpoch);
}
