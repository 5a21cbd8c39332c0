import * as tf from '@tensorflow/tfjs';
import { randomPermutation, type RandomSource } from '../random-source';
import { gatherElements } from '../sparse/gather-scatter-op';
import { compiledTopKMask, compiledTopKServes } from './compiled-top-k';
import type { TieOrder } from './sparsifier';

/** A seeded random order of `size` positions and its inverse (Fisher–Yates on the host: the same on every backend). */
export function randomTieOrder(size: number, random: RandomSource): TieOrder {
  const forward = randomPermutation(size, random);
  const inverse = new Int32Array(size);
  for (let i = 0; i < size; i++) inverse[forward[i]] = i; // a plain loop: forEach took 0.7 s for a 4096² kernel
  return { forward: tf.tensor1d(forward, 'int32'), inverse: tf.tensor1d(inverse, 'int32') };
}

/**
 * `t` flattened into the tie order (itself when there is none). Call inside `tf.tidy`. The permutation runs as a
 * compiled loop on wasm (`gatherElements`): through tfjs-wasm's GatherV2 it cost ≈14 s per update of a 4096² kernel.
 */
export function intoTieOrder(t: tf.Tensor, order: TieOrder | undefined): tf.Tensor {
  return order === undefined ? t : gatherElements(t, order.forward);
}

/** The inverse of {@link intoTieOrder}: back to the kernel's positions and `shape`. Call inside `tf.tidy`. */
export function fromTieOrder(t: tf.Tensor, order: TieOrder | undefined, shape: readonly number[]): tf.Tensor {
  return order === undefined ? t : gatherElements(t, order.inverse).reshape(shape as number[]);
}

/** The largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * The scores a selection ranks: +∞ → the largest finite float32, −∞ and NaN → the lowest. With only finite values,
 * every backend's `tf.topk` breaks ties by index as the device selection does (cpu's does not for ±∞, and NaN
 * compares false everywhere), so both pick the same positions. Call inside `tf.tidy`.
 */
export function selectionScores(scores: tf.Tensor): tf.Tensor {
  return tf.clipByValue(tf.where(tf.isNaN(scores), tf.fill(scores.shape, -FLOAT32_MAX), scores), -FLOAT32_MAX, FLOAT32_MAX);
}

/**
 * A 0/1 float32 tensor of the scores' shape with ones at the `k` largest `scores`, ties broken by index, lowest first,
 * or, given a tie `order` (a kit's `ctx.tieOrder`), by the position in that seeded order (the scores ranked as
 * {@link selectionScores} maps them). On cpu and wasm a compiled linear-time selection; elsewhere `tf.topk` (of the
 * scores permuted into the order). Call inside `tf.tidy`.
 */
export function topKMask(scores: tf.Tensor, k: number, order?: TieOrder): tf.Tensor {
  if (k <= 0) return tf.zerosLike(scores);
  if (compiledTopKServes() && k <= scores.size) return compiledTopKMask(tf.cast(scores, 'float32'), k, order?.inverse);
  const flat = selectionScores(intoTieOrder(scores, order)).reshape([-1]);
  const { indices } = tf.topk(flat, k, true);
  return fromTieOrder(tf.scatterND(indices.reshape([k, 1]), tf.ones([k], 'float32'), [flat.size]), order, scores.shape).reshape(scores.shape);
}

/**
 * Drops the `k` active weights of smallest magnitude (ties as {@link topKMask} breaks them). Call inside `tf.tidy`.
 * @returns the mask after the drop.
 */
export function dropSmallestMagnitude(weights: tf.Tensor, mask: tf.Tensor, k: number, order?: TieOrder): tf.Tensor {
  return dropLowestScores(tf.abs(weights), mask, k, order);
}

/**
 * Drops the `k` active positions with the lowest `scores`. Call inside `tf.tidy`.
 * @returns the mask after the drop.
 */
export function dropLowestScores(scores: tf.Tensor, mask: tf.Tensor, k: number, order?: TieOrder): tf.Tensor {
  return tf.sub(mask, topKMask(dropCandidates(scores, mask), k, order));
}

/**
 * What a drop selects the top k of: −score on active positions, −∞ elsewhere, so the top k are the k lowest active
 * scores. Call inside `tf.tidy`.
 */
export function dropCandidates(scores: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  return tf.where(tf.cast(mask, 'bool'), tf.neg(scores), tf.fill(mask.shape, -Infinity));
}

/** What a growth selects the top k of: the score on inactive positions, −∞ on active ones. Call inside `tf.tidy`. */
export function growCandidates(scores: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  return tf.where(tf.cast(mask, 'bool'), tf.fill(mask.shape, -Infinity), scores);
}

/**
 * Switches on the `k` inactive positions with the largest `scores`. Call inside `tf.tidy`.
 * @returns the mask after growth.
 */
export function growLargestScores(scores: tf.Tensor, mask: tf.Tensor, k: number, order?: TieOrder): tf.Tensor {
  return tf.add(mask, topKMask(growCandidates(scores, mask), k, order));
}
