import * as tf from '@tensorflow/tfjs';
import { MoonConfigError } from '../../core/errors';
import type { PartState, TunerSettings } from '../../core/types';
import { ownedVariable } from '../owned-variable';
import type { UnknownAwareState } from './unknown-aware-loss';

/**
 * The auto-tuner's α ramp: α = 0 during the warm-up epochs; at the first epoch after warm-up, W, α = EWMA / initFactor;
 * then α moves linearly per epoch to alphaFinal at the last epoch: α_e = α_W + (e − W)·(alphaFinal − α_W)/(E − 1 − W).
 * It owns α_W, the increment and W; α itself and the EWMA belong to the loss's {@link UnknownAwareState}. Everything
 * stays on the device.
 */
export class AlphaSchedule {
  /** α_W, and the per-epoch increment, set once at epoch W. */
  private readonly alphaStart = ownedVariable(() => tf.scalar(0));
  private readonly alphaIncrement = ownedVariable(() => tf.scalar(0));
  private startEpoch: number | null = null;

  /**
   * @param state the loss's α (written here) and EWMA (read at epoch W)
   * @param settings warm-up, init factor, final α and run length
   */
  constructor(
    private readonly state: UnknownAwareState,
    readonly settings: TunerSettings,
  ) {}

  /**
   * Sets α for `epoch` (0-based, from the optimizer's step count).
   * @returns whether α is past the warm-up (so there is a value worth reporting)
   */
  enterEpoch(epoch: number): boolean {
    const { warmupEpochs, initFactor, alphaFinal, epochs } = this.settings;
    if (epoch < warmupEpochs) {
      tf.tidy(() => this.state.alpha.assign(tf.scalar(0)));
      return false;
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
    return true;
  }

  /** α and the EWMA as they stand, read without blocking. */
  async read(): Promise<{ alpha: number; ewma: number }> {
    const [alpha, ewma] = await Promise.all([this.state.alpha.data(), this.state.ewma.data()]);
    return { alpha: alpha[0], ewma: ewma[0] };
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

  /** Frees the schedule's own variables (not the shared state). */
  dispose(): void {
    tf.dispose([this.alphaStart, this.alphaIncrement]);
  }
}
