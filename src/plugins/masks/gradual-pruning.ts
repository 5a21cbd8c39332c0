import * as tf from '@tensorflow/tfjs';
import type { MoonEventBus } from '../../core/events';
import type { PartState, PruneSchedule } from '../../core/types';
import { isPruneStep, prunedCount } from '../schedules/pruning';
import { selectTopK } from '../sparsifiers/device-top-k';
import { dropCandidates } from '../sparsifiers/mask-ops';
import { assertFiniteKernels } from './diverged-weights';
import { applyMask, type MaskSet } from './mask-set';

/**
 * Gradual magnitude pruning of one kit's masks: at each pruning step every layer loses its smallest active |w|
 * down to its count on the schedule (no regrowth), from the initial masks' counts to the planned final counts. It
 * owns the initial counts (saved in checkpoints); the mask set owns the masks.
 */
export class GradualPruning {
  private initialCounts: number[];

  /**
   * @param masks the kit's masks, as drawn at the initial sparsity
   * @param schedule when and how fast
   * @param finalCounts per layer, the active counts at the end (the kit's sparsity and distribution)
   * @param events where `mask:prune` goes
   */
  constructor(
    private readonly masks: MaskSet,
    readonly schedule: PruneSchedule,
    private readonly finalCounts: readonly number[],
    private readonly events: MoonEventBus,
  ) {
    this.initialCounts = masks.entries.map((e) => e.active);
  }

  /** Whether optimizer step `step` (1-based) prunes. */
  isDue(step: number): boolean {
    return isPruneStep(step, this.schedule);
  }

  /** Prunes every layer to its count at `step`, one layer after the other; emits one `mask:prune` per pruned layer. */
  async pruneAt(step: number): Promise<void> {
    await assertFiniteKernels(this.masks.entries, `the pruning step ${step}`); // before any layer is pruned
    for (const [i, entry] of this.masks.entries.entries()) {
      const target = prunedCount(step, this.schedule, this.initialCounts[i], this.finalCounts[i]);
      const k = entry.active - target;
      if (k <= 0) continue;
      // The k active weights of smallest |w|.
      const scores = tf.tidy(() => dropCandidates(tf.abs(entry.kernel.variable), entry.mask));
      let dropped: tf.Tensor;
      try {
        dropped = await selectTopK(scores, k);
      } finally {
        scores.dispose();
      }
      tf.tidy(() => {
        entry.mask.assign(tf.sub(entry.mask, dropped));
        entry.kernel.variable.assign(applyMask(entry.kernel.variable, entry.mask));
      });
      dropped.dispose();
      entry.active = target;
      this.events.emit('mask:prune', { step, layer: entry.kernel.name, pruned: k, density: target / entry.kernel.size, sparsity: 1 - this.masks.density() });
    }
  }

  /** The initial counts the schedule starts from. */
  exportState(): PartState {
    return { tensors: {}, values: { initialCounts: this.initialCounts } };
  }

  importState(state: PartState): void {
    this.initialCounts = state.values.initialCounts as number[];
  }
}
