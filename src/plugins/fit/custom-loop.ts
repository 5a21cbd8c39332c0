import * as tf from '@tensorflow/tfjs';
import { MoonConfigError } from '../../core/errors';
import type { FitPlan } from './fit-plan';

/** What one step of a custom loop runs: `model.trainOnBatch`, or `optimizer.minimize(…, true)`; its loss comes back. */
export type LoopStep = () => tf.Scalar | number | number[] | null | Promise<tf.Scalar | number | number[] | null>;

/** The callback calls `model.fit` makes, which a custom loop makes in the same order around each step. */
type LoopCallback = tf.Callback | tf.CustomCallback;

/**
 * Drives callbacks through a custom training loop as `model.fit` would: `setModel`, `setParams` and `onTrainBegin`
 * before the first step, `onEpochBegin` before the first batch of each epoch, `onBatchBegin` / `onBatchEnd` around
 * every step, `onEpochEnd` after the last batch of an epoch (`stepsPerEpoch`) and `onTrainEnd` after the last epoch.
 * Epochs and batches are counted from the optimizer's step counter, so a loop resumed from a checkpoint continues
 * its schedule. It owns only whether a run has begun and the losses of the current epoch.
 */
export class CustomLoop {
  private running = false;
  private epochLosses: number[] = [];

  /**
   * @param model the kit's model, compiled with the kit's optimizer (the callbacks read it from `model.optimizer`)
   * @param callbacks the kit's callbacks, then the user's
   * @param plan the epochs and steps per epoch of the kit
   */
  constructor(
    private readonly model: tf.LayersModel,
    private readonly callbacks: readonly LoopCallback[],
    private readonly plan: FitPlan,
  ) {}

  /**
   * Runs one optimizer step inside the callbacks: `run` must take exactly one step of the kit's optimizer.
   * @param size the batch size, reported to the callbacks' batch logs
   * @returns the step's loss
   */
  async step(run: LoopStep, size: number): Promise<number> {
    const completed = this.optimizerSteps();
    const epoch = Math.floor(completed / this.plan.stepsPerEpoch);
    const batch = completed % this.plan.stepsPerEpoch;
    if (epoch >= this.plan.epochs) {
      throw new MoonConfigError(
        `the kit was created for ${this.plan.epochs} epochs of ${this.plan.stepsPerEpoch} steps and its optimizer has taken ${completed}: ` +
          'its schedules end there; create the kit with more epochs (or stepsPerEpoch) for a longer loop',
      );
    }
    try {
      if (!this.running) await this.begin(epoch);
      if (batch === 0) await this.each((c) => c.onEpochBegin(epoch));
      await this.each((c) => c.onBatchBegin(batch, { batch, size }));
      const loss = await lossOf(await run());
      if (this.optimizerSteps() !== completed + 1) {
        throw new MoonConfigError(
          `a custom-loop step must take exactly one step of the kit's optimizer; this one took ${this.optimizerSteps() - completed}: ` +
            'run model.trainOnBatch(x, y) or model.optimizer.minimize(lossFn, true) once inside it',
        );
      }
      await this.each((c) => c.onBatchEnd(batch, { batch, size, loss }));
      this.epochLosses.push(loss);
      if (batch === this.plan.stepsPerEpoch - 1) await this.endEpoch(epoch);
      return loss;
    } catch (error) {
      // As a fit that throws: the run ends here; the next step begins a new one (its checks run again).
      await this.end();
      throw error;
    }
  }

  /**
   * One step of `model.trainOnBatch(x, y)` inside the callbacks: what `model.fit` would do for this batch.
   * @returns the step's loss (the first one for a model with several outputs)
   */
  async trainOnBatch(x: tf.Tensor | tf.Tensor[], y: tf.Tensor | tf.Tensor[]): Promise<number> {
    const first = Array.isArray(x) ? x[0] : x;
    return this.step(() => this.model.trainOnBatch(x, y), first.shape[0]);
  }

  private async begin(epoch: number): Promise<void> {
    this.running = true;
    this.epochLosses = [];
    const params = { epochs: this.plan.epochs, initialEpoch: epoch, steps: this.plan.stepsPerEpoch, samples: null, batchSize: null, verbose: 0, doValidation: false, metrics: ['loss'] };
    for (const c of this.callbacks) {
      c.setModel(this.model);
      c.setParams(params as unknown as tf.CustomCallbackArgs & tf.Logs);
    }
    await this.each((c) => c.onTrainBegin());
  }

  private async endEpoch(epoch: number): Promise<void> {
    const loss = this.epochLosses.reduce((s, l) => s + l, 0) / this.epochLosses.length;
    this.epochLosses = [];
    await this.each((c) => c.onEpochEnd(epoch, { loss }));
    if (epoch === this.plan.epochs - 1 || this.model.stopTraining) await this.end();
  }

  private async end(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.epochLosses = [];
    await this.each((c) => c.onTrainEnd());
  }

  private async each(call: (c: LoopCallback) => Promise<void> | void): Promise<void> {
    for (const c of this.callbacks) await call(c);
  }

  private optimizerSteps(): number {
    const optimizer = this.model.optimizer as (tf.Optimizer & { iterations?: number }) | undefined;
    if (optimizer === undefined || typeof optimizer.iterations !== 'number') {
      throw new MoonConfigError(
        "a custom loop needs the model compiled with the kit's optimizer: model.compile({ optimizer: kit.optimizer('adam'), loss: kit.loss })",
      );
    }
    return optimizer.iterations;
  }
}

/** The loss a step returned, read asynchronously (a scalar is disposed after its read). */
async function lossOf(result: tf.Scalar | number | number[] | null): Promise<number> {
  if (typeof result === 'number') return result;
  if (Array.isArray(result)) return result[0];
  if (result instanceof tf.Tensor) {
    const value = (await result.data())[0];
    result.dispose();
    return value;
  }
  throw new MoonConfigError('a custom-loop step must return its loss: return model.trainOnBatch(x, y), or optimizer.minimize(lossFn, true) with returnCost true');
}
