import * as tf from '@tensorflow/tfjs';
import { injectable } from 'tsyringe';
import { MoonMaskError } from '../../errors';
import { dropSmallestMagnitude, growLargestScores } from './mask-ops';
import type { MaskUpdateContext, Sparsifier } from './sparsifier';

/**
 * RigL (Evci et al. 2020): drop the k smallest-magnitude active weights, grow the k inactive positions (the
 * just-dropped ones included) with the largest dense-gradient magnitude on the current batch.
 */
@injectable()
export class RigLSparsifier implements Sparsifier {
  readonly needsGradients = true;

  updateMask(ctx: MaskUpdateContext): tf.Tensor {
    if (ctx.gradient === undefined) {
      throw new MoonMaskError(
        `RigL needs the dense gradient of layer "${ctx.layerName}" (context.gradient): the kit provides it on update steps; ` +
          'when calling updateMask yourself, pass the gradient of the loss with respect to the kernel',
      );
    }
    const dropped = dropSmallestMagnitude(ctx.weights, ctx.mask, ctx.dropCount);
    return growLargestScores(tf.abs(ctx.gradient), dropped, ctx.dropCount);
  }
}
