import * as tf from '@tensorflow/tfjs';
import { injectable } from 'tsyringe';
import { dropSmallestMagnitude, growLargestScores } from './mask-ops';
import type { MaskUpdateContext, Sparsifier } from './sparsifier';

/**
 * SET (Mocanu et al. 2018): drop the k smallest-magnitude active weights, grow k inactive positions drawn
 * uniformly at random from the kit's seeded random source. Exactly k are grown, so the density stays exact
 * (the reference code's Bernoulli growth lets it drift).
 */
@injectable()
export class SETSparsifier implements Sparsifier {
  readonly needsGradients = false;

  updateMask(ctx: MaskUpdateContext): tf.Tensor {
    const dropped = dropSmallestMagnitude(ctx.weights, ctx.mask, ctx.dropCount);
    const scores = tf.randomUniform(ctx.mask.shape, 0, 1, 'float32', ctx.random.nextUint32());
    return growLargestScores(scores, dropped, ctx.dropCount);
  }
}
