/**
 * The domain's words, at the bottom of the layers: every other module may import them, and they import nothing
 * (tensor types only). Settings here are the resolved forms (every default filled in); the options users pass are in
 * `config/options.ts`.
 */
import type * as tf from '@tensorflow/tfjs';

/** What the model's output tensor holds. */
export type OutputKind = 'probabilities' | 'logits';

/** What a kit tells about its model's output; a `MoonKit` is one, so `mspScore(output, kit)` works. */
export interface OutputSource {
  readonly numClasses: number;
  readonly outputKind: OutputKind;
}

/**
 * The saved state of one part of a kit: named tensors (copied, owned by the caller) and plain JSON values.
 * Parts export it for checkpoints and import it on resume.
 */
export interface PartState {
  tensors: Record<string, tf.Tensor>;
  values: Record<string, unknown>;
}

/** How the drop fraction decays between the first and the last mask update. */
export type DropFractionDecay = 'cosine' | 'linear' | 'constant';

/** The schedule of mask updates, in optimizer steps (1-based: step t is the t-th optimizer step of the run). */
export interface MaskSchedule {
  /** Updates happen at startStep + interval, startStep + 2·interval, … */
  readonly interval: number;
  readonly startStep: number;
  /** No update after this step. */
  readonly endStep: number;
  /** Drop fraction at startStep. */
  readonly dropFraction: number;
  readonly decay: DropFractionDecay;
  /**
   * Steps over which the decay runs from its initial value to 0; defaults to endStep − startStep (RigL). After
   * the horizon the fraction stays at its value one step before it (the reference code's CosineDecay).
   */
  readonly decayHorizon?: number;
  /**
   * 'run' (default): updates at startStep + interval, + 2·interval, … over the whole run. 'epoch': the count
   * restarts every epoch, an update at every interval-th step of an epoch (the reference's `train_step % interval`).
   */
  readonly phase?: MaskUpdatePhase;
  /** Optimizer steps per epoch; needed by phase 'epoch'. */
  readonly stepsPerEpoch?: number;
  /** How dropFraction × active becomes a count: 'floor' (default, RigL) or 'ceil' (sparselearning, the reference). */
  readonly dropRounding?: DropRounding;
}

/** How a mask update breaks equal scores: at random (seeded, the same on every backend) or by position. */
export type TieBreak = 'random' | 'index';

/** Rescaling of fresh random masks' surviving weights: to each unit's sparse fan-in, or none (`mask.initScale`). */
export type InitScale = 'sparse-fan-in' | 'none';

/** Whether the mask-update interval counts over the run or restarts every epoch. */
export type MaskUpdatePhase = 'run' | 'epoch';
/** How a drop fraction of the active weights becomes a number of weights. */
export type DropRounding = 'floor' | 'ceil';

/** The auto-tuner's settings, every default filled in. */
export interface TunerSettings {
  /** Epochs of plain cross-entropy (α = 0) before α is set. */
  readonly warmupEpochs: number;
  /** α at the first post-warm-up epoch is EWMA / initFactor (a divisor: the reference's `w_out2`, 64). */
  readonly initFactor: number;
  /** α at the last epoch (the reference's `w_out`, 1). */
  readonly alphaFinal: number;
  /** Number of epochs of the run. */
  readonly epochs: number;
  /** Optimizer steps per epoch: the epoch is derived from the optimizer's step count. */
  readonly stepsPerEpoch: number;
}

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

/** Data for the BatchNorm re-estimation pass of `finalize`. */
export interface FinalizeData {
  /** Training inputs (with the augmentation you train with, if any). */
  x: tf.Tensor;
  /** Samples per forward pass. Default 128. */
  batchSize?: number;
}

/**
 * The learning-rate schedule of the reference (`lr_tmp`). `start` and `end` are multipliers of the optimizer's
 * initial rate (the options call them `startMultiplier` and `endMultiplier`).
 */
export interface LearningRateSchedule {
  /** Multiplier at step 0 (the reference's `lr_ini`, 1.2). */
  readonly start: number;
  /** Multiplier at the end of the cosine and during the constant tail (`lr_end`, 0.08). */
  readonly end: number;
  readonly epochs: number;
  readonly stepsPerEpoch: number;
  /** Epochs at the end of the run with the constant multiplier `end` (the averaging epochs). */
  readonly constantEpochs: number;
}

/** A {@link LearningRateSchedule} whose multipliers may also be given under the options' names. */
export type LearningRateScheduleInput =
  | LearningRateSchedule
  | (Omit<LearningRateSchedule, 'start' | 'end'> & { readonly startMultiplier: number; readonly endMultiplier: number });

/** Gradual magnitude pruning, every default filled in (see `prune` in the options). */
export interface PruneSchedule {
  /** 'polynomial' (Zhu & Gupta; TFMOT's PolynomialDecay) or 'constant' (TFMOT's ConstantSparsity). */
  readonly kind: 'polynomial' | 'constant';
  /** Sparsity of the initial masks; the kit's `sparsity` is the final one. */
  readonly initialSparsity: number;
  readonly beginStep: number;
  readonly endStep: number;
  /** Optimizer steps between two pruning steps. */
  readonly frequency: number;
  /** Exponent of the polynomial decay. */
  readonly power: number;
}
