import * as tf from '@tensorflow/tfjs';
import { ownedVariable } from '../plugins/owned-variable';
import { MoonConfigError } from '../errors';
import type { MoonEventBus } from '../events';
import { epochOfStep } from '../plugins/fit/fit-phase';
import type { UnknownAwareState } from '../plugins/moon/unknown-aware-loss';
import type { PartState } from '../plugins/state';

/** The auto-tuner's settings, every default filled in. */
export interface TunerSettings {
  /** Epochs of plain cross-entropy (α = 0) before α is set. */
  readonly warmupEpochs: number;
  /** α at the first post-warm-up epoch is EWMA / initFactor (the reference's `w_out2`, 64). */
  readonly initFactor: number;
  /** α at the last epoch (the reference's `w_out`, 1). */
  readonly alphaFinal: number;
  /** Number of epochs of the run. */
  readonly epochs: number;
  /** Optimizer steps per epoch: the epoch is derived from the optimizer's step count. */
  readonly stepsPerEpoch: number;
}

/**
 * The auto-tuner of α, the strength of the unknown-aware loss. During the warm-up epochs α = 0 (plain cross-entropy)
 * while the loss keeps an EWMA of mean((1 − u)·CE). At the first epoch after warm-up, W, α = EWMA / initFactor;
 * then α moves linearly per epoch to alphaFinal at the last epoch: α_e = α_W + (e − W)·(alphaFinal − α_W)/(E − 1 − W).
 * The epoch is the one the optimizer's step count is in, not `fit`'s own counter, so one `fit` call per epoch
 * (without `initialEpoch`) follows the same ramp. Everything stays on the device; `tuner:alpha` reads two numbers
 * per epoch only when someone listens.
 */
export class AutoTunerCallback extends tf.Callback {
  /** α_W, and the per-epoch increment, set once at epoch W. */
  private readonly alphaStart = ownedVariable(() => tf.scalar(0));
  private readonly alphaIncrement = ownedVariable(() => tf.scalar(0));
  private startEpoch: number | null = null;

  /**
   * @param state the loss's α and EWMA
   * @param settings warm-up, init factor, final α and run length
   * @param events where `tuner:alpha` goes
   */
  constructor(
    private readonly state: UnknownAwareState,
    readonly settings: TunerSettings,
    private readonly events: MoonEventBus,
  ) {
    super();
  }

  override async onEpochBegin(): Promise<void> {
    const { warmupEpochs, initFactor, alphaFinal, epochs, stepsPerEpoch } = this.settings;
    const epoch = epochOfStep(this.model.optimizer.iterations, stepsPerEpoch);
    if (epoch < warmupEpochs) {
      tf.tidy(() => this.state.alpha.assign(tf.scalar(0)));
      return;
    }
    if (this.startEpoch === null) {
      if (!this.state.ewmaStarted) {
        throw new MoonConfigError(
          `the auto-tuner reached epoch ${epoch} without one training batch of the unknown-aware loss: compile the model ` +
            `with model.compile({ loss: kit.loss, … }) and pass kit.callbacks to fit`,
        );
      }
      const remaining = epochs - 1 - epoch;
      tf.tidy(() => {
        const start = tf.div(this.state.ewma, initFactor) as tf.Scalar;
        this.alphaStart.assign(start);
        this.alphaIncrement.assign((remaining > 0 ? tf.div(tf.sub(alphaFinal, start), remaining) : tf.scalar(0)) as tf.Scalar);
      });
      this.startEpoch = epoch;
    }
    const elapsed = epoch - this.startEpoch;
    tf.tidy(() => this.state.alpha.assign(tf.add(this.alphaStart, tf.mul(this.alphaIncrement, elapsed))));
    if (this.events.listenerCount('tuner:alpha') > 0) {
      const [alpha, ewma] = await Promise.all([this.state.alpha.data(), this.state.ewma.data()]);
      this.events.emit('tuner:alpha', { epoch, alpha: alpha[0], ewma: ewma[0] });
    }
  }

  /** α_W, the increment and the epoch W they were set at (the shared α/EWMA are saved by the loss state). */
  exportState(): PartState {
    return { tensors: { alphaStart: this.alphaStart.clone(), alphaIncrement: this.alphaIncrement.clone() }, values: { startEpoch: this.startEpoch } };
  }

  importState(state: PartState): void {
    this.alphaStart.assign(state.tensors.alphaStart as tf.Scalar);
    this.alphaIncrement.assign(state.tensors.alphaIncrement as tf.Scalar);
    this.startEpoch = (state.values.startEpoch as number | null) ?? null;
  }

  /** Frees the tuner's own variables (not the shared state). */
  dispose(): void {
    tf.dispose([this.alphaStart, this.alphaIncrement]);
  }
}
