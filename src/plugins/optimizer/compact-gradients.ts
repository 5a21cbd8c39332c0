import type * as tf from '@tensorflow/tfjs';

/** One kernel's step on its active weights only: the compact parameter the inner optimizer steps, and its gradient. */
export interface CompactStep {
  /** The kernel's active weights as a vector (refreshed from the kernel for this step); the inner optimizer steps it. */
  readonly values: tf.Variable;
  /** The loss gradient at the active weights, in the order of `values`. */
  readonly gradient: tf.Tensor;
  /** Writes the stepped `values` back into the kernel (the kernel stays zero off its mask). */
  writeBack(): void;
}

/**
 * What the optimizer wrapper asks of compact optimizer state (sparse training with `kernels`): the inner
 * optimizer steps a masked kernel through a vector of its active weights, with slots of that size, so a step makes
 * no dense gradient and no pass over the whole kernel. The source decides per kernel; a kernel it has no step for
 * trains as in dense mode.
 */
export interface CompactGradients {
  /**
   * Runs `compute` (the step's gradient computation): sparse layers keep their gradient compact during it, and
   * hand the wrapper a gradient of zeros for the kernel itself, which the wrapper never applies.
   */
  collectDuring<T>(compute: () => T): T;
  /** The compact step of the kernel variable named `variableName` in this step, if it has one. */
  take(variableName: string, denseGradient: tf.Tensor): CompactStep | undefined;
  /** Frees what this step collected. */
  close(): void;
  /**
   * Brings the inner optimizer's slots of compact kernels back to the kernels' shape, named after the kernels
   * (before anything reads, saves or changes them: checkpoints, mask updates, `getWeights`).
   */
  toDense(): Promise<void>;
}
