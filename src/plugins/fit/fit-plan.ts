import { MoonConfigError } from '../../core/errors';
import { epochOfStep } from '../schedules/epochs';

/** The run a kit was created for: every schedule of the kit is laid out in these units. */
export interface FitPlan {
  readonly epochs: number;
  readonly stepsPerEpoch: number;
}

/** The part of tfjs-layers' callback `params` the check reads (`fit` sets them; `fitDataset` leaves some null). */
export interface FitParams {
  readonly epochs?: number | null;
  readonly initialEpoch?: number | null;
  readonly samples?: number | null;
  readonly steps?: number | null;
  readonly batchSize?: number | null;
  readonly doValidation?: boolean;
}

/** Steps per epoch of the fit described by `params`, where it can be known before the first batch. */
function stepsOfFit(params: FitParams): number | undefined {
  if (typeof params.steps === 'number') return params.steps;
  if (typeof params.samples === 'number' && typeof params.batchSize === 'number' && params.batchSize > 0) {
    return Math.ceil(params.samples / params.batchSize);
  }
  return undefined;
}

/**
 * Compares what a `fit` is about to do (its callback `params`) with the kit's plan, before any schedule is used.
 * Throws a {@link MoonConfigError} naming both values when the steps per epoch differ (a wrong `stepsPerEpoch`,
 * or `validationSplit` taking samples away) or when the fit would run past the planned epochs.
 * @param completedSteps optimizer steps already taken: the fit starts at the epoch they complete, whatever its
 *   `initialEpoch` (one `fit` call per epoch works without it)
 */
export function checkFitAgainstPlan(params: FitParams | undefined, plan: FitPlan, completedSteps: number): void {
  if (params === undefined) return;
  const steps = stepsOfFit(params);
  if (steps !== undefined && steps !== plan.stepsPerEpoch) {
    const how =
      typeof params.samples === 'number' && typeof params.batchSize === 'number'
        ? ` (ceil(${params.samples} training samples / batchSize ${params.batchSize})${params.doValidation ? ', after the validation split' : ''})`
        : '';
    throw new MoonConfigError(
      `this fit runs ${steps} steps per epoch${how} but the kit was created with stepsPerEpoch: ${plan.stepsPerEpoch}; ` +
        `mask updates, α, the learning rate and the averaging window are scheduled in steps: create the kit with stepsPerEpoch: ${steps}`,
    );
  }
  if (typeof params.epochs !== 'number') return;
  const fitEpochs = params.epochs - (params.initialEpoch ?? 0);
  const startEpoch = epochOfStep(completedSteps, plan.stepsPerEpoch);
  if (startEpoch + fitEpochs > plan.epochs) {
    throw new MoonConfigError(
      `this fit runs ${fitEpochs} epoch(s) from epoch ${startEpoch} (the kit's optimizer has taken ${completedSteps} steps), ` +
        `to epoch ${startEpoch + fitEpochs}, but the kit was created with epochs: ${plan.epochs}; its schedules end there: ` +
        `create the kit with epochs: ${startEpoch + fitEpochs}, or fit fewer epochs`,
    );
  }
}
