import * as tf from '@tensorflow/tfjs';
import type { MaskableLayerLookup } from '../core/maskable-layers';
import { maskableLayerLookup } from './registry';
import type { DependencyContainer } from 'tsyringe';
import { CheckpointCallback, type CheckpointOptions } from '../callbacks/checkpoint-callback';
import { ReliabilityMonitor, type ReliabilityMonitorOptions } from '../callbacks/reliability-monitor';
import { maskScheduleOf, type MoonSettings } from '../config/settings';
import { MoonConfigError, MoonOptimizerError } from '../core/errors';
import type { LayerMaskInfo, MoonEventBus } from '../core/events';
import type { FinalizeData, MaskSchedule, OutputKind } from '../core/types';
import { scoreToken, type ScoreForms } from '../metrics/scores';
import { saveKitCheckpoint, type CheckpointParts } from '../plugins/checkpoint/kit-checkpoint';
import type { FitPhase } from '../plugins/fit/fit-phase';
import type { NonFiniteLossWatch } from '../plugins/fit/loss-watch';
import type { LossStallWatch } from '../plugins/fit/loss-stall';
import { CustomLoop, type LoopStep } from '../plugins/fit/custom-loop';
import { oneHotLabels, type LabelInput } from '../plugins/labels';
import type { MaskUpdater } from '../plugins/masks/mask-updater';
import type { MaskSet } from '../plugins/masks/mask-set';
import type { AlphaSchedule } from '../plugins/moon/alpha-schedule';
import type { UnknownAwareState } from '../plugins/moon/unknown-aware-loss';
import type { WeightAverage } from '../plugins/moon/weight-average';
import { MaskedOptimizer } from '../plugins/optimizer/masked-optimizer';
import { ADAMAX_REFUSAL, optimizerFromName, type OptimizerName } from '../plugins/optimizer/optimizer-names';
import { releaseModel } from './live-kits';
import type { RandomWeightDrop } from '../plugins/optimizer/random-weight-drop';
import type { SparseTraining } from '../plugins/sparse/sparse-training';

/**
 * A loss for `model.compile({ loss })`: per-sample losses [B], which `fit` weights (classWeight) and averages as
 * it does for its own losses.
 */
export type MoonLoss = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor1D;

/** Everything a kit is built from; `createMoon` assembles it (kit/create-moon.ts). Each part owns its own state. */
export interface KitParts {
  readonly id: number;
  readonly model: tf.LayersModel;
  readonly settings: MoonSettings;
  readonly output: { readonly kind: OutputKind; readonly index: number };
  readonly container: DependencyContainer;
  readonly events: MoonEventBus;
  readonly masks: MaskSet;
  readonly updater: MaskUpdater;
  readonly phase: FitPhase;
  readonly lossWatch: NonFiniteLossWatch;
  readonly lossStall: LossStallWatch;
  readonly lossState?: UnknownAwareState;
  readonly alphaSchedule?: AlphaSchedule;
  readonly weightAverage?: WeightAverage;
  readonly weightDrop?: RandomWeightDrop;
  /** Sparse compute of the masked Dense layers (`kernels: 'sparse' | 'auto'`). */
  readonly sparseTraining?: SparseTraining;
  readonly callbacks: readonly tf.Callback[];
  readonly loss: MoonLoss;
  readonly checkpointParts: CheckpointParts;
  readonly resumeEpoch: number;
}

/** Optimizers already wrapped by some kit: wrapping one twice would step its state from two places. */
const wrappedOptimizers = new WeakSet<tf.Optimizer>();

/**
 * Whether the wrapper steps the inner optimizer on unmasked gradients (dense training: sparsity 0, masks that
 * never change, no random weight drop), as a plain fit would.
 */
export function stepsUnmasked(sparsity: number, changesMasks: boolean, dropsWeights: boolean): boolean {
  return sparsity === 0 && !changesMasks && !dropsWeights;
}

/**
 * What {@link createMoon} returns: everything a `model.fit` call needs — the optimizer wrapper, the loss, the
 * labels, the callbacks — and what comes after it: `finalize`, `monitor`, checkpoints. The kit owns no training
 * state itself: it hands out its parts (masks, α schedule, weight average, …), which own theirs.
 */
export class MoonKit {
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
  /** `tf.Callback` instances for `fit`: NaN guard, mask updater, then (as configured) auto-tuner, learning rate, voter; the loss-stall watch. */
  readonly callbacks: readonly tf.Callback[];
  /** The loss for `model.compile`: unknown-aware for an unknown-aware kit, cross-entropy otherwise. */
  readonly loss: MoonLoss;
  /** The kit's child container (its own registrations over yours over the global ones). */
  readonly container: DependencyContainer;
  /** The epoch a fit continues at: 0 for a fresh kit, the checkpoint's for one created with `resumeFrom`. */
  readonly resumeEpoch: number;

  /** The loop of {@link trainOnBatch} and {@link step}, made at the first of them. */
  private ownLoop?: CustomLoop;

  /** @param parts what createMoon assembled */
  constructor(private readonly parts: KitParts) {
    const { model, settings, output } = parts;
    this.model = model;
    this.numClasses = settings.numClasses;
    this.unknownAware = settings.unknownAware;
    this.preset = settings.preset;
    this.seed = settings.seed;
    this.sparsity = settings.sparsity;
    this.settings = settings;
    this.schedule = maskScheduleOf(settings);
    this.outputKind = output.kind;
    this.output = output.index;
    this.events = parts.events;
    this.callbacks = parts.callbacks;
    this.loss = parts.loss;
    this.container = parts.container;
    this.resumeEpoch = parts.resumeEpoch;
  }

  /** The layer classes this kit masks: the built-ins and those registered with `registerMaskableLayer` (its container's too). */
  get maskableLayers(): MaskableLayerLookup {
    return maskableLayerLookup(this.parts.container);
  }

  /**
   * Per masked weight: its mask's name (the layer's, or `layer/weight` for a layer with several), kernel variable,
   * shape, total, active count and density (plain numbers, a snapshot).
   */
  get maskSummary(): readonly LayerMaskInfo[] {
    this.assertLive('kit.maskSummary');
    return this.parts.masks.view();
  }

  /**
   * Per masked Dense layer (by name), whether its products run through the sparse kernels with the current masks:
   * what `kernels: 'sparse'` or 'auto' (measured on this machine) chose at the last fit's start or mask update.
   * Empty with `kernels: 'dense'`; every layer false before the first fit.
   */
  get sparseKernelLayers(): Readonly<Record<string, boolean>> {
    this.assertLive('kit.sparseKernelLayers');
    return this.parts.sparseTraining?.sparseLayers() ?? {};
  }

  /** @deprecated 0.1 name of {@link maskSummary} (it returns counts, not masks); kept for one release. */
  get masks(): readonly LayerMaskInfo[] {
    return this.maskSummary;
  }

  /**
   * Density over every trainable weight of the model: masked kernels count their active weights, everything else
   * (biases, normalisation, frozen layers kept dense, custom layers nobody registered) counts whole. Compare with
   * {@link density}, which is over the masked kernels only.
   */
  get modelDensity(): number {
    this.assertLive('kit.modelDensity');
    return this.parts.masks.modelDensity(this.model);
  }

  /** Global density over the masked kernels (Σ active / Σ total). */
  get density(): number {
    this.assertLive('kit.density');
    return this.parts.masks.density();
  }

  /**
   * Wraps your optimizer so that masks hold during training; compile with it. The wrapper owns `inner`. A name
   * (`'adam'`, `'rmsprop'`, `'sgd'`, `'adagrad'`, `'adadelta'`) builds the optimizer `model.compile` would, with
   * TF.js's defaults.
   */
  optimizer(optimizer: tf.Optimizer | OptimizerName): MaskedOptimizer {
    this.assertLive('kit.optimizer');
    const inner = typeof optimizer === 'string' ? optimizerFromName(optimizer) : optimizer;
    if (inner instanceof MaskedOptimizer) {
      throw new MoonOptimizerError('this optimizer is already a kit wrapper: pass the plain optimizer, e.g. kit.optimizer(tf.train.adam(1e-3))');
    }
    if (!(inner instanceof tf.Optimizer)) {
      throw new MoonOptimizerError('kit.optimizer expects a tf.Optimizer, e.g. kit.optimizer(tf.train.momentum(0.1, 0.9))');
    }
    // By class name, not instanceof: tf.Optimizer answers instanceof by duck typing.
    if (inner.getClassName() === 'Adamax') throw new MoonOptimizerError(ADAMAX_REFUSAL);
    if (wrappedOptimizers.has(inner)) {
      throw new MoonOptimizerError('this optimizer is already wrapped by a kit: its state would be stepped twice; create a new optimizer for each wrapper');
    }
    wrappedOptimizers.add(inner);
    const { masks, updater, phase, weightDrop, settings, id, sparseTraining } = this.parts;
    return new MaskedOptimizer(inner, masks, updater, id, {
      phase,
      requiresCallbacks: updater.changesMasks || settings.unknownAware || settings.lr !== undefined || settings.prune !== undefined,
      // Dense training (sparsity 0, masks that never change) steps the inner optimizer as a plain fit would.
      passThrough: stepsUnmasked(settings.sparsity, updater.changesMasks, weightDrop !== undefined),
      weightDecay: settings.weightDecay,
      beforeStep: weightDrop ? () => weightDrop.beforeStep() : undefined,
      compact: sparseTraining?.compact, // stays empty (every step dense-shaped) where compact steps are off
    });
  }

  /**
   * Labels for `fit`, as float32 one-hot rows over the model's outputs: one-hot rows over K (any dtype, e.g.
   * `tf.oneHot`'s int32) get the zero "unknown" column of an unknown-aware kit; class ids ([N], [N, 1] or an array)
   * are one-hot encoded; float32 rows that already fit are returned as they are.
   */
  labels(y: LabelInput): tf.Tensor2D {
    this.assertLive('kit.labels');
    const k = this.numClasses;
    return oneHotLabels(y, k, this.unknownAware ? k + 1 : k);
  }

  /**
   * After training: writes the voted (averaged) weights into the model, re-applies the masks and, if the model has
   * BatchNormalization layers, re-estimates their statistics from one pass over `data` (your training inputs).
   */
  async finalize(data?: tf.Tensor | FinalizeData, options?: { refreshBatchNorm?: boolean }): Promise<void> {
    this.assertLive('kit.finalize');
    const average = this.parts.weightAverage;
    if (!average) {
      throw new MoonConfigError(
        this.unknownAware
          ? 'this kit has no voter (voter: false): there is no average to finalize; the model already holds its last weights'
          : 'a plain kit (unknownAware: false) has no voter: there is no average to finalize; the model already holds its last weights',
      );
    }
    this.events.emit('voter:finalize', average.finalize(this.model, data, options));
  }

  /**
   * The callbacks for `fit`: the kit's, then yours. Plain objects (`{ onEpochEnd: … }`, as the TF.js examples
   * write them) are wrapped in `tf.CustomCallback`: TF.js accepts an array of either kind but not a mix (it calls
   * `setParams` on a plain object, or turns the kit's callbacks into plain ones).
   * @example model.fit(x, y, { epochs, callbacks: kit.withCallbacks({ onEpochEnd: (e, logs) => console.log(e, logs) }) })
   */
  withCallbacks(...extra: Array<tf.Callback | tf.CustomCallback | tf.CustomCallbackArgs>): Array<tf.Callback | tf.CustomCallback> {
    this.assertLive('kit.withCallbacks');
    const wrap = (c: tf.Callback | tf.CustomCallback | tf.CustomCallbackArgs) => (c instanceof tf.Callback || c instanceof tf.CustomCallback ? c : new tf.CustomCallback(c));
    return [...this.callbacks, ...extra.map(wrap)];
  }

  /**
   * One step of a custom training loop: `model.trainOnBatch(x, y)` with everything the kit's callbacks do in `fit`
   * (mask updates, MOON's tuner, voter and learning rate, the NaN guard). Epochs are counted from the kit's
   * `stepsPerEpoch` on the optimizer's step counter: call it `epochs × stepsPerEpoch` times, as `fit` would. The
   * model must be compiled with `kit.optimizer(…)` and `kit.loss`. For a loop with your own callbacks (a
   * checkpoint, a monitor) use {@link loop}.
   * @example for (const [xb, yb] of batches) await kit.trainOnBatch(xb, kit.labels(yb));
   * @returns the step's loss
   */
  trainOnBatch(x: tf.Tensor | tf.Tensor[], y: tf.Tensor | tf.Tensor[]): Promise<number> {
    this.assertLive('kit.trainOnBatch');
    return this.defaultLoop().trainOnBatch(x, y);
  }

  /**
   * One step of a loop that computes its own gradients (the `optimizer.minimize` pattern), inside the kit's
   * callbacks: `run` takes exactly one step of the kit's optimizer (the model's, compiled with `kit.optimizer`) and
   * returns its loss.
   * @example
   * const optimizer = model.optimizer; // kit.optimizer(…), through model.compile
   * await kit.step(() => optimizer.minimize(() => tf.mean(kit.loss(yb, model.apply(xb, { training: true }) as tf.Tensor)), true), xb.shape[0]);
   * @param size the batch size (for the callbacks' logs)
   * @returns the step's loss
   */
  step(run: LoopStep, size: number): Promise<number> {
    this.assertLive('kit.step');
    return this.defaultLoop().step(run, size);
  }

  /**
   * A custom loop running the kit's callbacks and then `extra` (a checkpoint callback, a monitor, plain-object
   * callbacks) around each step, as `fit(…, { callbacks: kit.withCallbacks(...extra) })` would; its
   * `trainOnBatch(x, y)` and `step(run, size)` work as the kit's.
   */
  loop(...extra: Array<tf.Callback | tf.CustomCallback | tf.CustomCallbackArgs>): CustomLoop {
    this.assertLive('kit.loop');
    const { epochs, stepsPerEpoch } = this.settings;
    return new CustomLoop(this.model, this.withCallbacks(...extra), { epochs, stepsPerEpoch });
  }

  private defaultLoop(): CustomLoop {
    this.ownLoop ??= this.loop();
    return this.ownLoop;
  }

  /** A {@link ReliabilityMonitor} with this kit's numClasses, output kind, event bus and preset's ECE. */
  monitor(options: Omit<ReliabilityMonitorOptions, 'numClasses'> & { numClasses?: number }): ReliabilityMonitor {
    this.assertLive('kit.monitor');
    const score = this.scoreFromContainer(options?.score);
    return new ReliabilityMonitor({
      numClasses: this.numClasses, from: this.outputKind, output: this.output, events: this.events, ece: this.settings.ece, roc: this.settings.roc, ...options,
      ...(score ? { score } : {}),
    });
  }

  /** Whether {@link dispose} ran. */
  get isDisposed(): boolean {
    return this.parts.masks.isDisposed;
  }

  private assertLive(use: string): void {
    this.parts.masks.assertLive(use);
  }

  /** A score registered under `name` in the kit's container chain (your container's registrations), if any. */
  private scoreFromContainer(name: ReliabilityMonitorOptions['score']): ScoreForms | undefined {
    if (typeof name !== 'string' || !this.container.isRegistered(scoreToken(name), true)) return undefined;
    return this.container.resolve<ScoreForms>(scoreToken(name));
  }

  /**
   * Writes a checkpoint (Node): the model's weights, masks, step, α and the tuner, the voter's average, the random
   * state and the optimizer's slots, with a format version and checksums; atomically.
   * @param nextEpoch the epoch a resumed fit starts at (default: the epochs completed so far)
   */
  async checkpoint(dir: string, nextEpoch?: number): Promise<void> {
    this.assertLive('kit.checkpoint');
    const optimizer = this.model.optimizer;
    const wrapper = optimizer instanceof MaskedOptimizer && optimizer.kitId === this.parts.id ? optimizer : undefined;
    await saveKitCheckpoint(dir, this.parts.checkpointParts, wrapper, nextEpoch ?? this.parts.phase.completedEpochs);
  }

  /** A callback writing `dir/epoch-<n>` every `everyEpochs` epochs, keeping the last `keep`; put it after `kit.callbacks`. */
  checkpointCallback(options: CheckpointOptions): CheckpointCallback {
    this.assertLive('kit.checkpointCallback');
    return new CheckpointCallback(options, (dir, nextEpoch) => this.checkpoint(dir, nextEpoch), this.parts.checkpointParts.run);
  }

  /**
   * Frees the kit's tensors (masks, α, averages), restores the layers' own `call` and frees the model for another
   * kit. The model and its weights are untouched. A second call does nothing; any other member then throws.
   */
  dispose(): void {
    const p = this.parts;
    if (p.masks.isDisposed) return;
    releaseModel(p.model, p.id);
    p.updater.release();
    p.masks.dispose();
    p.weightDrop?.dispose();
    p.sparseTraining?.dispose();
    p.lossState?.dispose();
    p.alphaSchedule?.dispose();
    p.weightAverage?.dispose();
    p.lossWatch.dispose();
    p.lossStall.dispose();
    p.phase.dispose();
  }
}
