import * as tf from '@tensorflow/tfjs';
import { CliError } from './cli-error';
import { requireOptional } from './optional';

/** The adapter TF.js's webgpu backend runs on, as Dawn describes it. */
export interface WebGpuAdapter {
  readonly description: string;
  readonly vendor: string;
  /** A software adapter (lavapipe, SwiftShader): correct, but slower than the wasm backend. */
  readonly isFallback: boolean;
}

type DawnModule = { create(flags: string[]): GpuLike; globals: Record<string, unknown> };
type GpuLike = { requestAdapter(): Promise<AdapterLike | null> };
type AdapterLike = { info?: { vendor?: string; description?: string; device?: string; isFallbackAdapter?: boolean }; isFallbackAdapter?: boolean };

/**
 * Makes TF.js's webgpu backend usable in Node through Dawn (the npm package `webgpu`, an optional peer): installs
 * Dawn's globals and `navigator.gpu` (a property defined on `navigator`, since Node ≥ 21 has a getter-only
 * `navigator`), asks for an adapter, then loads `@tensorflow/tfjs-backend-webgpu`, which registers itself only when
 * `navigator.gpu` exists. Returns undefined when Dawn finds no adapter (no Vulkan driver). See
 * ../shared/spec/webgpu-node.md and the README's backend section.
 * @param flags Dawn's flags, e.g. `['adapter=NVIDIA']`; `$TFJS_MOON_DAWN_FLAGS` (comma-separated) adds more
 */
export async function initWebGpu(flags: string[] = []): Promise<WebGpuAdapter | undefined> {
  const dawn = requireOptional<DawnModule>('webgpu');
  Object.assign(globalThis, dawn.globals);
  const extra = (process.env.TFJS_MOON_DAWN_FLAGS ?? '').split(',').filter((f) => f !== '');
  const gpu = dawn.create([...flags, ...extra]);
  const nav = (globalThis as { navigator?: object }).navigator;
  if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  const adapter = await gpu.requestAdapter();
  if (!adapter) return undefined;
  requireOptional('@tensorflow/tfjs-backend-webgpu');
  const info = adapter.info ?? {};
  return {
    description: info.description || info.device || 'unknown adapter',
    vendor: info.vendor ?? '',
    isFallback: info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false,
  };
}

/**
 * Selects the webgpu backend. `required`: fail with the reason when there is no adapter; otherwise (the auto choice)
 * return undefined so the next backend is tried — also for a software adapter, which is slower than wasm.
 * @returns the backend's description with its adapter, e.g. `webgpu (NVIDIA H100 …)`
 */
export async function useWebGpu(required: boolean): Promise<string | undefined> {
  let adapter: WebGpuAdapter | undefined;
  try {
    adapter = await initWebGpu();
  } catch (error) {
    if (required) throw error;
    return undefined; // Dawn (or the backend package) is not installed
  }
  if (!adapter) {
    if (!required) return undefined;
    throw new CliError(
      "--backend webgpu: Dawn found no GPU adapter (no Vulkan driver). Install one (a GPU's driver, or Mesa ≥ 25's lavapipe: see the README's backend section), or pick another --backend",
      2,
    );
  }
  if (!required && adapter.isFallback) return undefined;
  if (!(await tf.setBackend('webgpu'))) {
    if (required) throw new CliError(`--backend webgpu: the backend did not start on ${adapter.description}`, 2);
    return undefined;
  }
  return `webgpu (${adapter.description}${adapter.isFallback ? ', software fallback adapter' : ''})`;
}
