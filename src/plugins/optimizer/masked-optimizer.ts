import * as tf from '@tensorflow/tfjs';
import { MoonConfigError, MoonModelError } from '../../core/errors';
import type { FitPhase } from '../fit/fit-phase';
import { applyMask, type MaskSet } from '../masks/mask-set';
import { getOptimizerLearningRate, probeOptimizerSlots, setOptimizerLearningRate } from './optimizer-slots';
import type { CompactGradients, CompactStep } from './compact-gradients';
import { INNER_ITER, innerOptimizerFromConfig } from './saved-optimizer';

/** A gradient or an optimizer weight with the name of its variable (tfjs-core's NamedTensor). */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/** What the wrapper needs from the mask updater: whether a step is an update step, and where its gradients go. */
export interface GradientTap {
  /** True when `step` (1-based) is a mask-update step that replaces the optimizer step. */
  isArmedFor(step: number): boolean;
  /** Receives the dense gradients of the masked kernels on an update step (the tap clones what it keeps). */
  receiveGradients(gradients: readonly NamedTensor[]): void;
}

/** How a wrapper takes part in the kit's fit. */
export interface WrapperContext {
  /** The kit's fit state: the wrapper marks training steps in it and reads whether the kit's callbacks run. */
  readonly phase: FitPhase;
  /**
   * Whether a step without the kit's callbacks is an error: true when the kit has schedules that only its callbacks
   * drive (mask updates, the auto-tuner, the voter, the learning-rate schedule).
   */
  readonly requiresCallbacks: boolean;
  /** Runs before each inner step (the as-released random weight drop). */
  readonly beforeStep?: () => void;
  /** Dense training (all masks full and never changing): gradients go to the inner optimizer unmasked. */
  readonly passThrough?: boolean;
  /** Coupled L2 decay: weightDecay · w is added to each gradient before masking (0 or absent: none). */
  readonly weightDecay?: number;
  /** Compact optimizer state of sparse training (`kernels`): kernels stepped on their active weights alone. */
  readonly compact?: CompactGradients;
}

/**
 * Wraps any TF.js optimizer for sparse training; `kit.optimizer(inner)` builds one. On every step it
 * 1. multiplies each masked kernel's gradient by its mask,
 * 2. steps the inner optimizer,
 * 3. multiplies the kernel by its mask again, because optimizer state (momentum, Adam moments) at positions that
 *    were just switched off would otherwise keep moving them.
 * On a mask-update step it hands the **dense** gradients to the mask updater and skips the optimizer step, as
 * RigL and the reference code do. The step counter (`iterations`) counts both kinds of steps, and the schedules
 * are functions of it.
 */
export class MaskedOptimizer extends tf.Optimizer {
  /** @nocollapse */
  static className = 'MaskedOptimizer';

  /**
   * tf.Optimizer answers `instanceof` by duck typing (any object with minimize/applyGradients passes), which a
   * subclass inherits; the wrapper needs the ordinary prototype check to tell its own instances apart.
   */
  static override [Symbol.hasInstance](instance: unknown): boolean {
    return Function.prototype[Symbol.hasInstance].call(this, instance);
  }

  /** The inner optimizer's learning rate when it was wrapped: the base the learning-rate schedule multiplies. */
  readonly baseLearningRate: number | undefined;

  /**
   * Resolves to an error when the inner optimizer's slots cannot be read through `getWeights()` (Adamax), which
   * the kit needs to zero slots at grown positions; the mask-updater callback reports it before the first step.
   */
  readonly slotProbe: Promise<Error | undefined>;

  /**
   * @param inner the user's optimizer; the wrapper owns it from now on
   * @param masks the kit's mask set
   * @param tap the kit's mask updater
   * @param kitId identifies the kit that built this wrapper
   * @param context the kit's fit state and what the wrapper must check
   */
  constructor(
    readonly inner: tf.Optimizer,
    private readonly masks: MaskSet,
    private readonly tap: GradientTap,
    readonly kitId: number,
    private readonly context: WrapperContext,
  ) {
    super();
    this.baseLearningRate = getOptimizerLearningRate(inner);
    this.slotProbe = probeOptimizerSlots(inner);
  }

  /**
   * `model.fit` computes every training step's gradients here (through `minimize`), and only training steps:
   * the loss sees `phase.inTrainingStep` set, so validation batches never feed the auto-tuner's EWMA.
   */
  override computeGradients(f: () => tf.Scalar, varList?: tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap } {
    if (varList !== undefined) this.assertOwnModel(varList.map((v) => v.name));
    this.assertCallbacksAttached();
    this.context.phase.inTrainingStep = true;
    try {
      const compute = () => super.computeGradients(f, varList);
      return this.context.compact ? this.context.compact.collectDuring(compute) : compute();
    } finally {
      this.context.phase.inTrainingStep = false;
    }
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const gradients = Array.isArray(variableGradients)
      ? variableGradients
      : Object.keys(variableGradients).map((name) => ({ name, tensor: variableGradients[name] }));
    this.masks.assertLive('optimizer step');
    this.assertOwnModel(gradients.map((g) => g.name));
    this.assertCallbacksAttached();
    const step = this.iterations_ + 1;
    try {
      if (this.tap.isArmedFor(step)) {
        this.tap.receiveGradients(gradients.filter((g) => this.masks.entryFor(g.name) !== undefined));
      } else {
        this.maskedStep(gradients);
      }
    } finally {
      this.context.compact?.close();
    }
    this.incrementIterations();
  }

  /** The gradients with the coupled weight decay added (as SGD's weight_decay: g + λ·w, before any masking). */
  private withWeightDecay(gradients: readonly NamedTensor[]): readonly NamedTensor[] {
    const decay = this.context.weightDecay ?? 0;
    if (decay === 0) return gradients;
    const variables = tf.engine().registeredVariables;
    return gradients.map(({ name, tensor }) => ({ name, tensor: tf.add(tensor, tf.mul(variables[name], decay)) }));
  }

  /**
   * What the inner optimizer steps, in the order of `gradients` (its slots are kept by position): a compact kernel's
   * active weights with their gradient, a masked kernel's gradient times its mask, any other gradient as it is.
   */
  private innerGradients(gradients: readonly NamedTensor[], compact: readonly (CompactStep | undefined)[]): NamedTensor[] {
    const dense = gradients.map((g, i) => (compact[i] ? { name: compact[i]!.values.name, tensor: compact[i]!.gradient } : g));
    return this.withWeightDecay(dense).map(({ name, tensor }) => {
      const entry = this.masks.entryFor(name);
      return { name, tensor: entry ? tf.mul(tensor, entry.mask) : tensor };
    });
  }

  private maskedStep(gradients: readonly NamedTensor[]): void {
    if (this.context.passThrough) {
      if (!this.context.weightDecay) this.inner.applyGradients(gradients as NamedTensor[]);
      else tf.tidy(() => this.inner.applyGradients(this.withWeightDecay(gradients) as NamedTensor[]));
      return;
    }
    this.context.beforeStep?.();
    tf.tidy(() => {
      const compact = gradients.map(({ name, tensor }) => this.context.compact?.take(name, tensor));
      this.inner.applyGradients(this.innerGradients(gradients, compact));
      gradients.forEach(({ name }, i) => {
        const entry = this.masks.entryFor(name);
        // A compact step wrote only active weights; a dense one re-masks (slots at switched-off positions move them).
        if (compact[i]) compact[i]!.writeBack();
        else if (entry) entry.kernel.variable.assign(applyMask(entry.kernel.variable, entry.mask));
      });
    });
  }

  /**
   * Fails when the kit's callbacks are not in this fit: RigL would silently become static training and MOON plain
   * cross-entropy (TFMOT fails the same way without its UpdatePruningStep).
   */
  private assertCallbacksAttached(): void {
    if (!this.context.requiresCallbacks || this.context.phase.announcedStep === this.iterations_ + 1) return;
    throw new MoonConfigError(
      "the kit's optimizer is stepping but the kit's callbacks are not in this fit, so masks would never update and " +
        "MOON's tuner, voter and learning-rate schedule would not run: pass them, model.fit(x, y, { …, callbacks: [...kit.callbacks] })",
    );
  }

  /** Fails when none of the trained variables is one of the kit's kernels: the kit was built for another model. */
  private assertOwnModel(variableNames: readonly string[]): void {
    if (this.masks.entries.length === 0 || variableNames.some((name) => this.masks.entryFor(name) !== undefined)) return;
    throw new MoonModelError(
      `the optimizer of this kit is training a model that does not hold the kit's kernels ` +
        `(${this.masks.entries.map((e) => e.kernel.variable.name).slice(0, 3).join(', ')}, …): ` +
        `create one kit per model with createMoon({ model }) and compile that model with its kit.optimizer(…)`,
    );
  }

  /** Sets the learning rate of the inner optimizer (works for SGD/Momentum and for Adam & co.). */
  setLearningRate(learningRate: number): void {
    setOptimizerLearningRate(this.inner, learningRate);
  }

  /** The inner optimizer's learning rate. */
  get learningRate(): number | undefined {
    return getOptimizerLearningRate(this.inner);
  }

  set learningRate(value: number | undefined) {
    if (value !== undefined) this.setLearningRate(value);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { inner: this.inner.getClassName(), innerConfig: this.inner.getConfig() };
  }

  /**
   * Loading a model saved with `includeOptimizer` builds the inner optimizer, not a wrapper: a loaded model has no
   * kit (see {@link innerOptimizerFromConfig}).
   */
  static override fromConfig<T extends tf.serialization.Serializable>(_cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return innerOptimizerFromConfig(config) as unknown as T;
  }

  /**
   * The wrapper's step counter (`iter`), the inner optimizer's own counter (`inner/iter`, which differs because
   * update steps skip the inner step, and which Adam's bias correction needs), then the inner optimizer's slots.
   */
  override async getWeights(): Promise<NamedTensor[]> {
    await this.context.compact?.toDense(); // slots in the kernels' shape and names, as dense mode saves them
    const innerWeights = await this.inner.getWeights();
    const renamed = innerWeights.map((w) => (w.name === 'iter' ? { name: INNER_ITER, tensor: w.tensor } : w));
    return [await this.saveIterations(), ...renamed];
  }

  /** Restores what {@link getWeights} returned: both step counters and the inner optimizer's slots. */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    await this.context.compact?.toDense(); // the slots given are dense-mode slots; the next step makes them compact
    const rest = await this.extractIterations(weightValues);
    const innerIter = rest.find((w) => w.name === INNER_ITER);
    const slots = rest.filter((w) => w.name !== INNER_ITER);
    const iter = innerIter?.tensor ?? tf.scalar(0, 'int32');
    try {
      await this.inner.setWeights([{ name: 'iter', tensor: iter }, ...slots]);
    } finally {
      if (innerIter === undefined) iter.dispose();
    }
  }

  /** Disposes the inner optimizer's state. */
  override dispose(): void {
    this.inner.dispose();
    super.dispose();
  }
}

// So that tf.loadLayersModel can read the training config of a model saved while compiled with a wrapper.
tf.serialization.registerClass(MaskedOptimizer);
