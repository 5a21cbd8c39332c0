import type { KernelChoice, LossVariant, MoonOptions, Preset } from 'tfjs-moon';
import type { ModelName } from './models';

/** The optimizers a run can use; the reference trains with Nesterov momentum 0.9. */
export type OptimizerName = 'sgd' | 'momentum' | 'nesterov' | 'adam';
export const OPTIMIZERS: readonly OptimizerName[] = ['sgd', 'momentum', 'nesterov', 'adam'];

/** How the training set is ordered: a new seeded order every epoch (the reference), or one order for the run. */
export type ShuffleMode = 'epoch' | 'once';
export const SHUFFLE_MODES: readonly ShuffleMode[] = ['epoch', 'once'];

/**
 * The output layer: 'softmax' (probabilities, TF.js's usual head) or 'linear' (logits). Only a linear head gives
 * energy and max-logit scores from real logits (a softmax output fixes the logits only up to a per-sample constant).
 */
export type HeadKind = 'softmax' | 'linear';
export const HEADS: readonly HeadKind[] = ['softmax', 'linear'];

/** The training methods: dense, or a sparsifier. */
export type Method = 'dense' | 'rigl' | 'set' | 'static';
export const METHODS: readonly Method[] = ['dense', 'rigl', 'set', 'static'];

/** One training run. */
export interface RunConfig {
  dataset: 'mnist6' | 'fashion-mnist' | 'fashion6';
  model: ModelName;
  method: Method;
  /** Ignored (0) for `dense`. */
  sparsity: number;
  moon: boolean;
  epochs: number;
  seed: number;
  batchSize: number;
  /** Initial learning rate; the kit's schedule multiplies it (1.2 → 0.08). */
  learningRate: number;
  /** sgd, momentum (0.9), nesterov (0.9; the reference's) or adam. */
  optimizer: OptimizerName;
  /** Coupled L2 weight decay on every parameter (the reference's 5e-4); 0 for none. */
  weightDecay: number;
  /** 'epoch': a new order of the training set every epoch, drawn from the seed (the reference); 'once': one order. */
  shuffle: ShuffleMode;
  /** The unknown-aware loss of MOON runs: 'released' (the reference's), 'abstention' or 'log-unknown' (opt-in variants). */
  lossVariant: LossVariant;
  /** How masked Dense layers compute in training (createMoon's `kernels`): speed only, the results are the same. */
  kernels: KernelChoice;
  /** The output layer's activation: 'softmax' (probabilities) or 'linear' (logits; the kit and the scores read them as such). */
  head: HeadKind;
  preset: Preset;
  trainLimit?: number;
  testLimit?: number;
  dataDir?: string;
  /** Extra createMoon options for experiments (tuner, voter, lr, mask, randomMaskDpnum), merged over the defaults. */
  kit?: Pick<MoonOptions, 'tuner' | 'voter' | 'lr' | 'mask' | 'randomMaskDpnum' | 'prune'>;
  /** A saved model (a `saveModel` directory) to start from instead of a fresh one: fine-tuning. */
  fromModel?: string;
  /** Where to save the trained model (compact sparse format, `exportSparse`). */
  saveModel?: string;
  /** A name for a run with `kit` options, part of its id (e.g. `alpha0.1`). */
  variant?: string;
  /**
   * Post-hoc OOD detectors to score the trained model with: 'all', or `fitDetector` names separated by commas
   * ('knn,vim'). Each is fitted on the training split, calibrated at 95% TPR on half of the ID test set and measured
   * on the other half.
   */
  detectors?: string;
}

/** Defaults of a run, for the command line and bench configs. */
export const RUN_DEFAULTS = {
  dataset: 'mnist6', model: 'mlp', method: 'rigl', sparsity: 0.9, moon: true, epochs: 10, seed: 1, batchSize: 64, learningRate: 0.05, preset: 'recommended',
  // The reference's recipe: Nesterov momentum 0.9, weight decay 5e-4, a new order every epoch.
  optimizer: 'nesterov', weightDecay: 5e-4, shuffle: 'epoch', lossVariant: 'released', kernels: 'dense', head: 'softmax',
} as const;


/** Every field a run config (and so a bench config's `defaults` and `runs` entries) may name. */
export const RUN_CONFIG_KEYS: readonly (keyof RunConfig)[] = [
  'dataset', 'model', 'method', 'sparsity', 'moon', 'epochs', 'seed', 'batchSize', 'learningRate', 'optimizer', 'weightDecay', 'shuffle',
  'lossVariant', 'kernels', 'head', 'preset', 'trainLimit', 'testLimit', 'dataDir', 'kit', 'fromModel', 'saveModel', 'variant', 'detectors',
];

/** A variant name: part of a run's id and so of its folder name, hence letters, digits and . _ = + - only. */
const VARIANT_NAME = /^[A-Za-z0-9][A-Za-z0-9._=+-]{0,63}$/;

/** Whether `name` can be a variant (no path separator, no `..`, not empty, at most 64 characters). */
export function isVariantName(name: string): boolean {
  return VARIANT_NAME.test(name) && !name.includes('..');
}
