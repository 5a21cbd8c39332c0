import 'reflect-metadata';
import * as tf from '@tensorflow/tfjs';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { AutoTunerCallback } from './callbacks/auto-tuner';
import { CheckpointCallback, type CheckpointOptions } from './callbacks/checkpoint-callback';
import { NanGuardCallback } from './callbacks/nan-guard';
import { LearningRateScheduleCallback } from './callbacks/learning-rate-schedule';
import { MaskUpdaterCallback } from './callbacks/mask-updater-callback';
import { ReliabilityMonitor, type ReliabilityMonitorOptions } from './callbacks/reliability-monitor';
import { SnapshotVoterCallback, type FinalizeData } from './callbacks/snapshot-voter';
import { registerDefaults } from './defaults';
import { MoonCheckpointError, MoonConfigError, MoonModelError, MoonOptimizerError } from './errors';
import { MoonEventBus, type LayerMaskInfo } from './events';
import type { OutputKind } from './metrics/scores';
import type { MoonOptions, ResolvedMaskOptions } from './options';
import type { DensityDistribution } from './plugins/distributions/density-distribution';
import { applyKitCheckpoint, checkpointMasks, loadKitCheckpoint, saveKitCheckpoint, type KitIdentity, type LoadedCheckpoint } from './plugins/checkpoint/kit-checkpoint';
import { drawInitialMasks } from './plugins/masks/initial-masks';
import { findMaskableKernels, type MaskableKernel } from './plugins/masks/maskable-kernels';
import { MaskSet } from './plugins/masks/mask-set';
import { MaskUpdater } from './plugins/mask-updater';
import { FitPhase } from './plugins/fit/fit-phase';
import { oneHotLabels, type LabelInput } from './plugins/labels';
import { detectOutputKind, outputWidth, resolveOutputIndex } from './plugins/moon/output-kind';
import { UnknownAwareState, unknownAwareLoss } from './plugins/moon/unknown-aware-loss';
import { MaskedOptimizer } from './plugins/optimizer/masked-optimizer';
import { RandomWeightDrop } from './plugins/optimizer/random-weight-drop';
import { SeededRandom, type RandomSource } from './plugins/random-source';
import type { MaskSchedule } from './plugins/schedules/drop-fraction';
import type { Sparsifier } from './plugins/sparsifiers/sparsifier';
import { resolveStrategy } from './registry';
import { resolveSettings, type MoonSettings } from './settings';
import { TOKENS } from './tokens';

registerDefaults();

/**
 * A loss for `model.compile({ loss })`: per-sample losses [B], which `fit` weights (classWeight) and averages as
 * it does for its own losses.
 */
export type MoonLoss = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor1D;

/** What {@link createMoon} returns: everything a `model.fit` call needs. */
export interface MoonKit {
  /** The model the kit was created for. */
  readonly model: tf.LayersModel;
  readonly numClasses: number;
  /** Whether the kit trains unknown-aware (K+1 outputs, MOON loss, tuner, voter). */
  readonly unknownAware: boolean;
  readonly preset: 'recommended' | 'as-released';
  /** The seed of the kit's random source. */
  readonly seed: number;
  /** The target sparsity over the masked kernels. */
  readonly sparsity: number;
  /** Every setting, defaults and preset applied. */
  readonly settings: MoonSettings;
  /** The mask-update schedule, in optimizer steps. */
  readonly schedule: MaskSchedule;
  /** Whether the model outputs probabilities or logits (detected from its last activation, or `options.from`). */
  readonly outputKind: OutputKind;
  /** The index of the classifier among the model's outputs (0 for a single-output model). */
  readonly output: number;
  /** The kit's typed event bus. */
  readonly events: MoonEventBus;
  /** `tf.Callback` instances for `fit`: mask updater, then (as configured) auto-tuner, learning rate, voter. */
  readonly callbacks: readonly tf.Callback[];
  /** The loss for `model.compile`: unknown-aware for an unknown-aware kit, cross-entropy otherwise. */
  readonly loss: MoonLoss;
  /** A snapshot of the masks: per masked layer, name, shape, total, active count and density. */
  readonly masks: readonly LayerMaskInfo[];
  /** Global density over the masked kernels (Σ active / Σ total). */
  readonly density: number;
  /** The kit's child container (its own registrations over yours over the global ones). */
  readonly container: DependencyContainer;
  /** Wraps your optimizer so that masks hold during training; compile with it. The wrapper owns `inner`. */
  optimizer(inner: tf.Optimizer): MaskedOptimizer;
  /**
   * Labels for `fit`, as float32 one-hot rows over the model's outputs: one-hot rows over K (any dtype, e.g.
   * `tf.oneHot`'s int32) get the zero "unknown" column of an unknown-aware kit; class ids ([N], [N, 1] or an array)
   * are one-hot encoded; float32 rows that already fit are returned as they are.
   */
  labels(y: LabelInput): tf.Tensor2D;
  /**
   * After training: writes the voted (averaged) weights into the model, re-applies the masks and, if the model has
   * BatchNormalization layers, re-estimates their statistics from one pass over `data` (your training inputs).
   */
  finalize(data?: tf.Tensor | FinalizeData, options?: { refreshBatchNorm?: boolean }): Promise<void>;
  /** A {@link ReliabilityMonitor} with this kit's numClasses, output kind, event bus and preset's ECE. */
  monitor(options: Omit<ReliabilityMonitorOptions, 'numClasses'> & { numClasses?: number }): ReliabilityMonitor;
  /** The epoch a fit continues at: 0 for a fresh kit, the checkpoint's for one created with `resumeFrom`. */
  readonly resumeEpoch: number;
  /**
   * Writes a checkpoint (Node): the model's weights, masks, step, α and the tuner, the voter's average, the random
   * state and the optimizer's slots, with a format version and checksums; atomically.
   * @param nextEpoch the epoch a resumed fit starts at (default: the epochs completed so far)
   */
  checkpoint(dir: string, nextEpoch?: number): Promise<void>;
  /** A callback writing `dir/epoch-<n>` every `everyEpochs` epochs, keeping the last `keep`; put it after `kit.callbacks`. */
  checkpointCallback(options: CheckpointOptions): CheckpointCallback;
  /** Frees the kit's tensors (masks, α, averages). The model and its weights are untouched. */
  dispose(): void;
}

let nextKitId = 1;
/** Optimizers already wrapped by some kit: wrapping one twice would step its state from two places. */
const wrappedOptimizers = new WeakSet<tf.Optimizer>();

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

/** The classifier output must have K units (plain kit) or K + 1 (unknown-aware), where its width is known. */
function checkOutputWidth(model: tf.LayersModel, output: number, numClasses: number, unknownAware: boolean): void {
  const width = outputWidth(model, output);
  const expected = unknownAware ? numClasses + 1 : numClasses;
  if (width === undefined || width === expected) return;
  throw new MoonModelError(
    unknownAware
      ? `model has ${width} outputs but numClasses is ${numClasses}: an unknown-aware kit needs numClasses + 1 = ${expected} ` +
          `outputs; add one unit to the last layer (addUnknownHead(model) does it) or pass unknownAware: false`
      : `model has ${width} outputs but numClasses is ${numClasses}: a plain sparse kit (unknownAware: false) needs ` +
          `numClasses outputs; pass numClasses: ${width} or change the last layer to ${numClasses} units`,
  );
}

/** Per-sample cross-entropy over the outputs, for a plain (baseline) kit: the same as TF.js's own losses. */
function crossEntropy(from: OutputKind): MoonLoss {
  return (yTrue, yPred) =>
    (from === 'logits'
      ? tf.losses.softmaxCrossEntropy(yTrue, yPred, undefined, undefined, tf.Reduction.NONE)
      : tf.metrics.categoricalCrossentropy(yTrue, yPred)) as tf.Tensor1D;
}

/** Registers the kit-scoped defaults that the user's container does not already provide. */
function kitContainer(userContainer: DependencyContainer | undefined, seed: number): DependencyContainer {
  const parent = userContainer ?? rootContainer;
  const child = parent.createChildContainer();
  if (!parent.isRegistered(TOKENS.RandomSource, true)) child.register(TOKENS.RandomSource, { useValue: new SeededRandom(seed) });
  if (!parent.isRegistered(TOKENS.EventBus, true)) child.register(TOKENS.EventBus, { useValue: new MoonEventBus() });
  return child;
}

/**
 * Creates a kit for `model`: draws the initial masks (which zero the masked weights at once) and builds the optimizer
 * wrapper, the callbacks (mask updater; for an unknown-aware kit also the auto-tuner and the voter; the learning-rate
 * schedule unless `lr: false`), the loss and the event bus, composed in a tsyringe child container of
 * `options.container` (or of the global container). Every option is checked, and every strategy name resolved,
 * before any weight is touched.
 *
 * @example
 * const kit = createMoon({ model, numClasses: 10, epochs: 30, stepsPerEpoch: 469, sparsity: 0.9 });
 * model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.1, 0.9)), loss: kit.loss, metrics: ['accuracy'] });
 * await model.fit(xs, kit.labels(ys), { epochs: 30, batchSize: 128, callbacks: [...kit.callbacks] });
 * await kit.finalize(xs);
 */
export function createMoon(options: MoonOptions): MoonKit {
  if (options === null || typeof options !== 'object') {
    throw new MoonConfigError('createMoon needs an options object: createMoon({ model, numClasses, epochs, stepsPerEpoch })');
  }
  if (!(options.model instanceof tf.LayersModel)) {
    throw new MoonConfigError('options.model must be a tf.LayersModel (tf.sequential(…) or tf.model(…)), built with an inputShape');
  }
  const settings = resolveSettings(options);
  const model = options.model;
  const container = kitContainer(options.container, settings.seed);
  const sparsifier = resolveStrategy<Sparsifier>('sparsifier', settings.sparsifier, container, options.container);
  const distribution = resolveStrategy<DensityDistribution>('distribution', settings.distribution, container, options.container);
  const allKernels = findMaskableKernels(model);
  if (allKernels.length === 0) {
    throw new MoonModelError(
      'the model has no maskable layer: tfjs-moon masks the kernels of Dense, Conv2D, DepthwiseConv2D and ' +
        'SeparableConv2D layers (nested models included); add one, or train this model without a kit',
    );
  }
  const kernels = selectMaskedKernels(allKernels, settings.mask);
  if (kernels.length === 0) {
    throw new MoonConfigError('mask.denseLayers / firstLayerDense keep every maskable layer dense: leave at least one layer to mask');
  }
  const output = resolveOutputIndex(model, options.output);
  checkOutputWidth(model, output, settings.numClasses, settings.unknownAware);
  if (options.from !== undefined && options.from !== 'probabilities' && options.from !== 'logits') {
    throw new MoonConfigError(`from must be 'probabilities' or 'logits', got ${JSON.stringify(options.from)}`);
  }
  const outputKind = options.from ?? detectOutputKind(model, output);
  const resume = options.resumeFrom === undefined ? undefined : loadResume(options.resumeFrom, model, settings, kernels);
  // Nothing has been touched so far; from here on the kit is built.
  return assembleKit(model, settings, container, sparsifier, distribution, kernels, { kind: outputKind, index: output }, resume);
}

/** What a checkpoint must agree on with the kit that resumes from it: the model's task, the kit, and every schedule. */
function identityOf(settings: MoonSettings): KitIdentity {
  const { interval, startStep, endStep, dropFraction, decay, decayHorizon } = settings.mask;
  return {
    numClasses: settings.numClasses, unknownAware: settings.unknownAware, preset: settings.preset, sparsity: settings.sparsity,
    sparsifier: settings.sparsifier, distribution: settings.distribution, randomMaskDpnum: settings.randomMaskDpnum,
    epochs: settings.epochs, stepsPerEpoch: settings.stepsPerEpoch,
    maskSchedule: { interval, startStep, endStep, dropFraction, decay, decayHorizon: decayHorizon ?? null },
    tuner: settings.tuner ?? null,
    lr: settings.lr ?? null,
    voter: settings.voter ?? null,
  };
}

/** Reads and checks a checkpoint (masks included) before the kit touches anything. */
function loadResume(where: unknown, model: tf.LayersModel, settings: MoonSettings, kernels: MaskableKernel[]): LoadedCheckpoint {
  if (typeof where !== 'string' || where === '') throw new MoonConfigError('resumeFrom must be the path of a checkpoint directory');
  const checkpoint = loadKitCheckpoint(where, model, identityOf(settings));
  const masks = checkpoint.manifest.state.filter((r) => r.name.startsWith('masks/'));
  if (masks.length !== kernels.length || masks.some((r, i) => !tf.util.arraysEqual(r.shape, kernels[i].shape as number[]))) {
    throw new MoonCheckpointError(`checkpoint ${checkpoint.dir} masks other layers than this kit (mask.denseLayers / firstLayerDense differ): resume with the same options`);
  }
  return checkpoint;
}

function assembleKit(
  model: tf.LayersModel,
  settings: MoonSettings,
  container: DependencyContainer,
  sparsifier: Sparsifier,
  distribution: DensityDistribution,
  kernels: MaskableKernel[],
  output: { kind: OutputKind; index: number },
  resume: LoadedCheckpoint | undefined,
): MoonKit {
  const outputKind = output.kind;
  const random = container.resolve<RandomSource>(TOKENS.RandomSource);
  const events = container.resolve<MoonEventBus>(TOKENS.EventBus);
  const unmasked = settings.randomMaskDpnum > 0 ? kernels.map((k) => k.variable.clone()) : [];
  const masks = new MaskSet(kernels, resume ? checkpointMasks(resume) : drawInitialMasks(kernels, distribution, 1 - settings.sparsity, random));
  masks.applyToWeights();
  const weightDrop = settings.randomMaskDpnum > 0 ? new RandomWeightDrop(masks, settings.randomMaskDpnum, random, unmasked) : undefined;

  const { interval, startStep, endStep, dropFraction, decay, decayHorizon } = settings.mask;
  const schedule: MaskSchedule = { interval, startStep, endStep, dropFraction, decay, decayHorizon };
  const updater = new MaskUpdater(masks, sparsifier, schedule, random, events);
  const kitId = nextKitId++;
  const phase = new FitPhase();
  const state = settings.tuner ? new UnknownAwareState(settings.tuner.ewmaMomentum, phase) : undefined;
  const tuner = settings.tuner && state ? new AutoTunerCallback(state, settings.tuner, events) : undefined;
  const voter = settings.voter ? new SnapshotVoterCallback(settings.voter, masks, events) : undefined;
  const guard = new NanGuardCallback();
  const maskUpdater = new MaskUpdaterCallback(kitId, masks, updater, events, phase, { epochs: settings.epochs, stepsPerEpoch: settings.stepsPerEpoch });
  const callbacks: tf.Callback[] = [guard, maskUpdater];
  if (tuner) callbacks.push(tuner);
  if (settings.lr) callbacks.push(new LearningRateScheduleCallback(settings.lr, events));
  if (voter) callbacks.push(voter);
  const k = settings.numClasses;
  const parts = { model, identity: identityOf(settings), masks, random, lossState: state, tuner, voter, weightDrop };
  if (resume) maskUpdater.restoreOptimizerState(applyKitCheckpoint(resume, parts), resume.nextEpoch);
  const ownWrapper = () => (model.optimizer instanceof MaskedOptimizer && model.optimizer.kitId === kitId ? model.optimizer : undefined);
  const checkpoint = async (dir: string, nextEpoch?: number) => saveKitCheckpoint(dir, parts, ownWrapper(), nextEpoch ?? maskUpdater.completedEpochs);

  return {
    model, numClasses: k, unknownAware: settings.unknownAware, preset: settings.preset, seed: settings.seed,
    sparsity: settings.sparsity, settings, schedule, outputKind, output: output.index, events, callbacks, container,
    loss: state ? unknownAwareLoss(k, outputKind, state) : crossEntropy(outputKind),
    resumeEpoch: resume?.nextEpoch ?? 0,
    checkpoint,
    checkpointCallback: (checkpointOptions: CheckpointOptions) => new CheckpointCallback(checkpointOptions, checkpoint),
    get masks() {
      return masks.view();
    },
    get density() {
      return masks.density();
    },
    optimizer(inner: tf.Optimizer): MaskedOptimizer {
      if (inner instanceof MaskedOptimizer) {
        throw new MoonOptimizerError('this optimizer is already a kit wrapper: pass the plain optimizer, e.g. kit.optimizer(tf.train.adam(1e-3))');
      }
      if (!(inner instanceof tf.Optimizer)) {
        throw new MoonOptimizerError('kit.optimizer expects a tf.Optimizer, e.g. kit.optimizer(tf.train.momentum(0.1, 0.9))');
      }
      if (wrappedOptimizers.has(inner)) {
        throw new MoonOptimizerError('this optimizer is already wrapped by a kit: its state would be stepped twice; create a new optimizer for each wrapper');
      }
      wrappedOptimizers.add(inner);
      return new MaskedOptimizer(inner, masks, updater, kitId, {
        phase,
        requiresCallbacks: updater.changesMasks || settings.unknownAware || settings.lr !== undefined,
        // Dense training (sparsity 0, masks that never change) steps the inner optimizer as a plain fit would.
        passThrough: settings.sparsity === 0 && !updater.changesMasks && weightDrop === undefined,
        beforeStep: weightDrop ? () => weightDrop.beforeStep() : undefined,
      });
    },
    labels(y: LabelInput): tf.Tensor2D {
      return oneHotLabels(y, k, settings.unknownAware ? k + 1 : k);
    },
    async finalize(data?: tf.Tensor | FinalizeData, finalizeOptions?: { refreshBatchNorm?: boolean }): Promise<void> {
      if (!voter) {
        throw new MoonConfigError(
          settings.unknownAware
            ? 'this kit has no voter (voter: false): there is no average to finalize; the model already holds its last weights'
            : 'a plain kit (unknownAware: false) has no voter: there is no average to finalize; the model already holds its last weights',
        );
      }
      await voter.finalize(data, finalizeOptions);
    },
    monitor(monitorOptions): ReliabilityMonitor {
      return new ReliabilityMonitor({ numClasses: k, from: outputKind, output: output.index, events, ece: settings.ece, ...monitorOptions });
    },
    dispose(): void {
      updater.release();
      masks.dispose();
      weightDrop?.dispose();
      state?.dispose();
      tuner?.dispose();
      voter?.dispose();
      guard.dispose();
    },
  };
}
