import * as tf from '@tensorflow/tfjs';

/**
 * A callback that records tf.memory().numTensors at every epoch end, minus the tensors tfjs's History keeps:
 * it holds each epoch's loss tensors until fit ends (a plain fit grows by one per epoch too), so the probe
 * subtracts the tensor-valued log entries it has seen. A flat `counts` means nothing leaks.
 */
export function leakProbe(): { callback: tf.Callback; counts: number[] } {
  const counts: number[] = [];
  let heldByHistory = 0;
  const callback = new (class extends tf.Callback {
    override async onEpochEnd(_epoch: number, logs?: tf.Logs): Promise<void> {
      heldByHistory += Object.values(logs ?? {}).filter((v) => (v as unknown) instanceof tf.Tensor).length;
      counts.push(tf.memory().numTensors - heldByHistory);
    }
  })();
  return { callback, counts };
}
