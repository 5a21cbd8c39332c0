import type * as tf from '@tensorflow/tfjs';
import type { DependencyContainer } from 'tsyringe';
import { MoonConfigError } from './errors';
import type { SnapshotRule } from './callbacks/snapshot-voter';
import type { OutputKind } from './metrics/scores';
import type { DropFractionDecay } from './plugins/schedules/drop-fraction';

/** A layer as seen by the `denseLayers` predicate. */
export interface MaskableLayerInfo {
  readonly name: string;
  readonly className: string;
  readonly shape: readonly number[];
  /** Position among the maskable layers, in layer order (0 = the first). */
  readonly index: number;
}

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
  /** Keep the first maskable layer dense (as RigL does for uniform sparsity). Default false. */
  firstLayerDense?: boolean;
  /**
   * Steps over which the drop fraction decays (then it freezes at its value one step before). Default:
   * endStep − startStep; the `as-released` preset uses 70, the reference code's unit mix-up (70 mask steps, not
   * 70 epochs), which freezes the fraction at 1.5e-4 after 70 steps.
   */
  decayHorizon?: number;
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
  /** Registered sparsifier name: 'rigl' (default), 'set', 'static' or your own. */
  sparsifier?: string;
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
  /**
   * CigL's random weight drop hidden in the reference code's optimizer step: each step a random 1/dpnum of the
   * active weights is zeroed for one step, then restored. 0 = off (recommended default); 100 with `as-released`.
   */
  randomMaskDpnum?: number;
  /**
   * Resume from a checkpoint written by `kit.checkpoint(dir)` or `kit.checkpointCallback(…)`: a checkpoint directory,
   * or a directory of them (the newest is taken). Restores the model's weights, the masks, α and the tuner, the
   * voter's average, the random state and (at the next fit's start) the optimizer's step and slots. Fit on with
   * `initialEpoch: kit.resumeEpoch`. Node only.
   */
  resumeFrom?: string;
}

/** {@link MaskOptions} with every default filled in. */
export interface ResolvedMaskOptions extends Required<Omit<MaskOptions, 'denseLayers' | 'decayHorizon'>> {
  denseLayers: MaskOptions['denseLayers'];
  decayHorizon: number | undefined;
}

/** The keys each options object accepts (plain-JS callers get no type check: a misspelt key must not be ignored). */
export const OPTION_KEYS = {
  createMoon: [
    'model', 'numClasses', 'epochs', 'stepsPerEpoch', 'sparsity', 'sparsifier', 'distribution', 'seed', 'container',
    'unknownAware', 'preset', 'from', 'output', 'mask', 'tuner', 'lr', 'voter', 'randomMaskDpnum', 'resumeFrom',
  ],
  mask: ['interval', 'startStep', 'endStep', 'dropFraction', 'decay', 'denseLayers', 'firstLayerDense', 'decayHorizon'],
  tuner: ['warmupEpochs', 'initFactor', 'alphaFinal', 'ewmaMomentum'],
  lr: ['startMultiplier', 'endMultiplier', 'start', 'end'],
  voter: ['epochs', 'rule'],
} as const;

/**
 * Throws a {@link MoonConfigError} when `value` (an options object) has a key outside `group`'s keys, naming the
 * closest valid key and listing them all.
 */
export function rejectUnknownKeys(value: unknown, group: keyof typeof OPTION_KEYS): void {
  if (value === null || typeof value !== 'object') return;
  const valid: readonly string[] = OPTION_KEYS[group];
  const unknown = Object.keys(value).filter((k) => !valid.includes(k));
  if (unknown.length === 0) return;
  const where = group === 'createMoon' ? 'createMoon options' : `options.${group}`;
  const hints = unknown.map((k) => {
    const close = closestKey(k, valid);
    return close ? `"${k}" (did you mean "${close}"?)` : `"${k}"`;
  });
  throw new MoonConfigError(`${where} has unknown key${unknown.length > 1 ? 's' : ''} ${hints.join(', ')}; valid keys: ${valid.join(', ')}`);
}

/** The valid key within edit distance 2 of `key`, if any. */
function closestKey(key: string, valid: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of valid) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

function describe(value: unknown): string {
  return typeof value === 'number' || typeof value === 'string' ? JSON.stringify(value) : typeof value;
}

/** Throws a {@link MoonConfigError} unless `value` is an integer ≥ `min`. */
export function requireInteger(name: string, value: unknown, min: number, hint = ''): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    const what = min === 1 ? 'a positive integer' : `an integer ≥ ${min}`;
    throw new MoonConfigError(`${name} must be ${what}, got ${describe(value)}${hint ? `: ${hint}` : ''}`);
  }
  return value;
}

/** Throws a {@link MoonConfigError} unless `value` is a finite number in [lo, hi) (or [lo, hi] if `closed`). */
export function requireNumberIn(name: string, value: unknown, lo: number, hi: number, closed = false, hint = ''): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= lo && (closed ? value <= hi : value < hi);
  if (!ok) {
    const range = `[${lo}, ${hi}${closed ? ']' : ')'}`;
    throw new MoonConfigError(`${name} must be a number in ${range}, got ${describe(value)}${hint ? `: ${hint}` : ''}`);
  }
  return value as number;
}

/**
 * Validates the mask options and fills in the defaults.
 * @param defaultEndStep the end step to use when none is given
 * @param defaultHorizon the decay horizon to use when none is given (undefined: endStep − startStep)
 */
export function resolveMaskOptions(mask: MaskOptions | undefined, defaultEndStep: number, defaultHorizon?: number): ResolvedMaskOptions {
  rejectUnknownKeys(mask, 'mask');
  const m = mask ?? {};
  const interval = requireInteger('mask.interval', m.interval ?? 100, 1, 'the number of optimizer steps between mask updates');
  const startStep = requireInteger('mask.startStep', m.startStep ?? 0, 0);
  const endStep = requireInteger('mask.endStep', m.endStep ?? defaultEndStep, 0);
  if (endStep < startStep) {
    throw new MoonConfigError(
      `mask.endStep (${endStep}) is before mask.startStep (${startStep}): updates run from startStep to endStep, ` +
        `so give an endStep ≥ startStep (the default here is ${defaultEndStep})`,
    );
  }
  const horizon = m.decayHorizon ?? defaultHorizon;
  const decayHorizon = horizon === undefined ? undefined : requireInteger('mask.decayHorizon', horizon, 1);
  const dropFraction = requireNumberIn('mask.dropFraction', m.dropFraction ?? 0.3, 0, 1, true);
  const decay = m.decay ?? 'cosine';
  if (!['cosine', 'linear', 'constant'].includes(decay)) {
    throw new MoonConfigError(`mask.decay must be 'cosine', 'linear' or 'constant', got ${describe(decay)}`);
  }
  const denseLayers = m.denseLayers;
  if (denseLayers !== undefined && typeof denseLayers !== 'function' && !Array.isArray(denseLayers)) {
    throw new MoonConfigError(`mask.denseLayers must be an array of layer names or a predicate, got ${typeof denseLayers}`);
  }
  return { interval, startStep, endStep, dropFraction, decay, denseLayers, firstLayerDense: m.firstLayerDense ?? false, decayHorizon };
}
