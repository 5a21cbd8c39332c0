import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels } from 'tfjs-moon';
import { CliError } from './cli-error';
import { useWebGpu } from './webgpu';

/** Which backend to run on: the fastest installed one, or a named one. */
export type BackendChoice = 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

/** Every choice, for the command line's options. */
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'];

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
 * Selects the backend. `auto` prefers tfjs-node-gpu, then tfjs-node, then webgpu (Dawn, when it finds a hardware
 * adapter: a software one is slower than wasm), then wasm (with the missing training kernels and the speed-ups
 * registered), then cpu. The native packages and Dawn are loaded only if present, so they are never a dependency.
 * @returns a description of the backend in use, e.g. `wasm`, `tensorflow (@tensorflow/tfjs-node)` or
 *   `webgpu (<adapter>)`.
 */
export async function useBackend(choice: BackendChoice = 'auto'): Promise<string> {
  if (choice === 'auto' || choice === 'tensorflow') {
    const native = loadNative();
    if (native && (await tf.setBackend('tensorflow'))) return `tensorflow (${native})`;
    if (choice === 'tensorflow') {
      throw new CliError('--backend tensorflow needs @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node, and neither is installed', 2);
    }
  }
  if (choice === 'auto' || choice === 'webgpu') {
    const webgpu = await useWebGpu(choice === 'webgpu');
    if (webgpu) return webgpu;
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
