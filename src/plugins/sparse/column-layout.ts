/** A dense kernel's nonzeros compressed by output column (CSC), as host arrays. */
export interface ColumnLayout {
  values: Float32Array;
  rowIndices: Int32Array;
  /** [outDim + 1]: column j's entries are [columnStarts[j], columnStarts[j + 1]). */
  columnStarts: Int32Array;
  inDim: number;
  outDim: number;
}

/**
 * Compresses a row-major [inDim, outDim] kernel by column with one counting sort (rows come out ascending within
 * each column). Zeros (+0 and −0) are dropped; NaN is kept.
 */
export function compressColumns(kernel: Float32Array, inDim: number, outDim: number): ColumnLayout {
  if (kernel.length !== inDim * outDim) throw new RangeError(`compressColumns: ${kernel.length} values for a [${inDim}, ${outDim}] kernel`);
  const columnStarts = new Int32Array(outDim + 1);
  for (let i = 0; i < kernel.length; i++) if (kernel[i] !== 0) columnStarts[(i % outDim) + 1]++;
  for (let j = 0; j < outDim; j++) columnStarts[j + 1] += columnStarts[j];
  const nnz = columnStarts[outDim];
  const values = new Float32Array(nnz);
  const rowIndices = new Int32Array(nnz);
  const next = columnStarts.slice(0, outDim);
  for (let r = 0; r < inDim; r++) {
    for (let j = 0; j < outDim; j++) {
      const v = kernel[r * outDim + j];
      if (v === 0) continue;
      const k = next[j]++;
      values[k] = v;
      rowIndices[k] = r;
    }
  }
  return { values, rowIndices, columnStarts, inDim, outDim };
}

/** The row-major [inDim, outDim] kernel a layout stands for (zeros where it stores nothing). */
export function expandColumns(layout: ColumnLayout): Float32Array {
  const kernel = new Float32Array(layout.inDim * layout.outDim);
  for (let j = 0; j < layout.outDim; j++) {
    for (let k = layout.columnStarts[j]; k < layout.columnStarts[j + 1]; k++) kernel[layout.rowIndices[k] * layout.outDim + j] = layout.values[k];
  }
  return kernel;
}
