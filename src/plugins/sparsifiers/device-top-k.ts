import * as tf from '@tensorflow/tfjs';
import { selectionScores, topKMask } from './mask-ops';

/*
 * Top-k selection on the device, for mask updates that neither download whole kernels nor block a page: the k-th
 * largest score is found by a binary search over the float32 order (at most 33 counting passes, each reading one
 * number asynchronously), then ties at that score are broken by index, lowest first — the rule of `tf.topk`, so the
 * selected set is exactly `topKMask`'s.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The float32's position in the total order of float32 values (−∞ lowest, +∞ highest), as an unsigned integer. */
function orderKey(value: number): number {
  f32[0] = value;
  const bits = u32[0];
  return bits & 0x80000000 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0;
}

/** The float32 at position `key` of the order ({@link orderKey}'s inverse). */
function fromOrderKey(key: number): number {
  u32[0] = key & 0x80000000 ? (key & 0x7fffffff) >>> 0 : ~key >>> 0;
  return f32[0];
}

const NEG_INF_KEY = orderKey(-Infinity);
const POS_INF_KEY = orderKey(Infinity);

/** How many scores are ≥ `threshold`: one pass on the device, one number read without blocking. */
async function countAtLeast(scores: tf.Tensor, threshold: number): Promise<number> {
  const count = tf.tidy(() => tf.sum(tf.cast(tf.greaterEqual(scores, threshold), 'int32')));
  try {
    return (await count.data())[0];
  } finally {
    count.dispose();
  }
}

/**
 * The same 0/1 float32 mask as {@link topKMask} — ones at the `k` largest `scores`, ties broken by index, lowest
 * first — computed on the device without `tf.topk` (which runs on the host for large k on webgl, with a
 * synchronous read, and costs about a second per million weights on cpu). Both rank the scores as
 * `selectionScores` maps them: ±∞ become the extreme finite float32 values and NaN the lowest, so −∞ (positions
 * that must not be picked while others remain), NaN and −3.4e38 tie, as do +∞ and 3.4e38. The caller owns the result.
 */
export async function topKMaskAsync(raw: tf.Tensor, k: number): Promise<tf.Tensor> {
  const n = raw.size;
  if (k <= 0) return tf.zeros(raw.shape, 'float32');
  if (k >= n) return tf.ones(raw.shape, 'float32');
  const scores = tf.tidy(() => selectionScores(raw));
  try {
    return await selectFinite(scores, k);
  } finally {
    scores.dispose();
  }
}

/** The search of {@link topKMaskAsync} over finite scores. */
async function selectFinite(scores: tf.Tensor, k: number): Promise<tf.Tensor> {
  // Invariant: count(≥ value(lo)) ≥ k > count(≥ value(hi)); keys above +∞ count 0.
  let lo = NEG_INF_KEY;
  let hi = POS_INF_KEY + 1;
  let countAboveHi = 0;
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const count = await countAtLeast(scores, fromOrderKey(mid));
    if (count === k) return tf.tidy(() => tf.cast(tf.greaterEqual(scores, fromOrderKey(mid)), 'float32'));
    if (count > k) lo = mid;
    else [hi, countAboveHi] = [mid, count];
  }
  // value(lo) is the k-th largest score: take everything above it, and the first `need` of its ties by index.
  const threshold = fromOrderKey(lo);
  const need = k - countAboveHi;
  return tf.tidy(() => {
    const flat = tf.reshape(scores, [-1]);
    const tie = tf.cast(tf.equal(flat, threshold), 'int32');
    const firstTies = tf.logicalAnd(tf.cast(tie, 'bool'), tf.lessEqual(tf.cumsum(tie), need));
    return tf.reshape(tf.cast(tf.logicalOr(tf.greater(flat, threshold), firstTies), 'float32'), scores.shape);
  });
}

/** Where the k largest scores are selected: on the device, with `tf.topk`, or per backend ('auto'). */
export type TopKSelection = 'auto' | 'device' | 'top-k';

/** Backends whose `tf.topk` for large k is slow and reads synchronously. */
const GPU_BACKENDS = new Set(['webgl', 'webgpu']);

/** Whether `selection` means the device on the current backend ('auto': on webgl and webgpu). */
export function selectsOnDevice(selection: TopKSelection): boolean {
  return selection === 'device' || (selection === 'auto' && GPU_BACKENDS.has(tf.getBackend()));
}

/** {@link topKMaskAsync} or `topKMask`, as `selection` says; the same mask either way. The caller owns the result. */
export async function selectTopK(scores: tf.Tensor, k: number, selection: TopKSelection = 'auto'): Promise<tf.Tensor> {
  return selectsOnDevice(selection) ? topKMaskAsync(scores, k) : tf.tidy(() => topKMask(scores, k));
}
