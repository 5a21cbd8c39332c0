import * as tf from '@tensorflow/tfjs';
import type { LossStallWarning } from '../../core/events';
import { ownedVariable } from '../owned-variable';

/** How close to the chance-level loss the first epoch's first and last batch must be, and how little apart. */
const NEAR_CHANCE = 0.02;
const STILL = 0.005;
/** A first epoch shorter than this is no evidence: a healthy net may take a few dozen steps to leave chance. */
const MIN_STEPS = 20;

/**
 * Watches the first epoch of a run for a loss that sits at the chance level and does not move: a sparse net whose
 * signal vanishes at initialisation stays there (issue #22's CNN at 90% without the sparse fan-in init, at 0.100
 * accuracy for 6 epochs). The chance level is ln(outputs), the cross-entropy of a uniform prediction, whatever the
 * labels. It compares the first and the last batch of the first epoch, so MOON's loss is still plain cross-entropy
 * (α is 0 during the warm-up), and says nothing about a first epoch under 20 steps. It keeps both losses on the
 * device (no per-batch read), owns them, and warns once.
 */
export class LossStallWatch {
  private readonly first = ownedVariable(() => tf.scalar(Number.NaN)) as tf.Variable<tf.Rank.R0>;
  private readonly last = ownedVariable(() => tf.scalar(Number.NaN)) as tf.Variable<tf.Rank.R0>;
  private hostLosses: number[] = [];
  private steps = 0;
  private done = false;

  /** @param outputs the classifier's width (K, or K + 1 with the unknown output; 2 for one sigmoid unit) */
  constructor(private readonly outputs: number) {}

  /** Whether the run's first epoch (the kit's epoch 0) is still being watched. */
  wants(epoch: number): boolean {
    return !this.done && epoch === 0;
  }

  /** Records the loss of a batch of epoch 0: a tensor (kept on the device) or a number. */
  record(loss: unknown): void {
    this.steps++;
    if (loss instanceof tf.Tensor) {
      tf.tidy(() => {
        if (this.steps === 1) this.first.assign(tf.reshape(tf.cast(loss, 'float32'), []));
        this.last.assign(tf.reshape(tf.cast(loss, 'float32'), []));
      });
    } else if (typeof loss === 'number') {
      this.hostLosses = this.steps === 1 ? [loss, loss] : [this.hostLosses[0], loss];
    }
  }

  /** At the end of epoch 0: the warning when its first and last batch sat at chance, one read of two scalars. */
  async verdict(): Promise<LossStallWarning | undefined> {
    if (this.done) return undefined;
    this.done = true;
    if (this.steps < MIN_STEPS) return undefined;
    const [first, last] = this.hostLosses.length === 2 ? this.hostLosses : await this.readDeviceLosses();
    const chance = Math.log(this.outputs);
    const nearChance = (l: number) => Math.abs(l - chance) <= NEAR_CHANCE * chance;
    if (!nearChance(first) || !nearChance(last) || Math.abs(last - first) > STILL * first) return undefined;
    return {
      kind: 'loss-stalled',
      losses: [first, last],
      message:
        `the loss has not moved in the first epoch (${this.steps} steps: ${first.toFixed(4)} → ${last.toFixed(4)}) and sits at the chance ` +
        `level ln(${this.outputs}) = ${chance.toFixed(4)}: the model predicts uniformly and is not learning. Likely causes: a learning rate ` +
        "too low (or 0), a signal that vanishes through sparse layers (keep mask.initScale: 'sparse-fan-in', add BatchNorm, " +
        'or lower the sparsity), or labels that do not match the inputs',
    };
  }

  private async readDeviceLosses(): Promise<number[]> {
    const both = tf.stack([this.first, this.last]);
    try {
      return Array.from(await both.data());
    } finally {
      both.dispose();
    }
  }

  /** Frees the two kept losses. */
  dispose(): void {
    this.first.dispose();
    this.last.dispose();
  }
}
