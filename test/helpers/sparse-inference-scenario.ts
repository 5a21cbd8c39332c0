/**
 * A small sparse model exported and loaded back with each `kernels` choice, predicting a fixed batch. Works with
 * any `tf` module, so a test can run it on an engine (webgpu) and compare with the cpu backend.
 */
import type * as TF from '@tensorflow/tfjs';
import type * as Moon from '../../src';

export interface SparseInferenceResult {
  backend: string;
  /** Layer classes after loadSparse with 'auto' and with 'sparse'. */
  autoLayers: string[];
  /** What 'auto' should give by this runtime's own speed probe of the first layer (Dense where none ran: no sparse kernels). */
  autoExpected: string[];
  sparseLayers: string[];
  /** Predictions of the loaded models for the fixed batch (flat). */
  dense: number[];
  auto: number[];
  sparse: number[];
}

export async function sparseInferenceScenario(tf: typeof TF, moon: typeof Moon): Promise<SparseInferenceResult> {
  const init = (seed: number) => tf.initializers.glorotUniform({ seed });
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [20], units: 16, activation: 'relu', kernelInitializer: init(1), biasInitializer: 'ones' }),
      tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: init(2) }),
    ],
  });
  // Keep 20% of the first kernel, in a fixed pattern.
  const [kernel, bias] = model.layers[0].getWeights();
  const keep = tf.tensor(Array.from({ length: 20 * 16 }, (_, i) => ((i * 7) % 10 < 2 ? 1 : 0)), [20, 16]);
  model.layers[0].setWeights([tf.mul(kernel, keep), bias]);
  let saved: TF.io.ModelArtifacts | undefined;
  await moon.exportSparse(model, tf.io.withSaveHandler(async (a) => {
    saved = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const x = tf.tensor2d(Array.from({ length: 5 * 20 }, (_, k) => Math.sin(0.37 * k)), [5, 20]);
  const predictions = async (kernels: Moon.KernelChoice) => {
    const loaded = await moon.loadSparse(tf.io.fromMemory(saved!), { kernels });
    const y = loaded.predict(x) as TF.Tensor;
    const values = Array.from(await y.data());
    const layers = loaded.layers.map((l) => l.getClassName());
    tf.dispose(y);
    loaded.dispose();
    return { values, layers };
  };
  const [dense, auto, sparse] = [await predictions('dense'), await predictions('auto'), await predictions('sparse')];
  tf.dispose([x, keep]);
  model.dispose();
  // The 20 × 16 layer keeps 64 weights; 'auto' converts it only where this machine's measurement found sparse faster.
  const probe = moon.probeResults().find((r) => r.backend === tf.getBackend() && r.use === 'inference' && r.inDim === 20 && r.units === 16);
  const autoExpected = [probe?.sparseFaster ? 'SparseDense' : 'Dense', 'Dense'];
  return { backend: tf.getBackend(), autoLayers: auto.layers, autoExpected, sparseLayers: sparse.layers, dense: dense.values, auto: auto.values, sparse: sparse.values };
}

/** Every prediction list equals the dense load's on `reference` (5 decimals): the scenario's 5 × 4 outputs. */
export function expectSamePredictions(lists: readonly number[][], reference: SparseInferenceResult): void {
  for (const values of lists) {
    expect(values).toHaveLength(20);
    values.forEach((v, i) => expect(v).toBeCloseTo(reference.dense[i], 5));
  }
}
