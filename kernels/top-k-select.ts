// The k largest of n scores as a 0/1 mask, in linear time (a radix select), compiled to WebAssembly by
// `npm run build:kernels` under the module's rules (no state of its own in the heap it imports).
//
// The selection is tf.topk's on the scores as the sparsifiers rank them (selectionScores): NaN and −∞ rank as the
// lowest finite float32, +∞ as the largest, −0 equals +0; equal scores are broken by the lower rank (the position in
// a seeded random order) or, without ranks, by the lower index. tf.topk sorts (n log k); on tfjs-wasm it took
// 0.2–0.7 s for a 4096² kernel, and the tie order permuted whole kernels through GatherV2 before it.

/** Bytes from element `i` of a 4-byte array. */
@inline function at(base: usize, i: i32): usize {
  return base + (<usize>i << 2);
}

const FLOAT32_MAX_BITS: u32 = 0x7f7fffff;

/** An unsigned key that orders as the score ranks (see above): larger key, larger score. */
@inline function keyOf(bits: u32): u32 {
  const magnitude = bits & 0x7fffffff;
  if (magnitude > 0x7f800000) bits = FLOAT32_MAX_BITS | 0x80000000; // NaN → −FLOAT32_MAX
  else if (magnitude == 0x7f800000) bits = (bits & 0x80000000) | FLOAT32_MAX_BITS; // ±∞ → ±FLOAT32_MAX
  else if (magnitude == 0) bits = 0; // −0 → +0
  return (bits & 0x80000000) != 0 ? ~bits : bits | 0x80000000;
}

/** Zeroes the 65,536 counters at `histogram`. */
@inline function clear(histogram: usize): void {
  memory.fill(histogram, 0, 65536 << 2);
}

/**
 * The bin, from the top, where the running count of `histogram` reaches `k`; writes the count above that bin to
 * `above` (a 4-byte slot).
 */
function binFromTop(histogram: usize, k: i32, above: usize): i32 {
  let count = 0;
  for (let bin = 65535; bin >= 0; bin--) {
    const c = load<i32>(at(histogram, bin));
    if (count + c >= k) {
      store<i32>(above, count);
      return bin;
    }
    count += c;
  }
  store<i32>(above, count);
  return 0;
}

/** The same from the bottom (for the smallest ranks). */
function binFromBottom(histogram: usize, k: i32, below: usize): i32 {
  let count = 0;
  for (let bin = 0; bin < 65536; bin++) {
    const c = load<i32>(at(histogram, bin));
    if (count + c >= k) {
      store<i32>(below, count);
      return bin;
    }
    count += c;
  }
  store<i32>(below, count);
  return 65535;
}

/**
 * out[i] = 1 for the k (0 < k ≤ n) largest scores[i], else 0 (float32). `ranks` (int32, distinct) breaks ties by the
 * lower rank; 0 breaks them by the lower index. `scratch` holds 65,536 + 2 int32.
 */
export function topKMask(scores: usize, ranks: usize, n: i32, k: i32, out: usize, scratch: usize): void {
  const histogram = scratch;
  const slot = scratch + (65536 << 2);
  // The threshold key T: the k-th largest, found 16 bits at a time.
  clear(histogram);
  for (let i = 0; i < n; i++) {
    const key = keyOf(load<u32>(at(scores, i)));
    const bin = at(histogram, <i32>(key >>> 16));
    store<i32>(bin, load<i32>(bin) + 1);
  }
  const high = <u32>binFromTop(histogram, k, slot);
  const aboveHigh = load<i32>(slot);
  clear(histogram);
  for (let i = 0; i < n; i++) {
    const key = keyOf(load<u32>(at(scores, i)));
    if (key >>> 16 != high) continue;
    const bin = at(histogram, <i32>(key & 0xffff));
    store<i32>(bin, load<i32>(bin) + 1);
  }
  const threshold = (high << 16) | <u32>binFromTop(histogram, k - aboveHigh, slot);
  const need = k - aboveHigh - load<i32>(slot); // how many of the scores equal to T are taken (≥ 1)
  // Every score above T, and `need` of those at T: the lowest ranks (or indices) first.
  let cut: u32 = 0xffffffff; // the largest rank taken among ties (all, when need covers them)
  if (ranks != 0) {
    clear(histogram);
    let ties = 0;
    for (let i = 0; i < n; i++) {
      if (keyOf(load<u32>(at(scores, i))) != threshold) continue;
      const bin = at(histogram, <i32>(load<u32>(at(ranks, i)) >>> 16));
      store<i32>(bin, load<i32>(bin) + 1);
      ties++;
    }
    if (need < ties) {
      const rankHigh = <u32>binFromBottom(histogram, need, slot);
      const belowHigh = load<i32>(slot);
      clear(histogram);
      for (let i = 0; i < n; i++) {
        if (keyOf(load<u32>(at(scores, i))) != threshold) continue;
        const rank = load<u32>(at(ranks, i));
        if (rank >>> 16 != rankHigh) continue;
        const bin = at(histogram, <i32>(rank & 0xffff));
        store<i32>(bin, load<i32>(bin) + 1);
      }
      cut = (rankHigh << 16) | <u32>binFromBottom(histogram, need - belowHigh, slot);
    }
  }
  let taken = 0;
  for (let i = 0; i < n; i++) {
    const key = keyOf(load<u32>(at(scores, i)));
    let on: f32 = 0;
    if (key > threshold) on = 1;
    else if (key == threshold) {
      if (ranks != 0) on = load<u32>(at(ranks, i)) <= cut ? 1 : 0;
      else if (taken < need) {
        on = 1;
        taken++;
      }
    }
    store<f32>(at(out, i), on);
  }
}
