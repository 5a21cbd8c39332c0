import type { NamedWeight } from '../export/sparse-codec';
import { compressColumns } from './column-layout';
import { sparseKernelsServe } from './sparse-dense-op';
import { probeSparseSpeed, type ProbeUse } from './speed-probe';

/** How `loadSparse` runs Dense layers: 'dense' as saved, 'sparse' every one that holds zeros, 'auto' where faster. */
export type KernelChoice = 'auto' | 'sparse' | 'dense';
/** The accepted {@link KernelChoice} values. */
export const KERNEL_CHOICES: readonly KernelChoice[] = ['auto', 'sparse', 'dense'];

/**
 * Per backend, the density (nonzeros / weights) above which `kernels: 'auto'` never makes a layer sparse, without
 * measuring: the batch-1 crossover `npm run bench:sparse` measured (docs/RESULTS.md; wasm with XNNPACK's dense
 * product breaks even at 0.15–0.3 for batch 1 on the machines measured, cpu's JavaScript product at every density up
 * to 0.9). At or under it, 'auto' measures the layer's shape on the running machine (`speed-probe.ts`). Backends
 * absent here (webgl, webgpu) keep Dense layers.
 */
export const SPARSE_CROSSOVER_DENSITY: Readonly<Record<string, number>> = Object.freeze({ wasm: 0.3, cpu: 0.9 });

/** A Dense kernel's shape and stored entries, what a decision needs. */
export interface KernelShape {
  readonly inDim: number;
  readonly units: number;
  readonly nnz: number;
}

/** A serialized layer as it appears in a model topology's `config.layers`. */
interface LayerJson {
  class_name: string;
  config: Record<string, unknown>;
}

/** The layers of a Sequential or functional topology (the same objects, to edit in place). */
function topologyLayers(topology: unknown): LayerJson[] {
  const config = (topology as { config?: { layers?: unknown } } | undefined)?.config;
  // Sequential topologies written by old Keras versions hold the list itself in `config`.
  const layers = Array.isArray(config) ? config : config?.layers;
  return Array.isArray(layers) ? (layers as LayerJson[]) : [];
}

/**
 * Whether the sparse kernels should run a layer of this shape on `backendName` (the current backend for 'auto'):
 * 'sparse' wherever they serve the backend; 'auto' only at or under its {@link SPARSE_CROSSOVER_DENSITY} and where
 * a measurement on this machine finds sparse faster for `use` (cached per shape for the process). Shared by
 * loading (conversion) and training; call it outside any gradient tape (the probe runs ops).
 */
export function sparsePays(choice: Exclude<KernelChoice, 'dense'>, kernel: KernelShape, backendName: string, use: ProbeUse): boolean {
  if (!sparseKernelsServe(backendName)) return false;
  if (choice === 'sparse') return true;
  if (kernel.nnz / (kernel.inDim * kernel.units) > (SPARSE_CROSSOVER_DENSITY[backendName] ?? 0)) return false;
  return probeSparseSpeed(kernel.inDim, kernel.units, kernel.nnz, use).sparseFaster;
}

/**
 * Whether a Dense layer with this kernel should become a SparseDense layer under `choice`: never for 'dense' or a
 * kernel without zeros; 'sparse' converts on any backend (SparseDense falls back to a dense product).
 */
export function convertsKernel(choice: KernelChoice, kernel: KernelShape, backendName: string): boolean {
  if (choice === 'dense' || kernel.nnz >= kernel.inDim * kernel.units) return false;
  return choice === 'sparse' || sparsePays(choice, kernel, backendName, 'inference');
}

/**
 * Rewrites a saved model so that its Dense layers run as SparseDense where `choice` says so: the layer's class and
 * config change, and its `kernel` weight becomes `values`, `row_indices` and `column_starts` (compressed by
 * column). Edits `topology` in place; returns the new weight list and the names of the converted layers.
 */
export function convertDenseLayers(
  topology: unknown,
  weights: readonly NamedWeight[],
  choice: KernelChoice,
  backendName: string,
): { weights: NamedWeight[]; converted: string[] } {
  const byName = new Map(weights.map((w) => [w.name, w]));
  const replaced = new Map<string, NamedWeight[]>();
  const converted: string[] = [];
  for (const layer of topologyLayers(topology)) {
    const name = layer.config.name;
    const kernel = byName.get(`${String(name)}/kernel`);
    if (layer.class_name !== 'Dense' || kernel === undefined || kernel.shape.length !== 2 || kernel.dtype !== 'float32') continue;
    if (layer.config.activation !== undefined && typeof layer.config.activation !== 'string') continue; // a custom activation object
    const [inDim, units] = kernel.shape;
    const layout = compressColumns(new Float32Array(kernel.data.slice().buffer), inDim, units);
    if (!convertsKernel(choice, { inDim, units, nnz: layout.values.length }, backendName)) continue;
    const { name: _n, trainable, dtype, batch_input_shape, activation, use_bias } = layer.config;
    void _n;
    layer.class_name = 'SparseDense';
    const config = { name, trainable, dtype, batch_input_shape, units, input_dim: inDim, nnz: layout.values.length, activation, use_bias };
    layer.config = Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined));
    const bytes = (a: Float32Array | Int32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    replaced.set(kernel.name, [
      { name: `${name}/values`, shape: [layout.values.length], dtype: 'float32', data: bytes(layout.values) },
      { name: `${name}/row_indices`, shape: [layout.values.length], dtype: 'int32', data: bytes(layout.rowIndices) },
      { name: `${name}/column_starts`, shape: [units + 1], dtype: 'int32', data: bytes(layout.columnStarts) },
    ]);
    converted.push(String(name));
  }
  return { weights: weights.flatMap((w) => replaced.get(w.name) ?? [w]), converted };
}
