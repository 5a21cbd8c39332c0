/**
 * Models for the inference benchmarks (bench:sparse, bench:peers): LeNet-300-100 and one square layer, pruned to a
 * seeded random ERK mask, and exported in memory as a user's `exportSparse` would write them.
 */
import * as tf from '@tensorflow/tfjs';
import { exportSparse } from '../../src';
import { allocateActiveCounts } from '../../src/plugins/distributions/density-distribution';
import { ErdosRenyiKernelDistribution } from '../../src/plugins/distributions/erdos-renyi';

/** LeNet-300-100: 784 → 300 → 100 → 10, ReLU and a softmax head. */
export const lenet = (): tf.LayersModel =>
  tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [784], units: 300, activation: 'relu' }),
      tf.layers.dense({ units: 100, activation: 'relu' }),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });

/** One n × n linear layer. */
export const square = (n: number) => (): tf.LayersModel => tf.sequential({ layers: [tf.layers.dense({ inputShape: [n], units: n })] });

/** Keeps a seeded random subset of each Dense kernel, with ERK's per-layer counts for `density`; returns the densities. */
export function applyErkMasks(model: tf.LayersModel, density: number, seed: number): string {
  const dense = model.layers.filter((l) => l.getClassName() === 'Dense');
  const shapes = dense.map((l) => {
    const shape = l.getWeights()[0].shape;
    return { name: l.name, shape, size: shape[0] * shape[1]! };
  });
  const counts = allocateActiveCounts(shapes, new ErdosRenyiKernelDistribution().densities(shapes, density), density);
  let state = seed;
  const next = (): number => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  dense.forEach((layer, i) => {
    const [kernel, ...rest] = layer.getWeights();
    const values = kernel.dataSync().slice();
    const order = Array.from(values, (_, k) => k);
    for (let k = order.length - 1; k > 0; k--) {
      const r = Math.floor(next() * (k + 1));
      [order[k], order[r]] = [order[r], order[k]];
    }
    for (const k of order.slice(counts[i])) values[k] = 0;
    layer.setWeights([tf.tensor(values, kernel.shape), ...rest]);
  });
  return counts.map((c, i) => (c / shapes[i].size).toFixed(3)).join('/');
}

/** The model exported by `exportSparse` into memory, as an IOHandler that `loadSparse` reads. */
export async function inMemory(model: tf.LayersModel): Promise<tf.io.IOHandler> {
  let saved: tf.io.ModelArtifacts | undefined;
  await exportSparse(model, tf.io.withSaveHandler(async (a) => {
    saved = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  return tf.io.fromMemory(saved!);
}
