import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { createMoon, type KernelChoice, type MoonOptions } from '../../src';
import { mnistSubset } from './data';
import { buildMlp, maskedKernels } from './models';

/** The largest absolute difference between two lists of weight arrays of the same shapes. */
export const maxDifference = (a: number[][], b: number[][]): number => Math.max(...a.map((w, l) => Math.max(...w.map((v, i) => Math.abs(v - b[l][i])))));

/** What a kit with these options needs besides the model and `kernels` (numClasses, epochs, stepsPerEpoch, …). */
export type RunOptions = Omit<MoonOptions, 'model' | 'kernels' | 'resumeFrom'> & { epochs: number };

/**
 * Trains a seeded MLP (784-32-16-10, on 60 MNIST digits in batches of 20) for `checkpointAfter` epochs with
 * `first` kernels, writing a checkpoint, then resumes that checkpoint with `resumed` kernels in a model of other
 * initial weights up to `options.epochs`. Returns the resumed kit's masks and the final weights.
 */
export async function checkpointAndResume(options: RunOptions, optimizer: () => tf.Optimizer, first: KernelChoice, resumed: KernelChoice, checkpointAfter: number): Promise<{ masks: number[][]; weights: number[][] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moon-resume-'));
  const { xs, ys } = mnistSubset(6);
  const model = buildMlp(2, 10);
  const kit = createMoon({ model, ...options, kernels: first });
  model.compile({ optimizer: kit.optimizer(optimizer()), loss: kit.loss });
  await model.fit(xs, ys, { epochs: checkpointAfter, batchSize: 20, shuffle: false, verbose: 0, callbacks: [...kit.callbacks, kit.checkpointCallback({ dir, keep: 1 })] });
  model.optimizer.dispose();
  kit.dispose();
  model.dispose();

  const again = buildMlp(9, 10); // other initial weights: the checkpoint must restore them
  const resumedKit = createMoon({ model: again, ...options, kernels: resumed, resumeFrom: dir });
  again.compile({ optimizer: resumedKit.optimizer(optimizer()), loss: resumedKit.loss });
  await again.fit(xs, ys, { epochs: options.epochs, initialEpoch: resumedKit.resumeEpoch, batchSize: 20, shuffle: false, verbose: 0, callbacks: [...resumedKit.callbacks] });
  const masks = maskedKernels(resumedKit).map((k) => Array.from(k.mask.dataSync()));
  const weights = again.getWeights().map((w) => Array.from(w.dataSync()));
  tf.dispose([xs, ys]);
  again.optimizer.dispose();
  resumedKit.dispose();
  again.dispose();
  return { masks, weights };
}
