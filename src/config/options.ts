import type * as tf from '@tensorflow/tfjs';
import type { DependencyContainer } from 'tsyringe';
import { MoonConfigError } from '../core/errors';
import { rejectUnknownKeys as rejectKeysOutside, requireInteger, requireNumberIn, requireOneOf } from '../core/validate';
import type { DropFractionDecay, DropRounding, MaskUpdatePhase, OutputKind, SnapshotRule, TieBreak, InitScale } from '../core/types';
import type { LayerSparsityTargets, MaskInit } from '../plugins/masks/initial-masks';
import type { LossVariant } from '../plugins/moon/unknown-aware-loss';
import type { KernelChoice } from '../plugins/sparse/sparse-conversion';
import type { PresetDefaults } from './presets';

/** A layer as seen by the `denseLayers` predicate. */
export interface MaskableLayerInfo {
  /** The model's layer that holds the weight (a wrapper's name for a wrapped layer). */
  readonly name: string;
  /** The class of the layer that owns the weight (`LSTM` inside a Bidirectional). */
  readonly className: string;
  /** The weight: `kernel`, `recurrent_kernel`, `embeddings`, … */
  readonly weight: string;
  /** false for a frozen layer (`trainable = false`). */
  readonly trainable: boolean;
  readonly shape: readonly number[];
  /** Position among the maskable layers, in layer order (0 = the first). */
  readonly index: number;
}

/** A sparsifier by registered name, or as a drop criterion and a grow criterion by registered names. */
export type SparsifierChoice = string | { readonly drop: string; readonly grow: string };

/** When and how masks are updated, and which layers stay dense. */
export interface MaskOptions {
  /** Optimizer steps between two mask updates. Default 100. */
  interval?: number;
  /** The first update happens at startStep + interval. Default 0. */
  startStep?: number;
  /** No update after this step. Default: 75% of epochs × stepsPerEpoch (RigL). */
  endStep?: number;
  /** Fraction of active weights dropped (and regrown) at the first update. Default 0.3. */
  dropFraction?: number;
  /** Decay of the drop fraction from startStep to endStep. Default 'cosine'. */
  decay?: DropFractionDecay;
  /** Layers kept dense (not masked): names, or a predicate. */
  denseLayers?: readonly string[] | ((layer: MaskableLayerInfo) => boolean);
  /**
   * How the initial masks pick their active weights: 'random' (default; the sparse-training start), 'magnitude' (the
   * largest |w| per layer, with the planned counts: for a trained model) or 'nonzero' (the kernels' own nonzero
   * pattern, e.g. a model from `loadSparse`; its counts replace the planned ones).
   */
  init?: MaskInit;
  /**
   * Target sparsity per layer, by layer name or as a function of the layer (undefined: the distribution decides).
   * The distribution spreads the rest of the global budget over the other layers.
   */
  layerSparsity?: LayerSparsityTargets;
  /** Keep the first maskable layer dense (as RigL does for uniform sparsity). Default false. */
  firstLayerDense?: boolean;
  /**
   * Steps over which the drop fraction decays (then it freezes at its value one step before). Default:
   * endStep − startStep; the `as-released` preset uses 70, the reference code's unit mix-up (70 mask steps, not
   * 70 epochs), which freezes the fraction at 1.5e-4 after 70 steps.
   */
  decayHorizon?: number;
  /**
   * 'run' (default): the interval counts over the whole run. 'epoch': it restarts every epoch (an update at every
   * interval-th step of each epoch, the reference's `train_step % interval`; the `as-released` preset).
   */
  phase?: MaskUpdatePhase;
  /** 'floor' (default, RigL) or 'ceil' (sparselearning's `ceil(r·n)`; the `as-released` preset) drop counts. */
  dropRounding?: DropRounding;
  /**
   * How RigL/SET (any prune-and-grow sparsifier) break equal scores when they drop and grow: 'random' (default; a
   * seeded order, identical on every backend) or 'index' (the lowest position first, `tf.topk`'s rule). Zero
   * gradients tie often (dead ReLUs, blank border pixels): by index RigL would always grow the first of them.
   */
  tieBreak?: TieBreak;
  /**
   * Rescaling of the surviving weights of fresh random masks: 'sparse-fan-in' (the `recommended` default) multiplies
   * each output unit's active weights by √(fan-in / its active inputs), so that a sparse layer starts with the
   * activation scale its initializer meant for the dense one (without it a 90% CNN without BatchNorm stays at
   * chance); 'none' keeps the initializer's weights (the `as-released` preset, as the reference does). Applies to
   * `init: 'random'` without gradual pruning, never to a resumed kit.
   */
  initScale?: InitScale;
  /**
   * Layers frozen for transfer learning (`layer.trainable = false`): 'dense' (default) leaves their weights whole,
   * since a mask on a weight that never trains only removes what the pretrained layer knew; 'mask' masks them too
   * (their masks then never change, and no gradient reaches them).
   */
  frozenLayers?: 'dense' | 'mask';
}


/**
 * Gradual magnitude pruning (Zhu & Gupta 2017, as TF Model Optimization's `PolynomialDecay` and `ConstantSparsity`):
 * the masks start at `initialSparsity` and, every `frequency` steps from `beginStep` to `endStep`, the smallest |w| of
 * each layer are pruned (no regrowth) towards the kit's `sparsity`. Alone (with `sparsifier: 'static'`) it is
 * prune-and-fine-tune; with RigL or SET their updates start after `endStep`.
 */
export interface PruneOptions {
  /** 'polynomial' (default): s_t = s_f + (s_i − s_f)(1 − progress)^power; 'constant': the final sparsity from beginStep. */
  schedule?: 'polynomial' | 'constant';
  /** Sparsity of the initial masks. Default 0 (dense). */
  initialSparsity?: number;
  /** First pruning step. Default 0. */
  beginStep?: number;
  /** Last pruning step: the final sparsity is reached here. Default: half of the run (before the averaging window). */
  endStep?: number;
  /** Steps between pruning steps (endStep always prunes). Default 100, or a tenth of a shorter pruning window. */
  frequency?: number;
  /** Exponent of the polynomial. Default 3. */
  power?: number;
}

/** The two behaviours of the kit: the reference code's evident bugs fixed, or reproduced. */
export type Preset = 'recommended' | 'as-released';

/** The auto-tuner of α (unknown-aware kits only). */
export interface TunerOptions {
  /** Epochs of plain cross-entropy before α is set. Default 5% of the epochs (at least 1). */
  warmupEpochs?: number;
  /** α at the first epoch after warm-up = EWMA / initFactor. Default 64. */
  initFactor?: number;
  /** α at the last epoch. Default 1. */
  alphaFinal?: number;
  /** μ, the weight of the newest batch in the EWMA of mean((1 − u)·CE). Default 0.05. */
  ewmaMomentum?: number;
}

/** The learning-rate schedule, as multipliers of the optimizer's initial learning rate. */
export interface LearningRateOptions {
  /** Multiplier of the optimizer's learning rate at step 0. Default 1.2. */
  startMultiplier?: number;
  /** Multiplier at the end of the cosine and over the averaging epochs. Default 0.08. */
  endMultiplier?: number;
  /** @deprecated 0.1 name of `startMultiplier` (kept for one release). */
  start?: number;
  /** @deprecated 0.1 name of `endMultiplier` (kept for one release). */
  end?: number;
}

/** The voting scheme (running weight average over the last epochs; unknown-aware kits only). */
export interface VoterOptions {
  /** Number of final epochs averaged. Default 20% of the epochs (at least 1). */
  epochs?: number;
  /** Snapshot rule. Default 'every-tenth' ('first-tenth' with the as-released preset). */
  rule?: SnapshotRule;
}

/** Options of {@link createMoon}. */
export interface MoonOptions {
  /** The model to train sparsely. Its layers must be built (give it an inputShape). */
  model: tf.LayersModel;
  /** Number of known classes K. */
  numClasses: number;
  /** Epochs of the fit call(s) the kit will drive. */
  epochs: number;
  /** Optimizer steps (batches) per epoch: ceil(samples / batchSize). */
  stepsPerEpoch: number;
  /** Fraction of masked weights that are zero, in [0, 1). Default 0.9. */
  sparsity?: number;
  /**
   * Registered sparsifier name: 'rigl' (default), 'set', 'static' or your own; or a prune-and-grow pair of
   * registered criteria, e.g. `{ drop: 'magnitude', grow: 'gradient' }` (which is RigL).
   */
  sparsifier?: SparsifierChoice;
  /** Registered density distribution name: 'erk' (default), 'er', 'uniform' or your own. */
  distribution?: string;
  /** Seed of the kit's random source. Default: a random seed, reported as `kit.seed`. */
  seed?: number;
  /** A tsyringe container with your own registrations; they win over the defaults. */
  container?: DependencyContainer;
  /**
   * Unknown-aware (MOON) training: the model has K+1 outputs ("unknown" last) and the kit adds the unknown-aware
   * loss, the auto-tuner and the voter. Default true. false gives a plain sparse kit (K outputs, cross-entropy,
   * no tuner, no voter): the baseline.
   */
  unknownAware?: boolean;
  /** 'recommended' (default) or 'as-released' (reproduces the reference code; see docs/method.md). */
  preset?: Preset;
  /**
   * What the model outputs; default: detected from the layer that computes the output (a Softmax layer or
   * activation 'softmax' → probabilities, 'linear' → logits; anything else must be given here).
   */
  from?: OutputKind;
  /** For a model with several outputs: the classifier's output, by index or name. Required there. */
  output?: number | string;
  mask?: MaskOptions;
  tuner?: TunerOptions;
  /**
   * The learning-rate schedule (multipliers of the optimizer's rate): true or an object turns it on, false off.
   * Default: on for an unknown-aware kit (part of MOON), off for a plain kit (it leaves your learning rate alone).
   */
  lr?: LearningRateOptions | boolean;
  /** The voter, or false for none. */
  voter?: VoterOptions | false;
  /** Gradual magnitude pruning towards `sparsity` (off by default). */
  prune?: PruneOptions | false;
  /**
   * CigL's random weight drop hidden in the reference code's optimizer step: each step a random 1/dpnum of the
   * active weights is zeroed for one step, then restored. 0 = off (recommended default); 100 with `as-released`.
   */
  randomMaskDpnum?: number;
  /**
   * L2 weight decay, coupled as in SGD's `weight_decay` (the reference trains with 5e-4 on every parameter): each
   * step adds weightDecay · w to every gradient before the masks and the inner optimizer see it, so it is masked
   * like the gradient and goes through momentum or Adam's moments (not AdamW's decoupled decay). Default 0.
   */
  weightDecay?: number;
  /**
   * The unknown-aware loss once α is set: 'released' (default; the reference code's weighted cross-entropy),
   * 'abstention' (the deep abstaining classifier's loss) or 'log-unknown' (the reference's commented-out
   * alternative). docs/method.md gives the formulas; only 'released' is what the reference trained with.
   */
  lossVariant?: LossVariant;
  /**
   * How masked Dense layers compute while they train: 'dense' (default; the dense product of a kernel holding
   * zeros), 'sparse' (the compiled sparse kernels on the active weights, on cpu and wasm; elsewhere dense) or 'auto'
   * (sparse where a short measurement of the layer's training products on this machine finds it faster, cached per
   * shape for the process; never above the backend's `SPARSE_CROSSOVER_DENSITY`). The kernels,
   * masks, slots, checkpoints and results are the same in every mode; Conv2D layers stay dense.
   */
  kernels?: KernelChoice;
  /**
   * Resume from a checkpoint written by `kit.checkpoint(dir)` or `kit.checkpointCallback(…)`: a checkpoint directory,
   * or a directory of them (the newest is taken). Restores the model's weights, the masks, α and the tuner, the
   * voter's average, the random state and (at the next fit's start) the optimizer's step and slots. Fit on with
   * `initialEpoch: kit.resumeEpoch`. Node only.
   */
  resumeFrom?: string;
}

/** {@link MaskOptions} with every default filled in. */
export interface ResolvedMaskOptions extends Required<Omit<MaskOptions, 'denseLayers' | 'decayHorizon' | 'layerSparsity'>> {
  denseLayers: MaskOptions['denseLayers'];
  layerSparsity: LayerSparsityTargets | undefined;
  /** Whether `init` was given (the kit warns about an already-sparse model only when it was not). */
  initGiven: boolean;
  decayHorizon: number | undefined;
}

/** The keys each options object accepts (plain-JS callers get no type check: a misspelt key must not be ignored). */
export const OPTION_KEYS = {
  createMoon: [
    'model', 'numClasses', 'epochs', 'stepsPerEpoch', 'sparsity', 'sparsifier', 'distribution', 'seed', 'container',
    'unknownAware', 'preset', 'from', 'output', 'mask', 'tuner', 'lr', 'voter', 'randomMaskDpnum', 'resumeFrom', 'prune', 'weightDecay', 'lossVariant', 'kernels',
  ],
  mask: ['interval', 'startStep', 'endStep', 'dropFraction', 'decay', 'denseLayers', 'firstLayerDense', 'decayHorizon', 'init', 'layerSparsity', 'phase', 'dropRounding', 'tieBreak', 'initScale', 'frozenLayers'],
  tuner: ['warmupEpochs', 'initFactor', 'alphaFinal', 'ewmaMomentum'],
  lr: ['startMultiplier', 'endMultiplier', 'start', 'end'],
  voter: ['epochs', 'rule'],
  sparsifier: ['drop', 'grow'],
  prune: ['schedule', 'initialSparsity', 'beginStep', 'endStep', 'frequency', 'power'],
} as const;

/** Rejects keys of a kit options object outside `group`'s keys (see {@link rejectKeysOutside}). */
export function rejectUnknownKeys(value: unknown, group: keyof typeof OPTION_KEYS): void {
  rejectKeysOutside(value, OPTION_KEYS[group], group === 'createMoon' ? 'createMoon options' : `options.${group}`);
}

/**
 * Validates the mask options and fills in the defaults.
 * @param defaults the preset's mask defaults
 * @param defaultEndStep the end step to use when none is given (the preset's, moved before the averaging window)
 */
export function resolveMaskOptions(
  mask: MaskOptions | undefined,
  defaults: PresetDefaults['mask'],
  defaultEndStep: number,
  pruneEnd?: number,
): ResolvedMaskOptions {
  rejectUnknownKeys(mask, 'mask');
  const m = mask ?? {};
  const interval = requireInteger('mask.interval', m.interval ?? defaults.interval, 1, 'the number of optimizer steps between mask updates');
  // With gradual pruning, prune-and-grow updates start where pruning ends.
  const startStep = requireInteger('mask.startStep', m.startStep ?? pruneEnd ?? defaults.startStep, 0);
  if (pruneEnd !== undefined && startStep < pruneEnd) {
    throw new MoonConfigError(`mask.startStep (${startStep}) is before prune.endStep (${pruneEnd}): prune-and-grow updates start after gradual pruning ends`);
  }
  const endStep = requireInteger('mask.endStep', m.endStep ?? Math.max(defaultEndStep, startStep), 0);
  if (endStep < startStep) {
    throw new MoonConfigError(
      `mask.endStep (${endStep}) is before mask.startStep (${startStep}): updates run from startStep to endStep, ` +
        `so give an endStep ≥ startStep (the default here is ${defaultEndStep})`,
    );
  }
  const horizon = m.decayHorizon ?? defaults.decayHorizon ?? undefined;
  const decayHorizon = horizon === undefined ? undefined : requireInteger('mask.decayHorizon', horizon, 1);
  const dropFraction = requireNumberIn('mask.dropFraction', m.dropFraction ?? defaults.dropFraction, 0, 1, true);
  const decay = requireOneOf('mask.decay', m.decay ?? defaults.decay, ['cosine', 'linear', 'constant'] as const);
  const denseLayers = m.denseLayers;
  if (denseLayers !== undefined && typeof denseLayers !== 'function' && !Array.isArray(denseLayers)) {
    throw new MoonConfigError(`mask.denseLayers must be an array of layer names or a predicate, got ${typeof denseLayers}`);
  }
  const init = requireOneOf('mask.init', m.init ?? 'random', ['random', 'magnitude', 'nonzero'] as const);
  const layerSparsity = m.layerSparsity;
  if (layerSparsity !== undefined && typeof layerSparsity !== 'function' && (typeof layerSparsity !== 'object' || layerSparsity === null || Array.isArray(layerSparsity))) {
    throw new MoonConfigError(`mask.layerSparsity must be an object of layer name → sparsity, or a function of the layer, got ${typeof layerSparsity}`);
  }
  const phase = requireOneOf('mask.phase', m.phase ?? defaults.phase, ['run', 'epoch'] as const);
  const dropRounding = requireOneOf('mask.dropRounding', m.dropRounding ?? defaults.dropRounding, ['floor', 'ceil'] as const);
  const tieBreak = requireOneOf('mask.tieBreak', m.tieBreak ?? 'random', ['random', 'index'] as const);
  const initScale = requireOneOf('mask.initScale', m.initScale ?? defaults.initScale, ['sparse-fan-in', 'none'] as const);
  const frozenLayers = requireOneOf('mask.frozenLayers', m.frozenLayers ?? 'dense', ['dense', 'mask'] as const);
  return {
    interval, startStep, endStep, dropFraction, decay, denseLayers, firstLayerDense: m.firstLayerDense ?? defaults.firstLayerDense, decayHorizon,
    init, initGiven: m.init !== undefined, layerSparsity, phase, dropRounding, tieBreak, initScale, frozenLayers,
  };
}
