import type * as tf from '@tensorflow/tfjs';
import { MoonModelError } from '../../core/errors';

/**
 * Checks of a compressed-column layout before the compiled kernels read it. The kernels run in place on TF.js's
 * wasm heap and trust their indices, so a row index out of [0, inDim) or a column start past nnz would read or write
 * another tensor's memory. Every layout reaches the kernels through one op, so the checks live here: the metadata
 * (dtypes, lengths) at every call, the contents once per layout tensor (a layout is immutable in TF.js: a new layout
 * is a new data id).
 */

/** What the checks see of a layout: its tensors' metadata (a gradient kernel that reads no values passes none). */
export interface LayoutTensors {
  values?: tf.TensorInfo;
  rowIndices: tf.TensorInfo;
  columnStarts: tf.TensorInfo;
  bias?: tf.TensorInfo;
}

const describe = (where: string): string => (where === '' ? 'a sparse layout' : `SparseDense layer "${where}"`);

const fail = (where: string, problem: string): never => {
  throw new MoonModelError(
    `${describe(where)} is malformed: ${problem}. The model file was damaged or crafted; re-export it with exportSparse, ` +
      "or load it with loadSparse(source, { kernels: 'dense' }) from an exportSparse artifact",
  );
};

/**
 * The metadata checks (no data read): int32 index tensors, float32 values and bias, 1-D shapes, lengths that agree.
 * @param where the layer's name ('' for the public op), named in the error
 */
export function checkLayoutMetadata(layout: LayoutTensors, units: number, where: string): void {
  const { values, rowIndices, columnStarts, bias } = layout;
  if (rowIndices.dtype !== 'int32' || columnStarts.dtype !== 'int32') {
    fail(where, `row_indices and column_starts must be int32 (got ${rowIndices.dtype} and ${columnStarts.dtype}; tf.tensor1d defaults to float32: pass 'int32')`);
  }
  if (values !== undefined && values.dtype !== 'float32') fail(where, `values must be float32, got ${values.dtype}`);
  for (const [name, t] of [['values', values], ['row_indices', rowIndices], ['column_starts', columnStarts]] as const) {
    if (t !== undefined && t.shape.length !== 1) fail(where, `${name} must be 1-D, got shape [${t.shape.join(', ')}]`);
  }
  if (values !== undefined && rowIndices.shape[0] !== values.shape[0]) fail(where, `${rowIndices.shape[0]} row indices for ${values.shape[0]} values`);
  if (columnStarts.shape[0] !== units + 1) fail(where, `column_starts has ${columnStarts.shape[0]} entries, ${units} outputs need ${units + 1}`);
  if (bias !== undefined && (bias.dtype !== 'float32' || bias.shape.length !== 1 || bias.shape[0] !== units)) {
    fail(where, `the bias must be float32 [${units}], got ${bias.dtype} [${bias.shape.join(', ')}]`);
  }
}

/**
 * The content checks, on host arrays: column_starts[0] = 0, non-decreasing, last = nnz; every row index in
 * [0, inDim) and strictly ascending within its column.
 */
export function checkLayoutContents(rowIndices: Int32Array, columnStarts: Int32Array, inDim: number, where: string): void {
  const nnz = rowIndices.length;
  const units = columnStarts.length - 1;
  if (columnStarts[0] !== 0) fail(where, `column_starts[0] is ${columnStarts[0]}, must be 0`);
  if (columnStarts[units] !== nnz) fail(where, `column_starts ends at ${columnStarts[units]}, must end at nnz = ${nnz}`);
  for (let j = 0; j < units; j++) {
    const start = columnStarts[j];
    const end = columnStarts[j + 1];
    if (end < start) fail(where, `column_starts decreases at column ${j} (${start} then ${end})`);
    for (let k = start; k < end; k++) {
      const row = rowIndices[k];
      if (row < 0 || row >= inDim) fail(where, `row index ${row} at entry ${k} is outside [0, ${inDim})`);
      if (k > start && row <= rowIndices[k - 1]) fail(where, `row indices of column ${j} are not strictly ascending at entry ${k}`);
    }
  }
}

/** For each row-index tensor already checked (weakly held: a disposed layout is forgotten with its data), what with. */
const checked = new WeakMap<object, { columnStarts: object; inDim: number }>();

/**
 * Runs {@link checkLayoutContents} once per pair of index tensors: `read` is only called the first time this
 * (rowIndices, columnStarts, inDim) triple is seen. Used inside the kernels, where the data is on the host.
 */
export function checkLayoutOnce(layout: LayoutTensors, inDim: number, where: string, read: (info: tf.TensorInfo) => ArrayBufferView): void {
  const rows = layout.rowIndices.dataId as object;
  const columnStarts = layout.columnStarts.dataId as object;
  const seen = checked.get(rows);
  if (seen !== undefined && seen.columnStarts === columnStarts && seen.inDim === inDim) return;
  const asInt32 = (v: ArrayBufferView) => new Int32Array(v.buffer, v.byteOffset, v.byteLength / 4);
  checkLayoutContents(asInt32(read(layout.rowIndices)), asInt32(read(layout.columnStarts)), inDim, where);
  checked.set(rows, { columnStarts, inDim });
}
