import type { TunerSettings } from './callbacks/auto-tuner';
import type { LearningRateSchedule } from './callbacks/learning-rate-schedule';
import type { VoterSettings } from './callbacks/snapshot-voter';
import { MoonConfigError } from './errors';
import type { EceOptions } from './metrics/calibration';
import { rejectUnknownKeys, requireInteger, requireNumberIn, resolveMaskOptions, type MoonOptions, type Preset, type ResolvedMaskOptions } from './options';

/** Every setting of a kit, defaults and preset applied: what `createMoon` builds from, reported as `kit.settings`. */
export interface MoonSettings {
  readonly preset: Preset;
  readonly unknownAware: boolean;
  readonly numClasses: number;
  readonly epochs: number;
  readonly stepsPerEpoch: number;
  readonly sparsity: number;
  readonly sparsifier: string;
  readonly distribution: string;
  readonly seed: number;
  readonly mask: ResolvedMaskOptions;
  /** The tuner (unknown-aware kits), with `ewmaMomentum`. */
  readonly tuner: (TunerSettings & { readonly ewmaMomentum: number }) | undefined;
  readonly lr: LearningRateSchedule | undefined;
  readonly voter: VoterSettings | undefined;
  readonly randomMaskDpnum: number;
  /** ECE defaults for `kit.monitor(…)`: 15 Guo bins, or the reference's 10 with `as-released`. */
  readonly ece: EceOptions;
}

/** What the presets change, and nothing else (docs/method.md lists each with its reason). */
const PRESETS: Record<Preset, { defaultEndStep: (epochs: number, steps: number) => number; decayHorizon?: number; rule: 'every-tenth' | 'first-tenth'; dpnum: number; ece: EceOptions }> = {
  recommended: { defaultEndStep: (e, t) => Math.floor(0.75 * e * t), rule: 'every-tenth', dpnum: 0, ece: { variant: 'guo', bins: 15 } },
  'as-released': { defaultEndStep: (e, t) => Math.round(0.7 * e) * t, decayHorizon: 70, rule: 'first-tenth', dpnum: 100, ece: { variant: 'reference', bins: 10 } },
};

/** Scales a fraction of the reference's 100-epoch run to this run: at least 1 epoch. */
const epochsFraction = (epochs: number, fraction: number) => Math.max(1, Math.round(fraction * epochs));

/** Resolves and cross-checks every option; throws a typed error before anything is built. */
export function resolveSettings(options: MoonOptions): MoonSettings {
  rejectUnknownKeys(options, 'createMoon');
  const preset = options.preset ?? 'recommended';
  if (!(preset in PRESETS)) throw new MoonConfigError(`preset must be 'recommended' or 'as-released', got ${JSON.stringify(preset)}`);
  const p = PRESETS[preset];
  const unknownAware = options.unknownAware ?? true;
  if (typeof unknownAware !== 'boolean') throw new MoonConfigError(`unknownAware must be true or false, got ${typeof unknownAware}`);
  const numClasses = requireInteger('numClasses', options.numClasses, 1, 'the number of known classes K');
  const epochs = requireInteger('epochs', options.epochs, 1, 'the number of epochs you will fit');
  const stepsPerEpoch = requireInteger('stepsPerEpoch', options.stepsPerEpoch, 1, 'ceil(number of samples / batchSize)');
  if (unknownAware && epochs < 2) {
    throw new MoonConfigError('an unknown-aware kit needs epochs ≥ 2: at least one warm-up epoch to measure the loss before α is set');
  }
  const sparsity = requireNumberIn('sparsity', options.sparsity ?? 0.9, 0, 1, false, 'the fraction of masked weights that are zero; 0.9 keeps 10% of the weights');
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new MoonConfigError(`seed must be a finite number, got ${typeof seed}`);

  const averagingEpochs = resolveAveraging(options, epochs);
  const voterOn = unknownAware && options.voter !== false;
  const averagingStart = (epochs - averagingEpochs) * stepsPerEpoch;
  // A default end step never collides with the averaging window; an explicit one that does is an error below.
  const defaultEnd = voterOn ? Math.min(p.defaultEndStep(epochs, stepsPerEpoch), averagingStart) : p.defaultEndStep(epochs, stepsPerEpoch);
  const mask = resolveMaskOptions(options.mask, defaultEnd, p.decayHorizon);
  if (voterOn && mask.endStep > averagingStart) {
    throw new MoonConfigError(
      `mask updates run until step ${mask.endStep} but averaging starts at step ${averagingStart} (epoch ${epochs - averagingEpochs}): ` +
        `the averaged weights would mix masks. Give mask.endStep ≤ ${averagingStart}, or fewer voter.epochs`,
    );
  }
  return {
    preset, unknownAware, numClasses, epochs, stepsPerEpoch, sparsity, seed, mask,
    sparsifier: options.sparsifier ?? 'rigl',
    distribution: options.distribution ?? 'erk',
    tuner: unknownAware ? resolveTuner(options, epochs, stepsPerEpoch) : undefined,
    lr: resolveLearningRate(options, unknownAware, epochs, stepsPerEpoch, averagingEpochs),
    voter: voterOn ? { firstEpoch: epochs - averagingEpochs, rule: resolveRule(options, p.rule), stepsPerEpoch } : undefined,
    randomMaskDpnum: resolveDpnum(options, p.dpnum),
    ece: p.ece,
  };
}

function resolveAveraging(options: MoonOptions, epochs: number): number {
  const v = options.voter;
  if (v !== undefined && v !== false && (typeof v !== 'object' || v === null)) {
    throw new MoonConfigError(`voter must be an object ({ epochs, rule }) or false, got ${typeof v}`);
  }
  rejectUnknownKeys(v, 'voter');
  const averaging = requireInteger('voter.epochs', (v || undefined)?.epochs ?? epochsFraction(epochs, 0.2), 1);
  if (averaging > epochs) {
    throw new MoonConfigError(`voter.epochs (${averaging}) is longer than the training (${epochs} epochs): average at most the last ${epochs} epochs`);
  }
  return averaging;
}

function resolveRule(options: MoonOptions, fallback: 'every-tenth' | 'first-tenth'): 'every-tenth' | 'first-tenth' {
  const rule = (options.voter || undefined)?.rule ?? fallback;
  if (rule !== 'every-tenth' && rule !== 'first-tenth') throw new MoonConfigError(`voter.rule must be 'every-tenth' or 'first-tenth', got ${JSON.stringify(rule)}`);
  return rule;
}

function resolveTuner(options: MoonOptions, epochs: number, stepsPerEpoch: number): TunerSettings & { ewmaMomentum: number } {
  rejectUnknownKeys(options.tuner, 'tuner');
  const t = options.tuner ?? {};
  const warmupEpochs = requireInteger('tuner.warmupEpochs', t.warmupEpochs ?? Math.min(epochsFraction(epochs, 0.05), epochs - 1), 1);
  if (warmupEpochs >= epochs) {
    throw new MoonConfigError(`tuner.warmupEpochs (${warmupEpochs}) must be less than epochs (${epochs}): α is set at the first epoch after the warm-up`);
  }
  const positive = (name: string, value: unknown) => {
    if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) throw new MoonConfigError(`${name} must be a positive number, got ${value}`);
    return value;
  };
  return {
    warmupEpochs,
    epochs,
    stepsPerEpoch,
    initFactor: positive('tuner.initFactor', t.initFactor ?? 64),
    alphaFinal: requireNumberIn('tuner.alphaFinal', t.alphaFinal ?? 1, 0, Number.MAX_VALUE),
    ewmaMomentum: requireNumberIn('tuner.ewmaMomentum', t.ewmaMomentum ?? 0.05, 0, 1, true),
  };
}

function resolveLearningRate(
  options: MoonOptions,
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
  return { start: multiplier('startMultiplier', 'start', 1.2), end: multiplier('endMultiplier', 'end', 0.08), epochs, stepsPerEpoch, constantEpochs };
}

function resolveDpnum(options: MoonOptions, fallback: number): number {
  const dpnum = options.randomMaskDpnum ?? fallback;
  if (dpnum !== 0 && (!Number.isInteger(dpnum) || dpnum < 2)) {
    throw new MoonConfigError(`randomMaskDpnum must be 0 (off) or an integer ≥ 2 (drop 1/dpnum of the weights each step), got ${dpnum}`);
  }
  return dpnum;
}
