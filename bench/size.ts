/**
 * Compact export size of the benchmark models at 90% sparsity (RigL masks, ERK): dense weight bytes, gzip of the
 * dense weights, and what exportSparse writes, with the ratio. Masks are drawn at kit creation (seed 1); every
 * active weight is nonzero, as after training.
 *
 *   npm run bench:size
 */
import * as tf from '@tensorflow/tfjs';
import { createMoon, sizeReport } from '../src';
import { buildModel, MODEL_NAMES } from '../src/cli/models';

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  const rows = [];
  for (const name of MODEL_NAMES) {
    const model = buildModel(name, 11, 1);
    const kit = createMoon({ model, numClasses: 10, epochs: 10, stepsPerEpoch: 10, sparsity: 0.9, seed: 1 });
    const report = await sizeReport(model);
    rows.push({ model: name, parameters: model.countParams(), kernelDensity: +kit.density.toFixed(4), ...report, ratio: +report.ratio.toFixed(4) });
    kit.dispose();
  }
  console.log(JSON.stringify({ date: new Date().toISOString().slice(0, 10), tfjs: tf.version.tfjs, sparsity: 0.9, rows }, null, 2));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
