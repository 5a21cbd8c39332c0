import * as tf from '@tensorflow/tfjs';

/**
 * A 0/1 float32 tensor of `shape` with ones at the `k` largest `scores` (ties resolved by the backend's top-k,
 * deterministically). Call inside `tf.tidy`.
 */
export function topKMask(scores: tf.Tensor, k: number): tf.Tensor {
  const flat = scores.reshape([-1]);
  if (k <= 0) return tf.zerosLike(scores);
  const { indices } = tf.topk(flat, k, true);
  return tf.scatterND(indices.reshape([k, 1]), tf.ones([k], 'float32'), [flat.size]).reshape(scores.shape);
}

/**
 * Drops the `k` active weights of smallest magnitude. Call inside `tf.tidy`.
 * @returns the mask after the drop.
 */
export function dropSmallestMagnitude(weights: tf.Tensor, mask: tf.Tensor, k: number): tf.Tensor {
  return dropLowestScores(tf.abs(weights), mask, k);
}

/**
 * Drops the `k` active positions with the lowest `scores`. Call inside `tf.tidy`.
 * @returns the mask after the drop.
 */
export function dropLowestScores(scores: tf.Tensor, mask: tf.Tensor, k: number): tf.Tensor {
  return tf.sub(mask, topKMask(dropCandidates(scores, mask), k));
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
export function growLargestScores(scores: tf.Tensor, mask: tf.Tensor, k: number): tf.Tensor {
  return tf.add(mask, topKMask(growCandidates(scores, mask), k));
}
