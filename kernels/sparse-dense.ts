// Sparse × dense kernels for the SparseDense op, compiled to WebAssembly (SIMD) by `npm run build:kernels`.
//
// The module imports its memory: on the wasm backend that is TF.js's own heap, so it must own nothing in it — no
// data segments, no globals, no allocator, no start function (scripts/build-kernels.mjs checks the binary). Every
// argument is a byte address; the caller allocates.
//
// W is [inDim, outDim], compressed by output column (CSC): column j holds the entries k in
// [colStarts[j], colStarts[j + 1]) at rows[k] with values vals[k]. Batch-major arrays are row-major [batch, n];
// "transposed" arrays are feature-major [n, stride], stride = batch rounded up to a multiple of 4, padded with 0.

/** Bytes from element `i` of a 4-byte array. */
@inline function at(base: usize, i: i32): usize {
  return base + (<usize>i << 2);
}

/** The 4×4 block of x at rows b0.., columns i0.. stored transposed at xT[i0.., b0..] (rows past `batch` read as 0). */
@inline function transposeBlock(x: usize, batch: i32, n: i32, xT: usize, stride: i32, b0: i32, i0: i32): void {
  const zero = f32x4.splat(0);
  const r0 = v128.load(at(x, b0 * n + i0));
  const r1 = b0 + 1 < batch ? v128.load(at(x, (b0 + 1) * n + i0)) : zero;
  const r2 = b0 + 2 < batch ? v128.load(at(x, (b0 + 2) * n + i0)) : zero;
  const r3 = b0 + 3 < batch ? v128.load(at(x, (b0 + 3) * n + i0)) : zero;
  // Interleave pairs of rows, then pairs of pairs: the classic two-stage 4×4 shuffle transpose.
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(at(xT, i0 * stride + b0), v128.shuffle<f64>(t0, t1, 0, 2));
  v128.store(at(xT, (i0 + 1) * stride + b0), v128.shuffle<f64>(t0, t1, 1, 3));
  v128.store(at(xT, (i0 + 2) * stride + b0), v128.shuffle<f64>(t2, t3, 0, 2));
  v128.store(at(xT, (i0 + 3) * stride + b0), v128.shuffle<f64>(t2, t3, 1, 3));
}

/** x [batch, n] → xT [n, stride] with the padding columns set to 0 (4×4 SIMD blocks, scalar for n's remainder). */
export function transposeToFeatureMajor(x: usize, batch: i32, n: i32, xT: usize, stride: i32): void {
  const n4 = n & ~3;
  for (let b0 = 0; b0 < stride; b0 += 4) {
    for (let i0 = 0; i0 < n4; i0 += 4) transposeBlock(x, batch, n, xT, stride, b0, i0);
  }
  for (let i = n4; i < n; i++) {
    const row = at(xT, i * stride);
    for (let b = 0; b < batch; b++) store<f32>(at(row, b), load<f32>(at(x, b * n + i)));
    for (let b = batch; b < stride; b++) store<f32>(at(row, b), 0);
  }
}

/** xT [n, stride] → x [batch, n] (the padding columns are dropped). */
export function transposeToBatchMajor(xT: usize, n: i32, stride: i32, batch: i32, x: usize): void {
  for (let b = 0; b < batch; b++) {
    const row = at(x, b * n);
    for (let i = 0; i < n; i++) store<f32>(at(row, i), load<f32>(at(xT, i * stride + b)));
  }
}

@inline function activate(v: f32, relu: i32): f32 {
  return relu != 0 && v < 0 ? 0 : v;
}

/** y = act(x·W + bias) for small batches: one gathered dot product per output. */
export function forwardGathered(
  x: usize, batch: i32, inDim: i32, vals: usize, rows: usize, colStarts: usize, outDim: i32,
  bias: usize, hasBias: i32, relu: i32, y: usize,
): void {
  for (let b = 0; b < batch; b++) {
    const xRow = at(x, b * inDim);
    const yRow = at(y, b * outDim);
    for (let j = 0; j < outDim; j++) {
      const end = load<i32>(at(colStarts, j + 1));
      let k = load<i32>(at(colStarts, j));
      // Four partial sums break the add chain's latency.
      let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
      for (; k + 4 <= end; k += 4) {
        s0 += load<f32>(at(vals, k)) * load<f32>(at(xRow, load<i32>(at(rows, k))));
        s1 += load<f32>(at(vals, k + 1)) * load<f32>(at(xRow, load<i32>(at(rows, k + 1))));
        s2 += load<f32>(at(vals, k + 2)) * load<f32>(at(xRow, load<i32>(at(rows, k + 2))));
        s3 += load<f32>(at(vals, k + 3)) * load<f32>(at(xRow, load<i32>(at(rows, k + 3))));
      }
      for (; k < end; k++) s0 += load<f32>(at(vals, k)) * load<f32>(at(xRow, load<i32>(at(rows, k))));
      const sum = (s0 + s1) + (s2 + s3) + (hasBias != 0 ? load<f32>(at(bias, j)) : 0);
      store<f32>(at(yRow, j), activate(sum, relu));
    }
  }
}

/** Writes the 4 lanes of `v` to y[b0 .. b0 + 4, j], skipping the padding rows past `batch`. */
@inline function storeColumn(v: v128, y: usize, b0: i32, batch: i32, outDim: i32, j: i32): void {
  if (b0 < batch) store<f32>(at(y, b0 * outDim + j), f32x4.extract_lane(v, 0));
  if (b0 + 1 < batch) store<f32>(at(y, (b0 + 1) * outDim + j), f32x4.extract_lane(v, 1));
  if (b0 + 2 < batch) store<f32>(at(y, (b0 + 2) * outDim + j), f32x4.extract_lane(v, 2));
  if (b0 + 3 < batch) store<f32>(at(y, (b0 + 3) * outDim + j), f32x4.extract_lane(v, 3));
}

@inline function activate4(v: v128, relu: i32): v128 {
  return relu != 0 ? f32x4.max(v, f32x4.splat(0)) : v;
}

/**
 * y = act(x·W + bias) from xT [inDim, stride]: per output j and per 16 batch rows, four SIMD accumulators
 * gather acc += vals[k] · xT[rows[k], b0 .. b0 + 16]; y is written row-major [batch, outDim].
 */
export function forwardTransposed(
  xT: usize, stride: i32, batch: i32, vals: usize, rows: usize, colStarts: usize, outDim: i32,
  bias: usize, hasBias: i32, relu: i32, y: usize,
): void {
  const rowBytes = <usize>stride << 2;
  for (let j = 0; j < outDim; j++) {
    const start = load<i32>(at(colStarts, j));
    const end = load<i32>(at(colStarts, j + 1));
    const b = f32x4.splat(hasBias != 0 ? load<f32>(at(bias, j)) : 0);
    let b0 = 0;
    // 32 batch rows per pass where there are that many: each entry's index and value are loaded once per pass.
    for (; b0 + 32 <= stride; b0 += 32) {
      let a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b, a7 = b;
      for (let k = start; k < end; k++) {
        const v = f32x4.splat(load<f32>(at(vals, k)));
        const p = xT + <usize>load<i32>(at(rows, k)) * rowBytes + (<usize>b0 << 2);
        a0 = f32x4.add(a0, f32x4.mul(v, v128.load(p)));
        a1 = f32x4.add(a1, f32x4.mul(v, v128.load(p, 16)));
        a2 = f32x4.add(a2, f32x4.mul(v, v128.load(p, 32)));
        a3 = f32x4.add(a3, f32x4.mul(v, v128.load(p, 48)));
        a4 = f32x4.add(a4, f32x4.mul(v, v128.load(p, 64)));
        a5 = f32x4.add(a5, f32x4.mul(v, v128.load(p, 80)));
        a6 = f32x4.add(a6, f32x4.mul(v, v128.load(p, 96)));
        a7 = f32x4.add(a7, f32x4.mul(v, v128.load(p, 112)));
      }
      storeColumn(activate4(a0, relu), y, b0, batch, outDim, j);
      storeColumn(activate4(a1, relu), y, b0 + 4, batch, outDim, j);
      storeColumn(activate4(a2, relu), y, b0 + 8, batch, outDim, j);
      storeColumn(activate4(a3, relu), y, b0 + 12, batch, outDim, j);
      storeColumn(activate4(a4, relu), y, b0 + 16, batch, outDim, j);
      storeColumn(activate4(a5, relu), y, b0 + 20, batch, outDim, j);
      storeColumn(activate4(a6, relu), y, b0 + 24, batch, outDim, j);
      storeColumn(activate4(a7, relu), y, b0 + 28, batch, outDim, j);
    }
    for (; b0 + 16 <= stride; b0 += 16) {
      let a0 = b, a1 = b, a2 = b, a3 = b;
      for (let k = start; k < end; k++) {
        const v = f32x4.splat(load<f32>(at(vals, k)));
        const p = xT + <usize>load<i32>(at(rows, k)) * rowBytes + (<usize>b0 << 2);
        a0 = f32x4.add(a0, f32x4.mul(v, v128.load(p)));
        a1 = f32x4.add(a1, f32x4.mul(v, v128.load(p, 16)));
        a2 = f32x4.add(a2, f32x4.mul(v, v128.load(p, 32)));
        a3 = f32x4.add(a3, f32x4.mul(v, v128.load(p, 48)));
      }
      storeColumn(activate4(a0, relu), y, b0, batch, outDim, j);
      storeColumn(activate4(a1, relu), y, b0 + 4, batch, outDim, j);
      storeColumn(activate4(a2, relu), y, b0 + 8, batch, outDim, j);
      storeColumn(activate4(a3, relu), y, b0 + 12, batch, outDim, j);
    }
    for (; b0 < stride; b0 += 4) {
      let a = b;
      for (let k = start; k < end; k++) {
        const p = xT + <usize>load<i32>(at(rows, k)) * rowBytes + (<usize>b0 << 2);
        a = f32x4.add(a, f32x4.mul(f32x4.splat(load<f32>(at(vals, k))), v128.load(p)));
      }
      storeColumn(activate4(a, relu), y, b0, batch, outDim, j);
    }
  }
}

/** dxT [inDim, stride] = (dy · Wᵀ)ᵀ from dyT [outDim, stride]: a scatter of each column's entries. */
export function inputGradientTransposed(
  dyT: usize, stride: i32, vals: usize, rows: usize, colStarts: usize, outDim: i32, inDim: i32, dxT: usize,
): void {
  memory.fill(dxT, 0, (<usize>inDim * <usize>stride) << 2);
  const rowBytes = <usize>stride << 2;
  for (let j = 0; j < outDim; j++) {
    const dyRow = dyT + <usize>j * rowBytes;
    const end = load<i32>(at(colStarts, j + 1));
    for (let k = load<i32>(at(colStarts, j)); k < end; k++) {
      const v = f32x4.splat(load<f32>(at(vals, k)));
      const dxRow = dxT + <usize>load<i32>(at(rows, k)) * rowBytes;
      for (let b: usize = 0; b < rowBytes; b += 16) {
        v128.store(dxRow + b, f32x4.add(v128.load(dxRow + b), f32x4.mul(v, v128.load(dyRow + b))));
      }
    }
  }
}

/** dvals[k] = Σ_b xT[rows[k], b] · dyT[j(k), b]: the weight gradient at the stored entries only (SDDMM). */
export function valuesGradient(
  xT: usize, dyT: usize, stride: i32, rows: usize, colStarts: usize, outDim: i32, dvals: usize,
): void {
  const rowBytes = <usize>stride << 2;
  for (let j = 0; j < outDim; j++) {
    const dyRow = dyT + <usize>j * rowBytes;
    const end = load<i32>(at(colStarts, j + 1));
    for (let k = load<i32>(at(colStarts, j)); k < end; k++) {
      const xRow = xT + <usize>load<i32>(at(rows, k)) * rowBytes;
      let acc = f32x4.splat(0);
      for (let b: usize = 0; b < rowBytes; b += 16) acc = f32x4.add(acc, f32x4.mul(v128.load(xRow + b), v128.load(dyRow + b)));
      const sum = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
      store<f32>(at(dvals, k), sum);
    }
  }
}
