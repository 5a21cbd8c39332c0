import * as tf from '@tensorflow/tfjs';
import { gatherElements, scatterAddElements } from './gather-scatter-op';
import { sparseDense, type CompressedColumns } from './sparse-dense-op';

/**
 * 'auto''s per-machine decision: whether a layer of this shape and density runs faster through the compiled sparse
 * kernels than through the backend's dense product, measured on the running machine the first time a shape is
 * seen and cached for the process. A crossover measured on one machine (wasm: 0.3 at batch 1) was 0.15 on another,
 * where a fixed threshold made layers 1.1–1.2× slower; a measurement cannot be wrong in that way.
 *
 * Only cpu and wasm run the sparse kernels, and both execute an op before it returns, so a clock around the call
 * times the work without reading anything back from the device.
 */

/** What a probe measures: inference (the product at batch 1 and 32) or training (product and both gradients at 32). */
export type ProbeUse = 'inference' | 'training';

/** The batches each use is timed at; a layer runs sparse only if it is faster at every one. */
export const PROBE_BATCHES: Readonly<Record<ProbeUse, readonly number[]>> = Object.freeze({ inference: [1, 32], training: [32] });

/**
 * Sparse must take at most this share of the dense time to be chosen: a layer that only breaks even is left dense,
 * so timing noise on a busy machine does not turn a tie into a slowdown.
 */
export const PROBE_MARGIN = 0.9;

/** What one probe found: sparse time over dense time per batch (medians), and the decision. */
export interface ProbeResult {
  readonly backend: string;
  readonly use: ProbeUse;
  readonly inDim: number;
  readonly units: number;
  readonly density: number;
  /**
   * What was timed: 'step' (what `use` says), or for training of a large layer 'forward' (the product alone, whose
   * ratio bounds the step's from above once per-op overheads vanish: the dense gradients cost at least the forward
   * product each, and tfjs-wasm's transposed products several times more; timing them would take seconds).
   */
  readonly measured: 'step' | 'forward';
  /** Per batch of {@link PROBE_BATCHES}: median sparse / dense time (below 1: sparse is faster). */
  readonly ratios: readonly number[];
  /** Whether sparse is faster by the margin at every batch. */
  readonly sparseFaster: boolean;
}

/** Two closures to compare; each runs the work once and frees what it made. */
interface Contenders {
  dense(): void;
  sparse(): void;
}

/** Milliseconds per call of `run` over `calls` calls. */
function timeCalls(run: () => void, calls: number): number {
  const start = performance.now();
  for (let i = 0; i < calls; i++) run();
  return (performance.now() - start) / calls;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Each sample runs about this long (ms), so a fast product is not timed at the clock's resolution. */
const SAMPLE_MS = 3;
/** Interleaved samples per contender at most, and the time (ms) after which no further sample starts. */
const SAMPLES = 5;
const BUDGET_MS = 250;
/** A first ratio outside [margin / CLEAR, CLEAR] decides at once (a 10% layer at 4096² is not a close call). */
const CLEAR = 2;

/**
 * Median sparse / dense time of two closures, interleaved: one warm-up call each (kernels, JIT, packed weights),
 * then pairs of samples, at least one, up to {@link SAMPLES} within about {@link BUDGET_MS}. Exported for the
 * probe's tests, which give it closures of known speed.
 */
export function measureRatio(contenders: Contenders, margin = PROBE_MARGIN): number {
  const started = performance.now();
  const once = { dense: timeCalls(contenders.dense, 1), sparse: timeCalls(contenders.sparse, 1) };
  const calls = (ms: number): number => Math.max(1, Math.min(1000, Math.ceil(SAMPLE_MS / Math.max(ms, 1e-3))));
  const [denseCalls, sparseCalls] = [calls(once.dense), calls(once.sparse)];
  const ratios: number[] = [];
  do {
    const dense = timeCalls(contenders.dense, denseCalls);
    const sparse = timeCalls(contenders.sparse, sparseCalls);
    ratios.push(sparse / Math.max(dense, 1e-9));
    if (ratios.length === 1 && (ratios[0] < margin / CLEAR || ratios[0] > CLEAR)) break;
  } while (ratios.length < SAMPLES && performance.now() - started < BUDGET_MS);
  return median(ratios);
}

/** A seeded column layout of `inDim × units` with `nnz` entries spread evenly at random (the speed does not depend on which). */
function probeLayout(inDim: number, units: number, nnz: number): { rowIndices: Int32Array; columnStarts: Int32Array } {
  const columnStarts = new Int32Array(units + 1);
  for (let j = 0; j < units; j++) columnStarts[j + 1] = Math.round(((j + 1) * nnz) / units);
  const rowIndices = new Int32Array(nnz);
  let state = 0x9e3779b9;
  for (let j = 0; j < units; j++) {
    const [start, end] = [columnStarts[j], columnStarts[j + 1]];
    // Rows of one column: a stride walk from a random offset, sorted ascending as the kernels require.
    const offset = (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) % inDim;
    const count = end - start;
    for (let k = 0; k < count; k++) rowIndices[start + k] = (offset + Math.floor((k * inDim) / count)) % inDim;
    rowIndices.subarray(start, end).sort();
  }
  return { rowIndices, columnStarts };
}

/** The closures of one use at one batch; `release` frees their inputs. */
function contendersFor(use: ProbeUse, inDim: number, units: number, nnz: number, batch: number): Contenders & { release(): void } {
  const layout = probeLayout(inDim, units, nnz);
  const x = tf.fill([batch, inDim], 0.5) as tf.Tensor2D;
  const kernel = tf.fill([inDim, units], 0.01) as tf.Tensor2D;
  const bias = tf.zeros([units]) as tf.Tensor1D;
  const rowIndices = tf.tensor1d(layout.rowIndices, 'int32');
  const columnStarts = tf.tensor1d(layout.columnStarts, 'int32');
  const positions = tf.tensor1d(Int32Array.from(layout.rowIndices, (r, k) => r * units + columnOf(layout.columnStarts, k)), 'int32');
  const values = tf.fill([nnz], 0.01) as tf.Tensor1D;
  const weight = (v: tf.Tensor1D): CompressedColumns => ({ values: v, rowIndices, columnStarts, inDim });
  const release = (): void => tf.dispose([x, kernel, bias, rowIndices, columnStarts, positions, values]);
  if (use === 'inference') {
    return {
      dense: () => tf.tidy(() => void tf.fused.matMul({ a: x, b: kernel, bias, activation: 'relu' })),
      sparse: () => tf.tidy(() => void sparseDense(x, weight(values), bias, 'relu')),
      release,
    };
  }
  // Training: the forward product and the gradients of input and weights, as a Dense layer's step makes them; the
  // sparse side gathers the active values from the kernel and scatters their gradient back, as sparse training does.
  const denseStep = tf.grads((a: tf.Tensor, k: tf.Tensor) => tf.sum(tf.fused.matMul({ a: a as tf.Tensor2D, b: k as tf.Tensor2D, bias, activation: 'relu' })));
  const gathered = tf.customGrad(((k: tf.Tensor) => ({
    value: gatherElements(k, positions),
    gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.reshape(scatterAddElements(dy as tf.Tensor1D, positions, k.size), k.shape),
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  const sparseStep = tf.grads((a: tf.Tensor, k: tf.Tensor) => tf.sum(sparseDense(a as tf.Tensor2D, weight(gathered(k) as tf.Tensor1D), bias, 'relu')));
  return {
    dense: () => tf.tidy(() => void denseStep([x, kernel])),
    sparse: () => tf.tidy(() => void sparseStep([x, kernel])),
    release,
  };
}

/** The column of stored entry `k` (binary search in the column starts). */
function columnOf(columnStarts: Int32Array, k: number): number {
  let [lo, hi] = [0, columnStarts.length - 2];
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (columnStarts[mid] <= k) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** A training probe times the whole step only when the dense forward product at the probe's batch is quicker than this (ms). */
const FORWARD_BOUND_MS = 5;

/** One dense forward product's time (ms) after a warm-up call, to size the training probe. */
function denseForwardMs(inDim: number, units: number, batch: number): number {
  const [x, kernel] = [tf.fill([batch, inDim], 0.5) as tf.Tensor2D, tf.fill([inDim, units], 0.01) as tf.Tensor2D];
  try {
    const run = (): void => tf.tidy(() => void tf.matMul(x, kernel));
    run();
    return timeCalls(run, 1);
  } finally {
    tf.dispose([x, kernel]);
  }
}

/** Results by backend, use, shape and density in whole percent: one probe per kind of layer per process. */
const results = new Map<string, ProbeResult>();

/** The cache key of a probe: layers within one percent of density share it. */
const probeKey = (backend: string, use: ProbeUse, inDim: number, units: number, density: number): string =>
  `${backend}|${use}|${inDim}x${units}|${Math.round(density * 100)}`;

/**
 * Whether a Dense layer of `inDim × units` holding `nnz` weights runs faster sparse than dense for `use` on the
 * current backend, by {@link PROBE_MARGIN} at every batch of {@link PROBE_BATCHES}: measured on a layout of that
 * shape the first time (a few milliseconds for small layers, about half a second for a 4096² layer's dense products
 * at batch 32), then served from a cache for the process. Call it where the sparse kernels serve the backend
 * (`sparseKernelsServe`), after they are compiled.
 */
export function probeSparseSpeed(inDim: number, units: number, nnz: number, use: ProbeUse): ProbeResult {
  const backend = tf.getBackend();
  const density = nnz / (inDim * units);
  const key = probeKey(backend, use, inDim, units, density);
  const cached = results.get(key);
  if (cached !== undefined) return cached;
  const measured = use === 'training' && denseForwardMs(inDim, units, PROBE_BATCHES.training[0]) >= FORWARD_BOUND_MS ? 'inference' : use;
  const ratios = PROBE_BATCHES[use].map((batch) => {
    const contenders = contendersFor(measured, inDim, units, nnz, batch);
    try {
      return +measureRatio(contenders).toFixed(3);
    } finally {
      contenders.release();
    }
  });
  const result: ProbeResult = Object.freeze({ backend, use, measured: measured === use ? 'step' : 'forward', inDim, units, density, ratios: Object.freeze(ratios), sparseFaster: ratios.every((r) => r <= PROBE_MARGIN) });
  results.set(key, result);
  return result;
}

/** Every probe this process ran, in order (what 'auto' decided and why; for reports and tests). */
export function probeResults(): readonly ProbeResult[] {
  return [...results.values()];
}
