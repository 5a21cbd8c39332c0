import type { SnapshotRule } from '../core/types';
import type { EceOptions } from '../metrics/calibration';
import type { RocPoints } from '../metrics/ood-metrics';
import type { Preset } from './options';

/**
 * Every default of a kit under one preset. Fractions of the run (`…Fraction`) are scaled to the run's epochs and
 * steps when a kit is created; everything else is the value itself. docs/method.md gives the reason for each
 * difference between the presets.
 */
export interface PresetDefaults {
  readonly sparsity: number;
  readonly sparsifier: string;
  readonly distribution: string;
  readonly unknownAware: boolean;
  readonly mask: {
    readonly interval: number;
    readonly startStep: number;
    /**
     * The default last update step: a fraction of the run (RigL's 75%), or whole epochs (the reference's
     * `round(0.7·E)` epochs) — see {@link defaultEndStep}.
     */
    readonly endFraction: number;
    readonly endInWholeEpochs: boolean;
    readonly dropFraction: number;
    readonly decay: 'cosine' | 'linear' | 'constant';
    /** Steps over which the drop fraction decays; null: endStep − startStep. */
    readonly decayHorizon: number | null;
    readonly firstLayerDense: boolean;
    readonly phase: 'run' | 'epoch';
    readonly dropRounding: 'floor' | 'ceil';
    /** Rescaling of fresh random masks' surviving weights (see `MaskOptions.initScale`). */
    readonly initScale: 'sparse-fan-in' | 'none';
  };
  readonly tuner: {
    /** Warm-up epochs as a fraction of the run (at least 1, less than the run). */
    readonly warmupFraction: number;
    readonly initFactor: number;
    readonly alphaFinal: number;
    readonly ewmaMomentum: number;
  };
  readonly lr: { readonly startMultiplier: number; readonly endMultiplier: number };
  readonly voter: {
    /** Averaged epochs as a fraction of the run (at least 1). */
    readonly epochsFraction: number;
    readonly rule: SnapshotRule;
  };
  readonly randomMaskDpnum: number;
  /** ECE defaults for `kit.monitor(…)`. */
  readonly ece: EceOptions;
  /** The ROC points FPR@95 is read from in `kit.monitor(…)` and the command line. */
  readonly roc: RocPoints;
}

const RECOMMENDED: PresetDefaults = {
  sparsity: 0.9,
  sparsifier: 'rigl',
  distribution: 'erk',
  unknownAware: true,
  mask: { interval: 100, startStep: 0, endFraction: 0.75, endInWholeEpochs: false, dropFraction: 0.3, decay: 'cosine', decayHorizon: null, firstLayerDense: false, phase: 'run', dropRounding: 'floor', initScale: 'sparse-fan-in' },
  tuner: { warmupFraction: 0.05, initFactor: 64, alphaFinal: 1, ewmaMomentum: 0.05 },
  lr: { startMultiplier: 1.2, endMultiplier: 0.08 },
  voter: { epochsFraction: 0.2, rule: 'every-tenth' },
  randomMaskDpnum: 0,
  ece: { variant: 'guo', bins: 15 },
  roc: 'full',
};

/**
 * The defaults of each preset, in one table: `PRESET_DEFAULTS['as-released'].voter.rule` is the answer to "what is
 * the voter's default rule in as-released". Frozen.
 */
export const PRESET_DEFAULTS: Readonly<Record<Preset, PresetDefaults>> = deepFreeze({
  recommended: RECOMMENDED,
  'as-released': {
    ...RECOMMENDED,
    // The reference updates at every 80th step of each epoch (train_step % 80), stops after round(0.7·E) whole
    // epochs, decays over 70 *steps* (a unit mix-up) and drops ceil(r·n) weights.
    mask: { ...RECOMMENDED.mask, interval: 80, phase: 'epoch', dropRounding: 'ceil', endFraction: 0.7, endInWholeEpochs: true, decayHorizon: 70, initScale: 'none' },
    voter: { ...RECOMMENDED.voter, rule: 'first-tenth' },
    randomMaskDpnum: 100,
    ece: { variant: 'reference', bins: 10 },
    roc: 'thinned',
  },
});

/** The default last mask-update step of a run of `epochs` × `stepsPerEpoch` under `defaults`. */
export function defaultEndStep(defaults: PresetDefaults, epochs: number, stepsPerEpoch: number): number {
  const { endFraction, endInWholeEpochs } = defaults.mask;
  return endInWholeEpochs ? Math.round(endFraction * epochs) * stepsPerEpoch : Math.floor(endFraction * epochs * stepsPerEpoch);
}

/** Scales a fraction of the run to whole epochs: at least 1. */
export function epochsFraction(epochs: number, fraction: number): number {
  return Math.max(1, Math.round(fraction * epochs));
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
