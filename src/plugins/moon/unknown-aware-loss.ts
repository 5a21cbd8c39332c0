import * as tf from '@tensorflow/tfjs';
import { ownedVariable } from '../owned-variable';
import type { PartState } from '../../core/types';
import type { FitPhase } from '../fit/fit-phase';
import { MoonConfigError } from '../../core/errors';
import type { OutputKind } from '../../core/types';
import { probabilitiesFrom } from '../../metrics/scores';
import { oneHotLabels } from '../labels';

/** u = p(unknown) is clamped below 1 so that 1 + α·u and log terms stay finite (the reference's epsilon). */
const UNKNOWN_CLAMP = 1 - 1e-7;
/** Probabilities are clipped to [1e-7, 1] before the log, as TF.js's own categoricalCrossentropy does. */
const PROBABILITY_EPSILON = 1e-7;

/**
 * The state the loss shares with the auto-tuner: α (read by the loss) and the EWMA of mean((1 − u)·CE) (written by
 * the loss on training batches, read by the tuner). Both live on the device, so no batch syncs with the host.
 */
export class UnknownAwareState {
  /** Strength of the re-weighting; 0 during warm-up, which makes the loss plain cross-entropy over K+1 outputs. */
  readonly alpha: tf.Variable = ownedVariable(() => tf.scalar(0));
  /** EWMA of the per-batch mean of (1 − u)·CE over training batches. */
  readonly ewma: tf.Variable = ownedVariable(() => tf.scalar(0));
  /** Whether the EWMA holds a value (the first training batch sets it outright). */
  ewmaStarted = false;

  /**
   * @param ewmaMomentum μ, the weight of the newest batch (0.05 in the reference)
   * @param phase the kit's fit state: only training steps (marked by the optimizer wrapper) update the EWMA
   */
  constructor(
    readonly ewmaMomentum: number,
    readonly phase: FitPhase,
  ) {}

  /** α, the EWMA and whether it has started. */
  exportState(): PartState {
    return { tensors: { alpha: this.alpha.clone(), ewma: this.ewma.clone() }, values: { ewmaStarted: this.ewmaStarted } };
  }

  importState(state: PartState): void {
    this.alpha.assign(state.tensors.alpha as tf.Scalar);
    this.ewma.assign(state.tensors.ewma as tf.Scalar);
    this.ewmaStarted = state.values.ewmaStarted === true;
  }

  dispose(): void {
    tf.dispose([this.alpha, this.ewma]);
  }
}

/**
 * Which unknown-aware loss to train with once α is set (during warm-up, α = 0, every variant is plain
 * cross-entropy over the K+1 outputs). See {@link unknownAwareLoss} for the formulas.
 */
export type LossVariant = 'released' | 'abstention' | 'log-unknown';
/** The accepted {@link LossVariant} values. */
export const LOSS_VARIANTS: readonly LossVariant[] = ['released', 'abstention', 'log-unknown'];

/**
 * The unknown-aware loss, per sample i with h_i the cross-entropy over all K+1 outputs and u_i = p_i(unknown)
 * clamped to [1e-7, 1 − 1e-7]:
 *
 * - 'released' (default), the reference code's `extra_c_loss`:
 *   L_i = h_i · w_i,   w_i = 1 if argmax over all K+1 outputs is the label, else 1 + α / (1 + α·u_i).
 * - 'abstention', the deep abstaining classifier the reference's docstring names (Thulasidasan et al. 2019):
 *   L_i = (1 − u_i) · CE_K,i − α · log(1 − u_i), with CE_K,i = −log(p_i(y) / (1 − u_i)) the cross-entropy over the K
 *   known classes renormalised; abstaining (u → 1) trades the CE term against the α penalty.
 * - 'log-unknown', the alternative the reference code carries commented out (`extra_c_loss.py:135`):
 *   L_i = h_i + α · log(u_i) / (1 + α·u_i), for every sample. Its extra term grows with u, so descent lowers
 *   p(unknown) everywhere: an opt-in for the investigation, not a recommendation.
 *
 * While α = 0 (the tuner's warm-up) every variant is h_i, as the reference's learning epochs are.
 *
 * It returns the per-sample losses [B]; `fit` weights them (classWeight) and takes the mean, as for its own losses.
 *
 * The gradient flows through u_i (that is what teaches the unknown output: descent raises u on misclassified
 * samples) but not through the correctness indicator (built from argMax/oneHot, whose gradients are zero). With
 * α = 0 (warm-up) the loss is plain cross-entropy. On training steps it also updates the EWMA the tuner reads,
 * from the batch mean of (1 − u)·h (unweighted by classWeight, as in the reference).
 *
 * @returns a loss function `(yTrue, yPred) => losses [B]` for `model.compile({ loss })`.
 */
export function unknownAwareLoss(
  numClasses: number,
  from: OutputKind,
  state: UnknownAwareState,
  variant: LossVariant = 'released',
): (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor1D {
  return (yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor1D => {
    if (yPred.shape[yPred.rank - 1] !== numClasses + 1) {
      throw new MoonConfigError(
        `the unknown-aware loss needs numClasses + 1 = ${numClasses + 1} outputs, got ${yPred.shape[yPred.rank - 1]}: add one unit to the last layer (addUnknownHead(model))`,
      );
    }
    const labels = oneHotLabels(yTrue, numClasses, numClasses + 1);
    const logP = from === 'logits' ? tf.logSoftmax(yPred) : tf.log(tf.clipByValue(yPred, PROBABILITY_EPSILON, 1));
    const p = probabilitiesFrom(yPred, from);
    const crossEntropy = tf.neg(tf.sum(tf.mul(labels, logP), -1));
    const unknown = tf.minimum(tf.squeeze(tf.slice(p, [0, numClasses], [-1, 1]), [1]), UNKNOWN_CLAMP);
    if (state.phase.inTrainingStep) updateEwma(state, crossEntropy, unknown);
    const alpha = state.alpha;
    if (variant === 'released') {
      // argMax and oneHot have zero gradients: the indicator is a constant for backprop (tfjs has no NotEqual grad).
      const correct = tf.sum(tf.mul(labels, tf.oneHot(tf.argMax(yPred, -1), numClasses + 1)), -1);
      const wrongWeight = tf.add(1, tf.div(alpha, tf.add(1, tf.mul(alpha, unknown))));
      const weight = tf.add(correct, tf.mul(tf.sub(1, correct), wrongWeight));
      return tf.mul(crossEntropy, weight) as tf.Tensor1D;
    }
    const variantLoss = variant === 'abstention' ? abstentionLoss(crossEntropy, unknown, alpha) : logUnknownLoss(crossEntropy, unknown, alpha);
    // Plain cross-entropy while α = 0 (warm-up): a 0/1 switch on the device, no host read.
    const on = tf.cast(tf.greater(alpha, 0), 'float32');
    return tf.add(tf.mul(on, variantLoss), tf.mul(tf.sub(1, on), crossEntropy)) as tf.Tensor1D;
  };
}

/** (1 − u)·CE_K − α·log(1 − u), with CE_K = h + log(1 − u) (the K known classes renormalised). */
function abstentionLoss(crossEntropy: tf.Tensor, unknown: tf.Tensor, alpha: tf.Tensor): tf.Tensor {
  const logKnown = tf.log(tf.sub(1, unknown)); // u ≤ 1 − 1e-7: finite
  const knownCrossEntropy = tf.add(crossEntropy, logKnown);
  return tf.sub(tf.mul(tf.sub(1, unknown), knownCrossEntropy), tf.mul(alpha, logKnown));
}

/** h + α·log(u)/(1 + α·u), u clamped at 1e-7 below (the reference's commented-out alternative). */
function logUnknownLoss(crossEntropy: tf.Tensor, unknown: tf.Tensor, alpha: tf.Tensor): tf.Tensor {
  const u = tf.maximum(unknown, PROBABILITY_EPSILON);
  return tf.add(crossEntropy, tf.div(tf.mul(alpha, tf.log(u)), tf.add(1, tf.mul(alpha, u))));
}

/** ewma ← mean((1 − u)·h) on the first training batch, then μ·that + (1 − μ)·ewma; all on the device. */
function updateEwma(state: UnknownAwareState, crossEntropy: tf.Tensor, unknown: tf.Tensor): void {
  const batchValue = tf.mean(tf.mul(tf.sub(1, unknown), crossEntropy));
  const mu = state.ewmaMomentum;
  state.ewma.assign(state.ewmaStarted ? tf.add(tf.mul(mu, batchValue), tf.mul(1 - mu, state.ewma)) : batchValue);
  state.ewmaStarted = true;
}
