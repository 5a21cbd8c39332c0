import type * as tf from '@tensorflow/tfjs';
import type { DependencyContainer } from 'tsyringe';
import { MoonConfigError } from './errors';
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
   * Unknown-aware (MOON) training with a K+1 output. Not available in this version: pass false (the default)
   * for plain sparse training with K outputs and your own loss.
   */
  unknownAware?: boolean;
  mask?: MaskOptions;
}

/** {@link MaskOptions} with every default filled in. */
export interface ResolvedMaskOptions extends Required<Omit<MaskOptions, 'denseLayers'>> {
  denseLayers: MaskOptions['denseLayers'];
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

/** Validates the mask options against the run's length and fills in the defaults. */
export function resolveMaskOptions(mask: MaskOptions | undefined, totalSteps: number): ResolvedMaskOptions {
  const m = mask ?? {};
  const interval = requireInteger('mask.interval', m.interval ?? 100, 1, 'the number of optimizer steps between mask updates');
  const startStep = requireInteger('mask.startStep', m.startStep ?? 0, 0);
  const endStep = requireInteger('mask.endStep', m.endStep ?? Math.floor(0.75 * totalSteps), 0);
  if (endStep < startStep) {
    throw new MoonConfigError(
      `mask.endStep (${endStep}) is before mask.startStep (${startStep}): updates run from startStep to endStep, ` +
        `so give an endStep ≥ startStep (the default is 75% of epochs × stepsPerEpoch = ${Math.floor(0.75 * totalSteps)})`,
    );
  }
  const dropFraction = requireNumberIn('mask.dropFraction', m.dropFraction ?? 0.3, 0, 1, true);
  const decay = m.decay ?? 'cosine';
  if (!['cosine', 'linear', 'constant'].includes(decay)) {
    throw new MoonConfigError(`mask.decay must be 'cosine', 'linear' or 'constant', got ${describe(decay)}`);
  }
  const denseLayers = m.denseLayers;
  if (denseLayers !== undefined && typeof denseLayers !== 'function' && !Array.isArray(denseLayers)) {
    throw new MoonConfigError(`mask.denseLayers must be an array of layer names or a predicate, got ${typeof denseLayers}`);
  }
  return { interval, startStep, endStep, dropFraction, decay, denseLayers, firstLayerDense: m.firstLayerDense ?? false };
}
