import * as tf from '@tensorflow/tfjs';
import { MoonConfigError } from '../../core/errors';
import type { FinalizeData, PartState } from '../../core/types';
import { requireInteger } from '../../core/validate';
import type { MaskSet } from '../masks/mask-set';
import { ownedVariable } from '../owned-variable';
import { checkRefreshInput, findBatchNormLayers, refreshBatchNorm } from './batch-norm-refresh';

/** What {@link WeightAverage.finalize} did. */
export interface FinalizeResult {
  readonly snapshots: number;
  readonly batchNormLayers: number;
  readonly samples: number;
}

/**
 * The voting scheme's state: an equal-weight running mean of a model's trainable weights over snapshots, written
 * into the model by {@link finalize} (then the masks are re-applied and BatchNorm statistics re-estimated).
 * Snapshots are copies; the live variables are never kept or disposed.
 */
export class WeightAverage {
  private average: tf.Variable[] = [];
  private sources: tf.Variable[] = [];
  private count = 0;
  private finalized = false;

  /**
   * @param masks re-applied to the averaged weights
   * @param firstEpoch the first averaging epoch, for the error of a finalize before any snapshot
   */
  constructor(
    private readonly masks: MaskSet,
    private readonly firstEpoch: number,
  ) {}

  /** Snapshots averaged so far. */
  get snapshots(): number {
    return this.count;
  }

  /** Whether the average was already written into the model. */
  get isFinalized(): boolean {
    return this.finalized;
  }

  /** avg ← avg + (w − avg)/(n + 1), starting from a copy of the first snapshot. */
  add(model: tf.LayersModel): number {
    if (this.count === 0) {
      this.sources = model.trainableWeights.map((w) => w.read() as tf.Variable);
      this.average = this.sources.map((v) => ownedVariable(() => v.clone()));
    } else {
      const n = this.count;
      tf.tidy(() => this.average.forEach((avg, i) => avg.assign(tf.add(avg, tf.div(tf.sub(this.sources[i], avg), n + 1)))));
    }
    return ++this.count;
  }

  /**
   * Writes the averaged weights into the model, re-applies the masks, and re-estimates BatchNorm statistics from
   * one pass over `data` (required when the model has BatchNormalization layers, unless `refreshBatchNorm: false`).
   * Every argument is checked before a weight changes.
   */
  finalize(model: tf.LayersModel, data?: tf.Tensor | FinalizeData, options: { refreshBatchNorm?: boolean } = {}): FinalizeResult {
    if (this.finalized) throw new MoonConfigError('finalize() was already called: the averaged weights are in the model');
    if (this.count === 0) {
      throw new MoonConfigError(
        `finalize() before any snapshot: the voter averages the weights of epochs ${this.firstEpoch} and later; ` +
          `call it after model.fit has run through them (or create the kit with voter: false)`,
      );
    }
    const batchNorm = findBatchNormLayers(model);
    const refresh = batchNorm.length > 0 && options.refreshBatchNorm !== false;
    const input = data instanceof tf.Tensor ? { x: data } : data;
    if (refresh && !(input?.x instanceof tf.Tensor)) {
      throw new MoonConfigError(
        `the model has ${batchNorm.length} BatchNormalization layer(s), whose statistics must be re-estimated for the ` +
          `averaged weights: pass the training inputs, kit.finalize(xTrain), or kit.finalize(undefined, { refreshBatchNorm: false })`,
      );
    }
    const batchSize = refresh ? requireInteger('finalize: batchSize', input?.batchSize ?? 128, 1) : 0;
    if (refresh) checkRefreshInput(model, input!.x);
    this.sources.forEach((v, i) => v.assign(this.average[i]));
    this.masks.applyToWeights();
    tf.dispose(this.average);
    this.average = [];
    this.finalized = true;
    const samples = refresh ? refreshBatchNorm(model, batchNorm, input!.x, batchSize) : 0;
    return { snapshots: this.count, batchNormLayers: refresh ? batchNorm.length : 0, samples };
  }

  /** The running average (copies) and the snapshot count. */
  exportState(): PartState {
    return {
      tensors: Object.fromEntries(this.average.map((a, i) => [`average${i}`, a.clone()])),
      values: { count: this.count, finalized: this.finalized },
    };
  }

  /** Restores what {@link exportState} saved; the averaged variables pair with `trainableWeights` of `model` in order. */
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
