import * as tf from '@tensorflow/tfjs';
import { MoonModelError, MoonOptimizerError } from '../core/errors';
import type { MoonEventBus } from '../core/events';
import type { FitPhase } from '../plugins/fit/fit-phase';
import { epochOfStep } from '../plugins/schedules/epochs';
import { checkFitAgainstPlan, type FitParams, type FitPlan } from '../plugins/fit/fit-plan';
import type { MaskSet } from '../plugins/masks/mask-set';
import type { GradualPruning } from '../plugins/masks/gradual-pruning';
import type { MaskUpdater } from '../plugins/masks/mask-updater';
import { MaskedOptimizer } from '../plugins/optimizer/masked-optimizer';
import type { SparseTraining } from '../plugins/sparse/sparse-training';

/**
 * Schedules prune-and-grow inside `model.fit`. Before each batch it asks the updater whether the coming
 * optimizer step (counted by the optimizer wrapper, so a resumed run continues its schedule) is an update step
 * and arms it; after the batch it runs the update. It also checks, before the first batch, that the model is the
 * kit's, is compiled with the kit's optimizer wrapper (whose slots can be read when masks change) and that the fit
 * matches the kit's plan; it announces each step to the wrapper (so that a fit without the kit's callbacks is caught),
 * and emits `mask:init` once per kit.
 */
export class MaskUpdaterCallback extends tf.Callback {
  /**
   * @param kitId the kit whose optimizer wrapper must train the model
   * @param masks the kit's mask set
   * @param updater the kit's prune-and-grow engine
   * @param events the kit's event bus
   * @param phase the kit's fit state
   * @param plan the epochs and steps per epoch the kit was created for
   * @param pruning the kit's gradual pruning, if on
   * @param sparse the kit's sparse compute of Dense layers, if on (`kernels`)
   */
  constructor(
    private readonly kitId: number,
    private readonly masks: MaskSet,
    private readonly updater: MaskUpdater,
    private readonly events: MoonEventBus,
    private readonly phase: FitPhase,
    private readonly plan: FitPlan,
    private readonly pruning?: GradualPruning,
    private readonly sparse?: SparseTraining,
  ) {
    super();
  }

  override async onTrainBegin(): Promise<void> {
    this.masks.assertLive('fit with kit.callbacks');
    this.assertKitModel();
    const wrapper = this.wrapper(); // fails early when the optimizer is not the kit's wrapper
    await this.phase.restoreOptimizerState(wrapper);
    if (this.updater.changesMasks) await this.assertSlotsReadable(wrapper);
    checkFitAgainstPlan(this.params as FitParams, this.plan, wrapper.iterations);
    await this.sparse?.refresh(); // the masks may have changed since the last fit (a resume, a kit.checkpoint load)
    if (!this.phase.initAnnounced) {
      this.phase.initAnnounced = true;
      this.events.emit('mask:init', { layers: this.masks.view(), density: this.masks.density() });
    }
  }

  override async onEpochEnd(): Promise<void> {
    this.phase.completedEpochs = epochOfStep(this.wrapper().iterations, this.plan.stepsPerEpoch);
  }

  override async onBatchBegin(): Promise<void> {
    const step = this.wrapper().iterations + 1;
    this.phase.announcedStep = step; // the wrapper steps only announced steps: the kit's callbacks are in this fit
    if (this.updater.isDue(step)) this.updater.arm(step);
    // RigL's growth reads the dense gradient: that one step runs the Dense layers' own dense product.
    if (!this.sparse) return;
    this.sparse.denseStep = this.updater.pendingStep !== null && this.updater.needsGradients;
    // Compact optimizer state for the sparse layers (again after a mask update, a checkpoint or a resume).
    if (!this.sparse.denseStep) await this.sparse.prepareStep(this.wrapper().inner);
  }

  override async onBatchEnd(): Promise<void> {
    let masksChanged = false;
    const step = this.wrapper().iterations; // the step just taken (1-based)
    const pruneDue = this.pruning?.isDue(step) ?? false;
    // Mask updates and pruning read and zero the optimizer's slots in the kernels' shape.
    if (this.updater.pendingStep !== null || pruneDue) await this.sparse?.compact.toDense();
    if (this.updater.pendingStep !== null) {
      await this.updater.update(this.wrapper().inner);
      masksChanged = true;
    }
    if (pruneDue) {
      await this.pruning!.pruneAt(step);
      masksChanged = true;
    }
    if (this.sparse) {
      this.sparse.denseStep = false;
      if (masksChanged) await this.sparse.refresh();
    }
  }

  override async onTrainEnd(): Promise<void> {
    this.updater.release(); // a fit stopped between onBatchBegin and onBatchEnd leaves nothing behind
    await this.sparse?.compact.toDense(); // after fit the optimizer's slots are as dense mode leaves them
  }

  /** Mask updates zero optimizer slots at grown positions: fail before the first step if they cannot be read. */
  private async assertSlotsReadable(wrapper: MaskedOptimizer): Promise<void> {
    const error = await wrapper.slotProbe;
    if (error === undefined) return;
    throw new MoonOptimizerError(
      `the kit cannot read the slots of ${wrapper.inner.getClassName()} through getWeights() (${error.message}), and mask ` +
        `updates must zero them at grown positions: use sgd, momentum, adam, adagrad, adadelta or rmsprop, or sparsifier: 'static'`,
    );
  }

  private wrapper(): MaskedOptimizer {
    const optimizer = this.model.optimizer;
    if (optimizer instanceof MaskedOptimizer && optimizer.kitId === this.kitId) return optimizer;
    const what = optimizer instanceof MaskedOptimizer ? "another kit's optimizer wrapper" : `a plain ${optimizer?.getClassName?.() ?? 'optimizer'}`;
    throw new MoonOptimizerError(
      `the model is compiled with ${what}, so the masks would not hold and RigL would see no gradients: ` +
        `compile with model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.1, 0.9)), … }) using this kit`,
    );
  }

  private assertKitModel(): void {
    const names = new Set(this.model.weights.map((w) => w.name));
    const missing = this.masks.entries.filter((e) => !names.has(e.kernel.variable.name));
    if (missing.length === 0) return;
    throw new MoonModelError(
      `this kit was created for another model: kernel "${missing[0].kernel.variable.name}" is not among this ` +
        `model's weights. Create one kit per model: createMoon({ model, … }) with the model you fit`,
    );
  }
}
