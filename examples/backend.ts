import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels } from '../src';

/**
 * Picks the fastest TF.js backend that is installed: tfjs-node-gpu, then tfjs-node, then wasm, then cpu. The
 * native packages are loaded only if present (they cannot be installed on every machine), so nothing here makes
 * them a dependency.
 * @returns the name of the backend in use.
 */
export async function useBestBackend(): Promise<string> {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      require(pkg);
      await tf.setBackend('tensorflow');
      return `tensorflow (${pkg})`;
    } catch {
      // not installed here: try the next one
    }
  }
  try {
    require('@tensorflow/tfjs-backend-wasm');
    registerWasmTrainingKernels();
    if (await tf.setBackend('wasm')) return 'wasm';
  } catch {
    // fall through to cpu
  }
  await tf.setBackend('cpu');
  return 'cpu';
}
