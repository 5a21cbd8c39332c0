import type * as tfType from '@tensorflow/tfjs';
import type * as moonType from '../../src';

/** What the detector scenario gives on one backend: scores, the threshold, the decision and the tensor count. */
export interface DetectorScenarioResult {
  backend: string;
  knn: number[];
  vim: number[];
  threshold: number;
  labels: number[];
  leaked: number;
}

/**
 * Fits KNN and ViM (feature-space detectors: a bank searched by matrix products, an eigen-decomposition read back
 * asynchronously) on a fixed 6-8-4 model, then calibrates KNN and predicts. Every read in it is asynchronous, so it
 * runs unchanged on webgpu; the cpu run is its reference. `tf` and `moon` are passed in (the webgpu child process
 * and jest load them separately).
 */
export async function detectorScenario(tf: typeof tfType, moon: typeof moonType): Promise<DetectorScenarioResult> {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [6], units: 8, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
      tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }),
    ],
  });
  const x = tf.tensor2d(Array.from({ length: 32 * 6 }, (_, k) => Math.sin(0.37 * k) + 0.5), [32, 6]);
  const held = tf.tensor2d(Array.from({ length: 12 * 6 }, (_, k) => Math.sin(0.37 * k + 0.2) + 0.5), [12, 6]);
  const far = tf.tensor2d(Array.from({ length: 12 * 6 }, (_, k) => 3 * Math.cos(1.3 * k)), [12, 6]);
  const before = tf.memory().numTensors;
  const knn = await moon.fitDetector('knn', { model, x, numClasses: 3, k: 5, batchSize: 10 });
  const vim = await moon.fitDetector('vim', { model, x, numClasses: 3, batchSize: 10 });
  const threshold = await knn.calibrate(held, { tpr: 0.9 });
  const { labels } = await knn.predict(far);
  const scores = { knn: Array.from(await knn.score(far)), vim: Array.from(await vim.score(far)) };
  knn.dispose();
  vim.dispose();
  const leaked = tf.memory().numTensors - before;
  tf.dispose([x, held, far]);
  model.dispose();
  return { backend: tf.getBackend(), ...scores, threshold, labels: Array.from(labels), leaked };
}
