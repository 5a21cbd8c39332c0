/**
 * Runs in its own Node process (Dawn's `webgpu` package is ESM with a native addon, which jest's module system does
 * not load): the shared scenario on the webgpu backend, then the library's evaluation paths, which must not read
 * synchronously. Prints one JSON line.
 */
import * as tf from '@tensorflow/tfjs';
import * as moon from '../../src';
import { initWebGpu } from '../../src/cli/webgpu';
import { trainScenario } from '../browser/scenario';
import { detectorScenario } from '../helpers/detector-scenario';
import { sparseInferenceScenario } from '../helpers/sparse-inference-scenario';

async function evaluationPaths(): Promise<Record<string, unknown>> {
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [6], units: 8, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }), tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) })] });
  const kit = moon.createMoon({ model, numClasses: 3, epochs: 2, stepsPerEpoch: 2, seed: 3, sparsity: 0.5 });
  const x = tf.tensor2d(Array.from({ length: 16 * 6 }, (_, k) => Math.cos(0.3 * k)), [16, 6]);
  const labels = Array.from({ length: 16 }, (_, i) => i % 3);
  model.compile({ optimizer: kit.optimizer(tf.train.sgd(0.05)), loss: kit.loss });
  const monitor = kit.monitor({ id: { x, y: labels }, ood: { shifted: tf.add(x, 2) as tf.Tensor2D } });
  await model.fit(x, kit.labels(labels), { epochs: 2, batchSize: 8, shuffle: false, verbose: 0, callbacks: [...kit.callbacks, monitor] });
  const event = await monitor.evaluate();
  const report = await moon.sparsityReportAsync(model);
  const output = model.predict(x) as tf.Tensor;
  const msp = await moon.mspScoreAsync(output, kit);
  let syncError = '';
  try {
    moon.mspScore(output, kit);
  } catch (error) {
    syncError = (error as Error).message;
  }
  return { accuracy: event.accuracy, auroc: event.ood.shifted.auroc, kernelDensity: report.kernelDensity, planned: kit.density, msp: msp.length, syncError };
}

(async () => {
  const adapter = await initWebGpu();
  if (!adapter || !(await tf.setBackend('webgpu'))) {
    process.stdout.write(`${JSON.stringify({ adapter: null })}\n`);
    return;
  }
  const scenario = await trainScenario(tf, moon);
  const evaluation = await evaluationPaths();
  const sparseInference = await sparseInferenceScenario(tf, moon);
  const detectors = await detectorScenario(tf, moon);
  process.stdout.write(`${JSON.stringify({ adapter, scenario, evaluation, sparseInference, detectors })}\n`);
})().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${(error as Error).stack}\n`);
    process.exit(1);
  },
);
