import * as tf from '@tensorflow/tfjs';
import { ownedVariable } from '../owned-variable';

/**
 * Remembers, on the device, the optimizer step of the first non-finite batch loss of a fit, without a per-batch
 * read: one small read per epoch tells whether the run diverged.
 */
export class NonFiniteLossWatch {
  /** The optimizer step (1-based, as in `mask:update`) of the first non-finite loss, −1 while none. */
  private readonly firstBadStep = ownedVariable(() => tf.scalar(-1)) as tf.Variable<tf.Rank.R0>;
  private hostBadStep = -1;

  /** Forgets earlier fits: a diverged fit must not fail every later fit with the kit. */
  reset(): void {
    this.hostBadStep = -1;
    tf.tidy(() => this.firstBadStep.assign(tf.scalar(-1)));
  }

  /**
   * Records the loss of the batch that ended at optimizer step `step`: a tensor (compared on the device) or a number
   * (a callback earlier in the list may already have turned the logs into numbers).
   */
  record(loss: unknown, step: number): void {
    if (loss instanceof tf.Tensor) {
      tf.tidy(() => {
        const first = tf.logicalAnd(tf.logicalNot(tf.isFinite(loss)), tf.equal(this.firstBadStep, -1));
        this.firstBadStep.assign(tf.where(first, tf.scalar(step), this.firstBadStep) as tf.Scalar);
      });
    } else if (typeof loss === 'number' && !Number.isFinite(loss) && this.hostBadStep < 0) {
      this.hostBadStep = step;
    }
  }

  /** The step of the first non-finite loss since {@link reset}, or −1; one scalar read. */
  async firstNonFiniteStep(): Promise<number> {
    return this.hostBadStep >= 0 ? this.hostBadStep : (await this.firstBadStep.data())[0];
  }

  dispose(): void {
    this.firstBadStep.dispose();
  }
}
