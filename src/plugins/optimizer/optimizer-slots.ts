import * as tf from '@tensorflow/tfjs';

/**
 * Multiplies, in place, every optimizer slot (momentum, Adam m/v, RMSProp rms/momentum/mg, Adagrad accumulator,
 * Adadelta accumulators, …) of each variable named in `keep` by its tensor. TF.js keeps slots in private fields,
 * but the public `getWeights()` returns the live slot variables, named `<variable>/<slot>`. Slots that do not
 * exist yet (they are created at the first step) need nothing.
 */
export async function scaleOptimizerSlots(optimizer: tf.Optimizer, keep: ReadonlyMap<string, tf.Tensor>): Promise<void> {
  const weights = await optimizer.getWeights();
  for (const w of weights) {
    if (w.name === 'iter') {
      w.tensor.dispose(); // getWeights() allocates a fresh iteration scalar on every call
      continue;
    }
    const slash = w.name.lastIndexOf('/');
    const factor = slash > 0 ? keep.get(w.name.slice(0, slash)) : undefined;
    if (factor === undefined || !tf.util.arraysEqual(w.tensor.shape, factor.shape)) continue;
    const slot = w.tensor as tf.Variable;
    tf.tidy(() => {
      slot.assign(tf.mul(slot, factor));
    });
  }
}

/** An optimizer whose learning rate TF.js stores in a plain field (Adam, RMSProp, Adagrad, Adadelta, Adamax). */
interface LearningRateField {
  learningRate: number;
}

/**
 * Sets the learning rate of any TF.js optimizer: SGD and Momentum only honour `setLearningRate()` (their step
 * uses a cached scalar), while Adam & co. have no setter and read their `learningRate` field on every step.
 */
export function setOptimizerLearningRate(optimizer: tf.Optimizer, learningRate: number): void {
  const withSetter = optimizer as tf.Optimizer & { setLearningRate?: (lr: number) => void };
  if (typeof withSetter.setLearningRate === 'function') withSetter.setLearningRate(learningRate);
  else (optimizer as unknown as LearningRateField).learningRate = learningRate;
}

/** Reads the learning rate of any TF.js optimizer, or undefined if it has none. */
export function getOptimizerLearningRate(optimizer: tf.Optimizer): number | undefined {
  const lr = (optimizer as unknown as Partial<LearningRateField>).learningRate;
  return typeof lr === 'number' ? lr : undefined;
}
