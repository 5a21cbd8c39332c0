import * as tf from '@tensorflow/tfjs';
import { injectable } from 'tsyringe';
import type { MaskUpdateContext, Sparsifier } from './sparsifier';

/** Static sparse training: the initial mask never changes. */
@injectable()
export class StaticSparsifier implements Sparsifier {
  readonly needsGradients = false;
  readonly changesMasks: boolean = false;

  updateMask(ctx: MaskUpdateContext): tf.Tensor {
    return tf.clone(ctx.mask);
  }
}
