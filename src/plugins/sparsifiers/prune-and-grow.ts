import * as tf from '@tensorflow/tfjs';
import type { DropCriterion, GrowCriterion } from './criteria';
import { selectsOnDevice, topKMaskAsync, type TopKSelection } from './device-top-k';
import { dropCandidates, dropLowestScores, fromTieOrder, growCandidates, growLargestScores, intoTieOrder } from './mask-ops';
import type { MaskUpdateContext, Sparsifier } from './sparsifier';

/**
 * A sparsifier made of two halves, as sparselearning's prune and growth registries: drop the `dropCount` active
 * weights the drop criterion scores lowest, then grow the `dropCount` inactive positions the grow criterion scores
 * highest. The active count stays exact. RigL is magnitude drop + gradient grow; SET is magnitude drop + random grow.
 * Select any pair with `createMoon({ sparsifier: { drop: 'magnitude', grow: 'my-grow' } })`.
 */
export class PruneAndGrowSparsifier implements Sparsifier {
  readonly needsGradients: boolean;
  /**
   * Where the k largest scores are selected: 'device' (counting passes on the backend, {@link topKMaskAsync}),
   * 'top-k' (`tf.topk`), or 'auto' (default): the device on webgl and webgpu, whose `tf.topk` for large k is slow
   * and blocks (about 290 s for a 1M-weight update on SwiftShader webgl, against 1.8 s on the device), `tf.topk` on
   * cpu, wasm and tfjs-node, where it runs natively on the host and is the faster (docs/RESULTS.md). Both select the
   * same mask.
   */
  selection: TopKSelection = 'auto';

  constructor(
    readonly drop: DropCriterion,
    readonly grow: GrowCriterion,
  ) {
    this.needsGradients = grow.needsGradients;
  }

  updateMask(ctx: MaskUpdateContext): tf.Tensor {
    const order = ctx.tieOrder; // ties at random when given: both selections break them by the seeded order
    const dropped = dropLowestScores(this.drop.score(ctx), ctx.mask, ctx.dropCount, order);
    return growLargestScores(this.grow.score(ctx), dropped, ctx.dropCount, order);
  }

  /**
   * {@link updateMask} with both selections made on the device ({@link topKMaskAsync}): the same mask, without
   * downloading the kernel or blocking a page. A subclass that overrides `updateMask` only gets its `updateMask`.
   */
  async updateMaskAsync(ctx: MaskUpdateContext): Promise<tf.Tensor> {
    // A subclass that overrides updateMask (and not this) means its own rule: honour it.
    if (this.updateMask !== PruneAndGrowSparsifier.prototype.updateMask || !selectsOnDevice(this.selection)) return tf.tidy(() => this.updateMask(ctx));
    const k = ctx.dropCount;
    const order = ctx.tieOrder; // as in updateMask: select on the permuted positions, map back at the end
    const mask = tf.tidy(() => intoTieOrder(ctx.mask, order));
    const toDrop = tf.tidy(() => dropCandidates(intoTieOrder(this.drop.score(ctx), order), mask));
    const droppedSet = await disposing(toDrop, () => topKMaskAsync(toDrop, k));
    const dropped = tf.tidy(() => tf.sub(mask, droppedSet));
    tf.dispose([mask, droppedSet]);
    // The just-dropped positions are grow candidates too.
    const toGrow = tf.tidy(() => growCandidates(intoTieOrder(this.grow.score(ctx), order), dropped));
    const grown = await disposing(toGrow, () => topKMaskAsync(toGrow, k));
    const updated = tf.tidy(() => fromTieOrder(tf.add(dropped, grown), order, ctx.mask.shape));
    tf.dispose([dropped, grown]);
    return updated;
  }
}

/** Runs `use`, then frees `tensor`, whatever happens. */
async function disposing<T>(tensor: tf.Tensor, use: () => Promise<T>): Promise<T> {
  try {
    return await use();
  } finally {
    tensor.dispose();
  }
}
