import 'reflect-metadata';
import * as tf from '@tensorflow/tfjs';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { MaskUpdaterCallback } from './callbacks/mask-updater-callback';
import { registerDefaults } from './defaults';
import { MoonConfigError, MoonModelError, MoonOptimizerError } from './errors';
import { MoonEventBus, type LayerMaskInfo } from './events';
import { requireInteger, requireNumberIn, resolveMaskOptions, type MoonOptions, type ResolvedMaskOptions } from './options';
import type { DensityDistribution } from './plugins/distributions/density-distribution';
import { drawInitialMasks } from './plugins/masks/initial-masks';
import { findMaskableKernels, type MaskableKernel } from './plugins/masks/maskable-kernels';
import { MaskSet } from './plugins/masks/mask-set';
import { MaskUpdater } from './plugins/mask-updater';
import { MaskedOptimizer } from './plugins/optimizer/masked-optimizer';
import { SeededRandom, type RandomSource } from './plugins/random-source';
import type { MaskSchedule } from './plugins/schedules/drop-fraction';
import type { Sparsifier } from './plugins/sparsifiers/sparsifier';
import { resolveStrategy } from './registry';
import { TOKENS } from './tokens';

registerDefaults();

/** What {@link createMoon} returns: everything a `model.fit` call needs for sparse training. */
export interface MoonKit {
  /** The model the kit was created for. */
  readonly model: tf.LayersModel;
  readonly numClasses: number;
  /** The seed of the kit's random source. */
  readonly seed: number;
  /** The target sparsity over the masked kernels. */
  readonly sparsity: number;
  /** The mask-update schedule, in optimizer steps, with every default filled in. */
  readonly schedule: MaskSchedule;
  /** The kit's typed event bus (`mask:init`, `mask:update`). */
  readonly events: MoonEventBus;
  /** `tf.Callback` instances to put in `fit`'s `callbacks` (they mix with your own). */
  readonly callbacks: readonly tf.Callback[];
  /** A snapshot of the masks: per masked layer, name, shape, total, active count and density. */
  readonly masks: readonly LayerMaskInfo[];
  /** Global density over the masked kernels (Σ active / Σ total). */
  readonly density: number;
  /** The kit's child container (its own registrations over yours over the global ones). */
  readonly container: DependencyContainer;
  /**
   * Wraps your optimizer so that masks hold during training. Compile with it:
   * `model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.1, 0.9)), … })`. The wrapper owns `inner`.
   */
  optimizer(inner: tf.Optimizer): MaskedOptimizer;
  /** Frees the kit's tensors (the masks). The model and its weights are untouched. */
  dispose(): void;
}

let nextKitId = 1;
/** Optimizers already wrapped by some kit: wrapping one twice would step its state from two places. */
const wrappedOptimizers = new WeakSet<tf.Optimizer>();

/** Checks the plain options (before anything is touched) and returns them with defaults filled in. */
function validateOptions(options: MoonOptions): {
  sparsity: number;
  seed: number;
  mask: ResolvedMaskOptions;
  sparsifier: string;
  distribution: string;
} {
  if (options === null || typeof options !== 'object') {
    throw new MoonConfigError('createMoon needs an options object: createMoon({ model, numClasses, epochs, stepsPerEpoch })');
  }
  if (!(options.model instanceof tf.LayersModel)) {
    throw new MoonConfigError('options.model must be a tf.LayersModel (tf.sequential(…) or tf.model(…)), built with an inputShape');
  }
  if (options.unknownAware === true) {
    throw new MoonConfigError(
      'unknownAware: true (the MOON loss, auto-tuner and voter) is not available in this version; ' +
        'pass unknownAware: false (the default) for plain sparse training with numClasses outputs',
    );
  }
  requireInteger('numClasses', options.numClasses, 1, 'the number of known classes K');
  const epochs = requireInteger('epochs', options.epochs, 1, 'the number of epochs you will fit');
  const steps = requireInteger('stepsPerEpoch', options.stepsPerEpoch, 1, 'ceil(number of samples / batchSize)');
  const sparsity = requireNumberIn(
    'sparsity',
    options.sparsity ?? 0.9,
    0,
    1,
    false,
    'the fraction of masked weights that are zero; 0.9 keeps 10% of the weights',
  );
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new MoonConfigError(`seed must be a finite number, got ${typeof seed}`);
  return {
    sparsity,
    seed,
    mask: resolveMaskOptions(options.mask, epochs * steps),
    sparsifier: options.sparsifier ?? 'rigl',
    distribution: options.distribution ?? 'erk',
  };
}

/** Applies `denseLayers` and `firstLayerDense`, failing on names that match no maskable layer. */
function selectMaskedKernels(all: readonly MaskableKernel[], mask: ResolvedMaskOptions): MaskableKernel[] {
  const dense = mask.denseLayers;
  if (Array.isArray(dense)) {
    const known = new Set(all.map((k) => k.layerName));
    const unknown = dense.filter((name) => !known.has(name));
    if (unknown.length > 0) {
      throw new MoonConfigError(
        `mask.denseLayers names ${unknown.map((n) => `"${n}"`).join(', ')}, which ${unknown.length > 1 ? 'are' : 'is'} not a ` +
          `maskable layer of this model; maskable layers: ${[...known].map((n) => `"${n}"`).join(', ')}`,
      );
    }
  }
  return all.filter((k, index) => {
    if (mask.firstLayerDense && index === 0) return false;
    if (typeof dense === 'function') return !dense({ name: k.layerName, className: k.className, shape: k.shape, index });
    return !(dense ?? []).includes(k.layerName);
  });
}

/** The model must end in numClasses units (for a single-output model whose width is known). */
function checkOutputWidth(model: tf.LayersModel, numClasses: number): void {
  if (model.outputs.length !== 1) return;
  const width = model.outputs[0].shape[model.outputs[0].shape.length - 1];
  if (width === null || width === undefined || width === numClasses) return;
  throw new MoonModelError(
    `model has ${width} outputs but numClasses is ${numClasses}: a plain sparse kit (unknownAware: false) needs ` +
      `numClasses outputs; pass numClasses: ${width} or change the last layer to ${numClasses} units`,
  );
}

/**
 * Creates a sparse-training kit for `model`: draws the initial masks (which zero the masked weights at once) and
 * builds the optimizer wrapper, the mask-updater callback and the event bus, composed in a tsyringe child
 * container of `options.container` (or of the global container). Every option is checked, and every strategy
 * name resolved, before any weight is touched.
 *
 * @example
 * const kit = createMoon({ model, numClasses: 10, epochs: 5, stepsPerEpoch: 79, sparsity: 0.9, unknownAware: false });
 * model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.05, 0.9)), loss: 'categoricalCrossentropy' });
 * await model.fit(xs, ys, { epochs: 5, batchSize: 128, callbacks: [...kit.callbacks] });
 */
export function createMoon(options: MoonOptions): MoonKit {
  const resolved = validateOptions(options);
  const model = options.model;
  const userContainer = options.container;
  const kitContainer = (userContainer ?? rootContainer).createChildContainer();
  const parent = userContainer ?? rootContainer;
  if (!parent.isRegistered(TOKENS.RandomSource, true)) {
    kitContainer.register(TOKENS.RandomSource, { useValue: new SeededRandom(resolved.seed) });
  }
  if (!parent.isRegistered(TOKENS.EventBus, true)) kitContainer.register(TOKENS.EventBus, { useValue: new MoonEventBus() });

  const sparsifier = resolveStrategy<Sparsifier>('sparsifier', resolved.sparsifier, kitContainer, userContainer);
  const distribution = resolveStrategy<DensityDistribution>('distribution', resolved.distribution, kitContainer, userContainer);
  const allKernels = findMaskableKernels(model);
  if (allKernels.length === 0) {
    throw new MoonModelError(
      'the model has no maskable layer: tfjs-moon masks the kernels of Dense, Conv2D, DepthwiseConv2D and ' +
        'SeparableConv2D layers (nested models included); add one, or train this model without a kit',
    );
  }
  const kernels = selectMaskedKernels(allKernels, resolved.mask);
  if (kernels.length === 0) {
    throw new MoonConfigError('mask.denseLayers / firstLayerDense keep every maskable layer dense: leave at least one layer to mask');
  }
  checkOutputWidth(model, options.numClasses);

  const random = kitContainer.resolve<RandomSource>(TOKENS.RandomSource);
  const events = kitContainer.resolve<MoonEventBus>(TOKENS.EventBus);
  const masks = new MaskSet(kernels, drawInitialMasks(kernels, distribution, 1 - resolved.sparsity, random));
  masks.applyToWeights();

  const { interval, startStep, endStep, dropFraction, decay } = resolved.mask;
  const schedule: MaskSchedule = { interval, startStep, endStep, dropFraction, decay };
  const updater = new MaskUpdater(masks, sparsifier, schedule, random, events);
  const kitId = nextKitId++;
  const callbacks = [new MaskUpdaterCallback(kitId, masks, updater, events)];

  return {
    model,
    numClasses: options.numClasses,
    seed: resolved.seed,
    sparsity: resolved.sparsity,
    schedule,
    events,
    callbacks,
    container: kitContainer,
    get masks() {
      return masks.view();
    },
    get density() {
      return masks.density();
    },
    optimizer(inner: tf.Optimizer): MaskedOptimizer {
      if (inner instanceof MaskedOptimizer) {
        throw new MoonOptimizerError(
          'this optimizer is already a kit wrapper: pass the plain optimizer, e.g. kit.optimizer(tf.train.adam(1e-3))',
        );
      }
      if (!(inner instanceof tf.Optimizer)) {
        throw new MoonOptimizerError('kit.optimizer expects a tf.Optimizer, e.g. kit.optimizer(tf.train.momentum(0.1, 0.9))');
      }
      if (wrappedOptimizers.has(inner)) {
        throw new MoonOptimizerError(
          'this optimizer is already wrapped by a kit: its state would be stepped twice; create a new optimizer for each wrapper',
        );
      }
      wrappedOptimizers.add(inner);
      return new MaskedOptimizer(inner, masks, updater, kitId);
    },
    dispose(): void {
      updater.release();
      masks.dispose();
    },
  };
}
