import * as tf from '@tensorflow/tfjs';
import { ownedVariable } from '../plugins/owned-variable';
import type { PartState } from '../plugins/state';
import { MoonConfigError } from '../errors';
import type { MoonEventBus } from '../events';
import type { MaskSet } from '../plugins/masks/mask-set';
import { findBatchNormLayers, refreshBatchNorm } from '../plugins/moon/batch-norm-refresh';
import { epochOfStep } from '../plugins/fit/fit-phase';

/**
 * When, within an averaging epoch of T batches, a snapshot is taken (k = max(1, floor(T / 10))):
 * - 'every-tenth' (recommended): after batches k, 2k, … — ten evenly spaced snapshots per epoch;
 * - 'first-tenth' (as released): after each of the first k batches. The reference code's
 *   `(train_step − 1) // ave_num == 0` averages the first 10% of every epoch, most likely for a `%`.
 */
export type SnapshotRule = 'every-tenth' | 'first-tenth';

/** The voter's settings. */
export interface VoterSettings {
  /** Snapshots are taken in the epochs firstEpoch … epochs − 1 (0-based). */
  readonly firstEpoch: number;
  readonly rule: SnapshotRule;
  /** Optimizer steps per epoch: a step's epoch and batch are derived from the optimizer's step count. */
  readonly stepsPerEpoch: number;
}

/** Whether the batch (0-based) of an epoch with `steps` batches is a snapshot under `rule`. */
export function isSnapshotBatch(batch: number, steps: number, rule: SnapshotRule): boolean {
  const k = Math.max(1, Math.floor(steps / 10));
  return rule === 'first-tenth' ? batch < k : (batch + 1) % k === 0 && (batch + 1) / k <= 10;
}

/** Data for the BatchNorm re-estimation pass of `finalize`. */
export interface FinalizeData {
  /** Training inputs (with the augmentation you train with, if any). */
  x: tf.Tensor;
  /** Samples per forward pass. Default 128. */
  batchSize?: number;
}

/**
 * The voting scheme: an equal-weight running mean of the model's trainable weights over snapshots taken in the
 * last averaging epochs, written into the model by {@link finalize}. Snapshots are copies; the live variables are
 * never kept or disposed. A step's epoch and batch come from the optimizer's step count, so one `fit` call per
 * epoch (without `initialEpoch`) averages the same snapshots as one long fit.
 */
export class SnapshotVoterCallback extends tf.Callback {
  private average: tf.Variable[] = [];
  private sources: tf.Variable[] = [];
  private count = 0;
  private finalized = false;

  constructor(
    readonly settings: VoterSettings,
    private readonly masks: MaskSet,
    private readonly events: MoonEventBus,
  ) {
    super();
  }

  /** Snapshots averaged so far. */
  get snapshots(): number {
    return this.count;
  }

  override async onBatchEnd(): Promise<void> {
    if (this.finalized) return;
    const step = this.model.optimizer.iterations - 1; // the 0-based step this batch took
    const { stepsPerEpoch, firstEpoch, rule } = this.settings;
    const epoch = epochOfStep(step, stepsPerEpoch);
    const batch = step - epoch * stepsPerEpoch;
    if (epoch < firstEpoch || !isSnapshotBatch(batch, stepsPerEpoch, rule)) return;
    this.snapshot();
    this.events.emit('voter:snapshot', { epoch, batch, count: this.count });
  }

  /** avg ← avg + (w − avg)/(n + 1), starting from a copy of the first snapshot. */
  private snapshot(): void {
    if (this.count === 0) {
      this.sources = this.model.trainableWeights.map((w) => w.read() as tf.Variable);
      this.average = this.sources.map((v) => ownedVariable(() => v.clone()));
    } else {
      const n = this.count;
      tf.tidy(() => this.average.forEach((avg, i) => avg.assign(tf.add(avg, tf.div(tf.sub(this.sources[i], avg), n + 1)))));
    }
    this.count++;
  }

  /**
   * Writes the averaged weights into the model, re-applies the masks, and re-estimates BatchNorm statistics from
   * one pass over `data` (required when the model has BatchNormalization layers, unless `refreshBatchNorm: false`).
   */
  async finalize(data?: tf.Tensor | FinalizeData, options: { refreshBatchNorm?: boolean } = {}): Promise<void> {
    if (this.finalized) throw new MoonConfigError('finalize() was already called: the averaged weights are in the model');
    if (this.count === 0) {
      throw new MoonConfigError(
        `finalize() before any snapshot: the voter averages the weights of epochs ${this.settings.firstEpoch} and later; ` +
          `call it after model.fit has run through them (or create the kit with voter: false)`,
      );
    }
    const batchNorm = findBatchNormLayers(this.model);
    const refresh = batchNorm.length > 0 && options.refreshBatchNorm !== false;
    const input = data instanceof tf.Tensor ? { x: data } : data;
    if (refresh && !(input?.x instanceof tf.Tensor)) {
      throw new MoonConfigError(
        `the model has ${batchNorm.length} BatchNormalization layer(s), whose statistics must be re-estimated for the ` +
          `averaged weights: pass the training inputs, kit.finalize(xTrain), or kit.finalize(undefined, { refreshBatchNorm: false })`,
      );
    }
    const batchSize = input?.batchSize ?? 128;
    if (refresh && (!Number.isInteger(batchSize) || batchSize < 1)) throw new MoonConfigError(`finalize: batchSize must be a positive integer, got ${batchSize}`);
    this.sources.forEach((v, i) => v.assign(this.average[i]));
    this.masks.applyToWeights();
    tf.dispose(this.average);
    this.average = [];
    this.finalized = true;
    const samples = refresh ? refreshBatchNorm(this.model, batchNorm, input!.x, batchSize) : 0;
    this.events.emit('voter:finalize', { snapshots: this.count, batchNormLayers: refresh ? batchNorm.length : 0, samples });
  }

  /** The running average (copies) and the snapshot count. */
  exportState(): PartState {
    return {
      tensors: Object.fromEntries(this.average.map((a, i) => [`average${i}`, a.clone()])),
      values: { count: this.count, finalized: this.finalized },
    };
  }

  /**
   * Restores what {@link exportState} saved; the averaged variables pair with `trainableWeights` of `model` in order.
   * @param model the model being trained (the callback's own model is set only when fit starts)
   */
  importState(state: PartState, model: tf.LayersModel): void {
    this.dispose();
    this.count = state.values.count as number;
    this.finalized = state.values.finalized === true;
    if (this.count > 0 && !this.finalized) {
      this.sources = model.trainableWeights.map((w) => w.read() as tf.Variable);
      this.average = this.sources.map((_, i) => ownedVariable(() => tf.clone(state.tensors[`average${i}`])));
    }
  }

  /** Frees the running average (if finalize never ran). */
  dispose(): void {
    tf.dispose(this.average);
    this.average = [];
  }
}
