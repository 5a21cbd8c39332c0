import * as tf from '@tensorflow/tfjs';
import { injectable } from 'tsyringe';
import { MoonMaskError } from '../../core/errors';
import type { GrowCriterion } from './criteria';
import type { MaskUpdateContext } from './sparsifier';

/** Grow where the dense gradient's magnitude is largest on the current batch (RigL). Registered as `'gradient'`. */
@injectable()
export class GradientGrow implements GrowCriterion {
  readonly needsGradients = true;

  score(ctx: MaskUpdateContext): tf.Tensor {
    if (ctx.gradient === undefined) {
      throw new MoonMaskError(
        `RigL needs the dense gradient of layer "${ctx.layerName}" (context.gradient): the kit provides it on update steps; ` +
          'when calling updateMask yourself, pass the gradient of the loss with respect to the kernel',
      );
    }
    return tf.abs(ctx.gradient);
  }
}

/**
 * Grow uniformly at random among the inactive positions, from the kit's seeded random source (SET). Exactly
 * `dropCount` are grown, so the density stays exact. Registered as `'random'`.
 */
@injectable()
export class RandomGrow implements GrowCriterion {
  readonly needsGradients = false;

  score(ctx: MaskUpdateContext): tf.Tensor {
    return tf.randomUniform(ctx.mask.shape, 0, 1, 'float32', ctx.random.nextUint32());
  }
}
