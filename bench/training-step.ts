/**
 * The training step the benchmarks time: a compiled ReLU MLP 784 → hidden… → 10 (softmax, momentum SGD 0.01/0.9) and
 * one fixed batch of 64 random inputs with balanced labels. Works with any `tf` module (Node or a page's bundle).
 */
import type * as TF from '@tensorflow/tfjs';

export interface TrainingStep {
  model: TF.Sequential;
  /** One `trainOnBatch` on the fixed batch. */
  step(): Promise<void>;
  dispose(): void;
}

/** A compiled MLP with the given hidden widths, and its fixed batch. */
export function mlpTrainingStep(tf: typeof TF, hidden: readonly number[], seed = 1): TrainingStep {
  const model = tf.sequential({
    layers: [
      ...hidden.map((units, i) => tf.layers.dense({ ...(i === 0 ? { inputShape: [784] } : {}), units, activation: 'relu' })),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: tf.train.momentum(0.01, 0.9), loss: 'categoricalCrossentropy' });
  const x = tf.randomNormal([64, 784], 0, 1, 'float32', seed);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 10), 'int32'), 10);
  return {
    model,
    step: async () => void (await model.trainOnBatch(x, y)),
    dispose: () => {
      tf.dispose([x, y]);
      model.optimizer.dispose(); // its slots (model.dispose leaves the optimizer alone)
      model.dispose();
    },
  };
}
