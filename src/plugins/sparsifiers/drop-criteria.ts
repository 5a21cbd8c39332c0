import * as tf from '@tensorflow/tfjs';
import { injectable } from 'tsyringe';
import type { DropCriterion } from './criteria';
import type { MaskUpdateContext } from './sparsifier';

/** Drop the active weights of smallest magnitude |w| (RigL, SET). Registered as `'magnitude'`. */
@injectable()
export class MagnitudeDrop implements DropCriterion {
  score(ctx: MaskUpdateContext): tf.Tensor {
    return tf.abs(ctx.weights);
  }
}
