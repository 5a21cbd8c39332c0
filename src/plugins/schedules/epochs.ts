/**
 * The 0-based epoch that optimizer step `completedSteps` (steps done so far) falls in. Every schedule of the kit
 * takes its epoch from here, not from `fit`'s own counter, so one `fit` call per epoch runs the same schedules as one
 * long fit.
 */
export function epochOfStep(completedSteps: number, stepsPerEpoch: number): number {
  return Math.floor(completedSteps / stepsPerEpoch);
}
