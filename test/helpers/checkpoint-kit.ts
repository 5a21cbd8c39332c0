import * as tf from '@tensorflow/tfjs';
import type { createMoon, MoonOptions } from '../../src';
import { mnistSubset } from './data';

/** A MOON kit exercising every piece of state: SET growth, the as-released random drop, tuner, voter, momentum. */
export const fullStateOptions = (model: tf.LayersModel, extra: Partial<MoonOptions> = {}): MoonOptions => ({
  model, numClasses: 10, epochs: 4, stepsPerEpoch: 3, sparsity: 0.8, sparsifier: 'set', seed: 9, preset: 'as-released',
  mask: { interval: 2, endStep: 8 }, tuner: { warmupEpochs: 1 }, voter: { epochs: 1 }, ...extra,
});

/** Fits a kit's model on 60 digits for `epochs` (from `initialEpoch`), unshuffled, with the kit's callbacks and `extra`. */
export async function fitKit(kit: ReturnType<typeof createMoon>, epochs: number, initialEpoch: number, extra: tf.Callback[] = []): Promise<void> {
  const { xs, ys } = mnistSubset(6);
  const labels = kit.labels(ys);
  await kit.model.fit(xs, labels, { epochs, initialEpoch, batchSize: 20, shuffle: false, verbose: 0, callbacks: [...kit.callbacks, ...extra] });
  tf.dispose([xs, ys, labels]);
}
