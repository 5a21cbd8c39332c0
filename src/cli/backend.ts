import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels } from 'tfjs-moon';
import { CliError } from './cli-error';

/** Which backend to run on: the fastest installed one, or a named one. */
export type BackendChoice = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

/** Loads a native TF.js build (tfjs-node-gpu, then tfjs-node) if one is installed; returns its package name. */
function loadNative(): string | undefined {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      require(pkg);
      return pkg;
    } catch {
      // not installed on this machine: try the next
    }
  }
  return undefined;
}

/**
 * Selects the backend. `auto` prefers tfjs-node-gpu, then tfjs-node, then wasm (with the missing training kernels
 * and the speed-ups registered), then cpu. The native packages are loaded only if present, so they are never a
 * dependency.
 * @returns a description of the backend in use, e.g. `wasm` or `tensorflow (@tensorflow/tfjs-node)`.
 */
export async function useBackend(choice: BackendChoice = 'auto'): Promise<string> {
  if (choice === 'auto' || choice === 'tensorflow') {
    const native = loadNative();
    if (native && (await tf.setBackend('tensorflow'))) return `tensorflow (${native})`;
    if (choice === 'tensorflow') {
      throw new CliError('--backend tensorflow needs @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node, and neither is installed', 2);
    }
  }
  if (choice === 'auto' || choice === 'wasm') {
    try {
      require('@tensorflow/tfjs-backend-wasm');
      registerWasmTrainingKernels({ speedups: true });
      if (await tf.setBackend('wasm')) return 'wasm';
    } catch (error) {
      if (choice === 'wasm') throw new CliError(`--backend wasm failed: ${(error as Error).message} (npm install @tensorflow/tfjs-backend-wasm)`, 2);
    }
  }
  await tf.setBackend('cpu');
  return 'cpu';
}
