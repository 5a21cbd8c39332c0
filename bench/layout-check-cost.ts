/**
 * What the layout checks inside the sparse kernels cost (issue #21 §1 allows 3%): per call, the metadata check plus
 * the once-per-layout lookup, timed alone over many calls, against one `sparseDense` forward call of a LeNet-sized
 * layer (784 → 300, 90% sparse) at batch 1 (where the kernel is cheapest, so the share is largest) and batch 32.
 * Both are timed in one process, interleaved in rounds; prints the median share per batch size.
 *
 *   npm run bench:layout-check -- --backend wasm
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { compileSparseKernels, registerSparseKernels, sparseDense } from '../src';
import { useBackend } from '../src/cli/backend';
import { compressColumns } from '../src/plugins/sparse/column-layout';
import { checkLayoutMetadata, checkLayoutOnce } from '../src/plugins/sparse/layout-check';

const option = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const backend = await useBackend(option('backend', 'wasm') as never);
  await compileSparseKernels();
  registerSparseKernels();
  const [inDim, units] = [784, 300];
  const dense = new Float32Array(inDim * units).map((_, i) => (i % 10 === 0 ? Math.sin(i) : 0));
  const { rowIndices, columnStarts, values } = compressColumns(dense, inDim, units);
  const layout = { values: tf.tensor1d(values), rowIndices: tf.tensor1d(rowIndices, 'int32'), columnStarts: tf.tensor1d(columnStarts, 'int32'), inDim };
  const bias = tf.zeros([units]) as tf.Tensor1D;
  const info = (t: tf.Tensor) => ({ dataId: t.dataId, shape: t.shape, dtype: t.dtype }) as tf.TensorInfo;
  const tensors = { values: info(layout.values), rowIndices: info(layout.rowIndices), columnStarts: info(layout.columnStarts), bias: info(bias) };
  const read = (i: tf.TensorInfo) => tf.backend().readSync(i.dataId) as Int32Array;
  const result: Record<string, number> = {};
  for (const batch of [1, 32]) {
    const x = tf.randomNormal([batch, inDim]) as tf.Tensor2D;
    const shares: number[] = [];
    for (let round = 0; round < 15; round++) {
      let t = performance.now();
      for (let i = 0; i < 200; i++) tf.dispose(sparseDense(x, layout, bias, 'relu'));
      const call = (performance.now() - t) / 200;
      t = performance.now();
      for (let i = 0; i < 20000; i++) {
        checkLayoutMetadata(tensors, units, 'layer');
        checkLayoutOnce(tensors, inDim, 'layer', read);
      }
      const check = (performance.now() - t) / 20000;
      shares.push(check / call);
    }
    result[`batch${batch}CheckShare`] = +median(shares).toPrecision(3);
    x.dispose();
  }
  console.log(JSON.stringify({ date: new Date().toISOString().slice(0, 10), backend, layer: '784 → 300, 90% sparse', ...result }, null, 2));
}

void main();
