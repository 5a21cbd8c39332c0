import * as tf from '@tensorflow/tfjs';
import type { DropCriterion, GrowCriterion } from './criteria';
import { dropLowestScores, growLargestScores } from './mask-ops';
import type { MaskUpdateContext, Sparsifier } from './sparsifier';

/**
 * A sparsifier made of two halves, as sparselearning's prune and growth registries: drop the `dropCount` active
 * weights the drop criterion scores lowest, then grow the `dropCount` inactive positions the grow criterion scores
 * highest. The active count stays exact. RigL is magnitude drop + gradient grow; SET is magnitude drop + random grow.
 * Select any pair with `createMoon({ sparsifier: { drop: 'magnitude', grow: 'my-grow' } })`.
 */
export class PruneAndGrowSparsifier implements Sparsifier {
  readonly needsGradients: boolean;

  constructor(
    readonly drop: DropCriterion,
    readonly grow: GrowCriterion,
  ) {
    this.needsGradients = grow.needsGradients;
  }

  updateMask(ctx: MaskUpdateContext): tf.Tensor {
    const dropped = dropLowestScores(this.drop.score(ctx), ctx.mask, ctx.dropCount);
    return growLargestScores(this.grow.score(ctx), dropped, ctx.dropCount);
  }
}
