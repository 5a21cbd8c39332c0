/**
 * The worked example of docs/custom-sparsifier.md (test/custom-sparsifier.test.ts runs it and checks the doc
 * shows exactly the code between the region markers).
 */
// #region sparsifier
import * as tf from '@tensorflow/tfjs';
import { injectable } from 'tsyringe';
import { growLargestScores, registerSparsifier, topKMask, type MaskUpdateContext, type Sparsifier } from 'tfjs-moon';

/**
 * Drops the active weights of least first-order saliency |w · g| (instead of RigL's |w|), then grows, like RigL,
 * where the dense gradient is largest. The drop and grow counts are equal, so the density stays exact.
 */
@injectable()
export class SaliencySparsifier implements Sparsifier {
  readonly needsGradients = true; // the kit copies the dense gradient of each kernel on update steps

  updateMask(ctx: MaskUpdateContext): tf.Tensor {
    const gradient = ctx.gradient!;
    const saliency = tf.abs(tf.mul(ctx.weights, gradient));
    // Score -saliency on active positions, -∞ elsewhere: the top k are the k least salient active weights.
    const dropScores = tf.where(tf.cast(ctx.mask, 'bool'), tf.neg(saliency), tf.fill(ctx.mask.shape, -Infinity));
    const afterDrop = tf.sub(ctx.mask, topKMask(dropScores, ctx.dropCount));
    return growLargestScores(tf.abs(gradient), afterDrop, ctx.dropCount);
  }
}

registerSparsifier('saliency', SaliencySparsifier);
// then: createMoon({ model, ..., sparsifier: 'saliency' })
// #endregion sparsifier
