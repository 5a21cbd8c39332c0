import * as tf from '@tensorflow/tfjs';
import { MoonModelError, MoonOptimizerError } from '../errors';
import type { MoonEventBus } from '../events';
import type { MaskSet } from '../plugins/masks/mask-set';
import type { MaskUpdater } from '../plugins/mask-updater';
import { MaskedOptimizer, type NamedTensor } from '../plugins/optimizer/masked-optimizer';

/**
 * Schedules prune-and-grow inside `model.fit`. Before each batch it asks the updater whether the coming
 * optimizer step (counted by the optimizer wrapper, so a resumed run continues its schedule) is an update step
 * and arms it; after the batch it runs the update. It also checks, before the first batch, that the model is the
 * kit's and is compiled with the kit's optimizer wrapper, and emits `mask:init` once per kit.
 */
export class MaskUpdaterCallback extends tf.Callback {
  private initEmitted = false;
  /** Optimizer state from a checkpoint, handed to the wrapper before the first step (restoring slots is async). */
  private pendingOptimizerState: NamedTensor[] | undefined;
  /** Epochs completed (the `initialEpoch` of a fit that continues this one). */
  completedEpochs = 0;

  /**
   * @param kitId the kit whose optimizer wrapper must train the model
   * @param masks the kit's mask set
   * @param updater the kit's prune-and-grow engine
   * @param events the kit's event bus
   */
  constructor(
    private readonly kitId: number,
    private readonly masks: MaskSet,
    private readonly updater: MaskUpdater,
    private readonly events: MoonEventBus,
  ) {
    super();
  }

  /** Restores these optimizer weights (step counters, slots) into the wrapper when the next fit starts. */
  restoreOptimizerState(weights: NamedTensor[], completedEpochs: number): void {
    this.pendingOptimizerState = weights;
    this.completedEpochs = completedEpochs;
  }

  override async onTrainBegin(): Promise<void> {
    this.assertKitModel();
    const wrapper = this.wrapper(); // fails early when the optimizer is not the kit's wrapper
    if (this.pendingOptimizerState) {
      const pending = this.pendingOptimizerState;
      this.pendingOptimizerState = undefined;
      try {
        await wrapper.setWeights(pending);
      } finally {
        tf.dispose(pending.map((w) => w.tensor));
      }
    }
    if (!this.initEmitted) {
      this.initEmitted = true;
      this.events.emit('mask:init', { layers: this.masks.view(), density: this.masks.density() });
    }
  }

  override async onEpochEnd(epoch: number): Promise<void> {
    this.completedEpochs = epoch + 1;
  }

  override async onBatchBegin(): Promise<void> {
    const step = this.wrapper().iterations + 1;
    if (this.updater.isDue(step)) this.updater.arm(step);
  }

  override async onBatchEnd(): Promise<void> {
    if (this.updater.pendingStep !== null) await this.updater.update(this.wrapper().inner);
  }

  override async onTrainEnd(): Promise<void> {
    this.updater.release(); // a fit stopped between onBatchBegin and onBatchEnd leaves nothing behind
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
