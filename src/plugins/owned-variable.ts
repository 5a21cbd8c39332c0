import * as tf from '@tensorflow/tfjs';

/**
 * A non-trainable variable whose initial value is made inside `tf.tidy`: `tf.variable(t)` shares t's data but
 * leaves the tensor t itself allocated, so making t in a tidy scope frees it and the variable is the only owner.
 */
export function ownedVariable(makeInitial: () => tf.Tensor): tf.Variable {
  return tf.tidy(() => tf.variable(makeInitial(), false));
}
