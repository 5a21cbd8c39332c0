import type { LearningRateSchedule, MaskSchedule, PruneSchedule, TunerSettings, VoterSettings } from '../core/types';
import { MoonConfigError } from '../core/errors';
import { requireInteger, requireNumberIn, requireOneOf, requirePositive } from '../core/validate';
import type { EceOptions } from '../metrics/calibration';
import type { RocPoints } from '../metrics/ood-metrics';
import { LOSS_VARIANTS, type LossVariant } from '../plugins/moon/unknown-aware-loss';
import { KERNEL_CHOICES, type KernelChoice } from '../plugins/sparse/sparse-conversion';
import { defaultEndStep, epochsFraction, PRESET_DEFAULTS, type PresetDefaults } from './presets';
import { rejectUnknownKeys, resolveMaskOptions, type MoonOptions, type Preset, type SparsifierChoice, type ResolvedMaskOptions } from './options';

/** Every setting of a kit, defaults and preset applied: what `createMoon` builds from, reported as `kit.settings`. */
export interface MoonSettings {
  readonly preset: Preset;
  readonly unknownAware: boolean;
  readonly numClasses: number;
  readonly epochs: number;
  readonly stepsPerEpoch: number;
  readonly sparsity: number;
  readonly sparsifier: SparsifierChoice;
  readonly distribution: string;
  readonly seed: number;
  readonly mask: ResolvedMaskOptions;
  /** The tuner (unknown-aware kits), with `ewmaMomentum`. */
  readonly tuner: (TunerSettings & { readonly ewmaMomentum: number }) | undefined;
  readonly lr: LearningRateSchedule | undefined;
  readonly voter: VoterSettings | undefined;
  readonly randomMaskDpnum: number;
  /** Coupled L2 weight decay added to the gradients (0: none). */
  readonly weightDecay: number;
  /** The unknown-aware loss (unknown-aware kits; 'released' otherwise unused). */
  readonly lossVariant: LossVariant;
  /** How masked Dense layers compute in training: dense, sparse, or sparse where it pays ('auto'). */
  readonly kernels: KernelChoice;
  /** Gradual magnitude pruning, or undefined when off. */
  readonly prune: PruneSchedule | undefined;
  /** ECE defaults for `kit.monitor(…)`: 15 Guo bins, or the reference's 10 with `as-released`. */
  readonly ece: EceOptions;
  /** Where FPR@95 is read for `kit.monitor(…)`: the full ROC curve, or the reference's thinned one (`as-released`). */
  readonly roc: RocPoints;
}

/** The mask-update schedule of resolved settings (what the updater, the kit and checkpoints read). */
export function maskScheduleOf(settings: Pick<MoonSettings, 'mask' | 'stepsPerEpoch'>): MaskSchedule {
  const { interval, startStep, endStep, dropFraction, decay, decayHorizon, phase, dropRounding } = settings.mask;
  return { interval, startStep, endStep, dropFraction, decay, decayHorizon, phase, stepsPerEpoch: settings.stepsPerEpoch, dropRounding };
}

/** Resolves and cross-checks every option; throws a typed error before anything is built. */
export function resolveSettings(options: MoonOptions): MoonSettings {
  rejectUnknownKeys(options, 'createMoon');
  const preset = options.preset ?? 'recommended';
  requireOneOf('preset', preset, Object.keys(PRESET_DEFAULTS) as Preset[]);
  const p = PRESET_DEFAULTS[preset];
  const unknownAware = options.unknownAware ?? p.unknownAware;
  if (typeof unknownAware !== 'boolean') throw new MoonConfigError(`unknownAware must be true or false, got ${typeof unknownAware}`);
  const numClasses = requireInteger('numClasses', options.numClasses, 1, 'the number of known classes K');
  if (unknownAware && numClasses < 2) {
    throw new MoonConfigError(
      'an unknown-aware kit needs numClasses ≥ 2 (MOON re-weights misclassified samples between known classes and "unknown"): ' +
        'for binary classification use numClasses: 2 with a 3-unit softmax head, or unknownAware: false with a 1-unit sigmoid head and kit.loss (binary cross-entropy)',
    );
  }
  const epochs = requireInteger('epochs', options.epochs, 1, 'the number of epochs you will fit');
  const stepsPerEpoch = requireInteger('stepsPerEpoch', options.stepsPerEpoch, 1, 'ceil(number of samples / batchSize)');
  if (unknownAware && epochs < 2) {
    throw new MoonConfigError('an unknown-aware kit needs epochs ≥ 2: at least one warm-up epoch to measure the loss before α is set');
  }
  const sparsity = requireNumberIn('sparsity', options.sparsity ?? p.sparsity, 0, 1, false, 'the fraction of masked weights that are zero; 0.9 keeps 10% of the weights');
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new MoonConfigError(`seed must be a finite number, got ${typeof seed}`);

  const averagingEpochs = resolveAveraging(options, epochs, p.voter.epochsFraction);
  const voterOn = unknownAware && options.voter !== false;
  const averagingStart = (epochs - averagingEpochs) * stepsPerEpoch;
  // A default end step never collides with the averaging window; an explicit one that does is an error below.
  const presetEnd = defaultEndStep(p, epochs, stepsPerEpoch);
  const lastStep = voterOn ? averagingStart : epochs * stepsPerEpoch;
  const prune = resolvePrune(options, sparsity, lastStep);
  const mask = resolveMaskOptions(options.mask, p.mask, voterOn ? Math.min(presetEnd, averagingStart) : presetEnd, prune?.endStep);
  if (voterOn && mask.endStep > averagingStart) {
    throw new MoonConfigError(
      `mask updates run until step ${mask.endStep} but averaging starts at step ${averagingStart} (epoch ${epochs - averagingEpochs}): ` +
        `the averaged weights would mix masks. Give mask.endStep ≤ ${averagingStart}, or fewer voter.epochs`,
    );
  }
  return {
    preset, unknownAware, numClasses, epochs, stepsPerEpoch, sparsity, seed, mask,
    sparsifier: resolveSparsifierChoice(options.sparsifier ?? p.sparsifier),
    distribution: options.distribution ?? p.distribution,
    tuner: unknownAware ? resolveTuner(options, p, epochs, stepsPerEpoch) : undefined,
    lr: resolveLearningRate(options, p, unknownAware, epochs, stepsPerEpoch, averagingEpochs),
    voter: voterOn ? { firstEpoch: epochs - averagingEpochs, rule: resolveRule(options, p.voter.rule), stepsPerEpoch } : undefined,
    randomMaskDpnum: resolveDpnum(options, p.randomMaskDpnum),
    kernels: requireOneOf('kernels', options.kernels ?? 'dense', KERNEL_CHOICES),
    lossVariant: requireOneOf('lossVariant', options.lossVariant ?? 'released', LOSS_VARIANTS),
    weightDecay: requireNumberIn('weightDecay', options.weightDecay ?? 0, 0, 1, false, 'an L2 coefficient such as 5e-4'),
    prune,
    ece: p.ece,
    roc: p.roc,
  };
}

function resolveAveraging(options: MoonOptions, epochs: number, fraction: number): number {
  const v = options.voter;
  if (v !== undefined && v !== false && (typeof v !== 'object' || v === null)) {
    throw new MoonConfigError(`voter must be an object ({ epochs, rule }) or false, got ${typeof v}`);
  }
  rejectUnknownKeys(v, 'voter');
  const averaging = requireInteger('voter.epochs', (v || undefined)?.epochs ?? epochsFraction(epochs, fraction), 1);
  if (averaging > epochs) {
    throw new MoonConfigError(`voter.epochs (${averaging}) is longer than the training (${epochs} epochs): average at most the last ${epochs} epochs`);
  }
  return averaging;
}

function resolveRule(options: MoonOptions, fallback: 'every-tenth' | 'first-tenth'): 'every-tenth' | 'first-tenth' {
  const rule = (options.voter || undefined)?.rule ?? fallback;
  return requireOneOf('voter.rule', rule, ['every-tenth', 'first-tenth'] as const);
}

function resolveTuner(options: MoonOptions, p: PresetDefaults, epochs: number, stepsPerEpoch: number): TunerSettings & { ewmaMomentum: number } {
  rejectUnknownKeys(options.tuner, 'tuner');
  const t = options.tuner ?? {};
  const warmupEpochs = requireInteger('tuner.warmupEpochs', t.warmupEpochs ?? Math.min(epochsFraction(epochs, p.tuner.warmupFraction), epochs - 1), 1);
  if (warmupEpochs >= epochs) {
    throw new MoonConfigError(`tuner.warmupEpochs (${warmupEpochs}) must be less than epochs (${epochs}): α is set at the first epoch after the warm-up`);
  }
  return {
    warmupEpochs,
    epochs,
    stepsPerEpoch,
    initFactor: requirePositive('tuner.initFactor', t.initFactor ?? p.tuner.initFactor),
    alphaFinal: requireNumberIn('tuner.alphaFinal', t.alphaFinal ?? p.tuner.alphaFinal, 0, Number.MAX_VALUE),
    ewmaMomentum: requireNumberIn('tuner.ewmaMomentum', t.ewmaMomentum ?? p.tuner.ewmaMomentum, 0, 1, true),
  };
}

function resolveLearningRate(
  options: MoonOptions,
  p: PresetDefaults,
  unknownAware: boolean,
  epochs: number,
  stepsPerEpoch: number,
  constantEpochs: number,
): LearningRateSchedule | undefined {
  const lr = options.lr ?? unknownAware; // part of MOON; a plain kit leaves the learning rate alone unless asked
  if (lr === false) return undefined;
  if (lr !== true && (typeof lr !== 'object' || lr === null)) {
    throw new MoonConfigError(`lr must be true, false or an object ({ startMultiplier, endMultiplier }), got ${typeof lr}`);
  }
  const given = lr === true ? {} : lr;
  rejectUnknownKeys(given, 'lr');
  const multiplier = (name: 'startMultiplier' | 'endMultiplier', alias: 'start' | 'end', fallback: number) => {
    if (given[name] !== undefined && given[alias] !== undefined) {
      throw new MoonConfigError(`lr.${name} and lr.${alias} (its deprecated name) are both given: pass lr.${name} only`);
    }
    const value = given[name] ?? given[alias] ?? fallback;
    return requireNumberIn(`lr.${name}`, value, 0, Number.MAX_VALUE, false, 'a multiplier of the optimizer learning rate');
  };
  const [startMultiplier, endMultiplier] = [multiplier('startMultiplier', 'start', p.lr.startMultiplier), multiplier('endMultiplier', 'end', p.lr.endMultiplier)];
  return { start: startMultiplier, end: endMultiplier, epochs, stepsPerEpoch, constantEpochs };
}

function resolveDpnum(options: MoonOptions, fallback: number): number {
  const dpnum = options.randomMaskDpnum ?? fallback;
  if (dpnum !== 0 && (!Number.isInteger(dpnum) || dpnum < 2)) {
    throw new MoonConfigError(`randomMaskDpnum must be 0 (off) or an integer ≥ 2 (drop 1/dpnum of the weights each step), got ${dpnum}`);
  }
  return dpnum;
}

/** A sparsifier name, or a `{ drop, grow }` pair of names (copied, so later changes to the options do not leak in). */
function resolveSparsifierChoice(choice: unknown): SparsifierChoice {
  if (typeof choice === 'string') return choice;
  if (choice === null || typeof choice !== 'object') {
    throw new MoonConfigError(`sparsifier must be a registered name ('rigl', 'set', 'static', …) or { drop, grow }, got ${typeof choice}`);
  }
  rejectUnknownKeys(choice, 'sparsifier');
  const { drop, grow } = choice as { drop?: unknown; grow?: unknown };
  if (typeof drop !== 'string' || typeof grow !== 'string') {
    throw new MoonConfigError(`sparsifier { drop, grow } needs two registered names, e.g. { drop: 'magnitude', grow: 'gradient' }`);
  }
  return { drop, grow };
}

/**
 * Gradual pruning's schedule, checked: 0 ≤ initialSparsity ≤ sparsity, beginStep ≤ endStep (strictly for the
 * polynomial), and endStep no later than `lastStep` (the run's end, or where averaging starts).
 */
function resolvePrune(options: MoonOptions, sparsity: number, lastStep: number): PruneSchedule | undefined {
  const given = options.prune;
  if (given === undefined || given === false) return undefined;
  if (typeof given !== 'object' || given === null) throw new MoonConfigError(`prune must be an object ({ initialSparsity, beginStep, endStep, … }) or false, got ${typeof given}`);
  rejectUnknownKeys(given, 'prune');
  const kind = requireOneOf('prune.schedule', given.schedule ?? 'polynomial', ['polynomial', 'constant'] as const);
  const initialSparsity = requireNumberIn('prune.initialSparsity', given.initialSparsity ?? 0, 0, sparsity, true, `at most the final sparsity (sparsity: ${sparsity})`);
  const beginStep = requireInteger('prune.beginStep', given.beginStep ?? 0, 0);
  const endStep = requireInteger('prune.endStep', given.endStep ?? Math.max(beginStep, Math.floor(lastStep / 2)), 0);
  if (endStep > lastStep) {
    throw new MoonConfigError(`prune.endStep (${endStep}) is after step ${lastStep}, where the run ends or averaging starts: prune earlier, or give fewer voter.epochs`);
  }
  if (endStep < beginStep || (kind === 'polynomial' && endStep === beginStep)) {
    throw new MoonConfigError(`prune.endStep (${endStep}) must come after prune.beginStep (${beginStep}) for a polynomial schedule`);
  }
  return {
    kind, initialSparsity, beginStep, endStep,
    // Default: every 100 steps, or 10 pruning steps over a shorter window.
    frequency: requireInteger('prune.frequency', given.frequency ?? Math.min(100, Math.max(1, Math.floor((endStep - beginStep) / 10))), 1),
    power: requirePositive('prune.power', given.power ?? 3),
  };
}
