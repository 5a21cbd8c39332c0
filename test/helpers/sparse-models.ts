import * as tf from '@tensorflow/tfjs';
import { exportSparse } from '../../src';

/**
 * Zeroes all but about `density` of the kernels of the Dense layers at `indices` (every Dense layer when omitted),
 * seeded, so a test has a sparse model without training one.
 */
export function sparsifyDense(model: tf.LayersModel, density: number, indices?: readonly number[], seed = 7): void {
  let state = seed;
  const next = (): number => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  model.layers.forEach((layer, index) => {
    if (layer.getClassName() !== 'Dense' || (indices !== undefined && !indices.includes(index))) return;
    const [kernel, ...rest] = layer.getWeights();
    const values = kernel.dataSync().slice();
    for (let i = 0; i < values.length; i++) if (next() >= density) values[i] = 0;
    layer.setWeights([tf.tensor(values, kernel.shape), ...rest]);
  });
}

/** The model's artifacts as exportSparse writes them, kept in memory, as a handler loadSparse reads. */
export async function exportedInMemory(model: tf.LayersModel): Promise<tf.io.IOHandler> {
  let saved: tf.io.ModelArtifacts | undefined;
  await exportSparse(model, tf.io.withSaveHandler(async (a) => {
    saved = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  return tf.io.fromMemory(saved!);
}
