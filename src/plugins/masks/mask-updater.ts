import * as tf from '@tensorflow/tfjs';
import { MoonMaskError, MoonOptimizerError } from '../../core/errors';
import { divergedWeightsError } from './diverged-weights';
import type { MoonEventBus } from '../../core/events';
import { applyMask, type MaskEntry, type MaskSet } from './mask-set';
import type { GradientTap, NamedTensor } from '../optimizer/masked-optimizer';
import { readOptimizerSlots, scaleSlots } from '../optimizer/optimizer-slots';
import type { RandomSource } from '../random-source';
import type { MaskSchedule } from '../../core/types';
import { dropCountAt, dropFractionAt, isMaskUpdateStep } from '../schedules/drop-fraction';
import type { MaskUpdateContext, Sparsifier, TieOrder } from '../sparsifiers/sparsifier';
import { randomTieOrder } from '../sparsifiers/mask-ops';
import type { TieBreak } from '../../core/types';

/** A layer's new mask and the positions it switched on, before they are committed. */
interface ProposedMask {
  readonly entry: MaskEntry;
  readonly mask: tf.Tensor;
  readonly grown: tf.Tensor;
  readonly dropFraction: number;
}

/**
 * The prune-and-grow engine of one kit. The mask-updater callback arms it before an update step; the optimizer
 * wrapper then hands it the dense gradients instead of stepping; the callback finally runs {@link update}.
 */
export class MaskUpdater implements GradientTap {
  private armedStep: number | null = null;
  private gradientsArrived = false;
  private readonly gradients = new Map<string, tf.Tensor>();

  constructor(
    private readonly masks: MaskSet,
    private readonly sparsifier: Sparsifier,
    readonly schedule: MaskSchedule,
    private readonly random: RandomSource,
    private readonly events: MoonEventBus,
    /** How equal scores are broken: 'random' (seeded, {@link TieOrder}) or 'index' (the lower position first). */
    private readonly tieBreak: TieBreak = 'index',
  ) {}

  /** Whether the sparsifier reads dense gradients at an update (RigL), which the update step must then compute. */
  get needsGradients(): boolean {
    return this.sparsifier.needsGradients;
  }

  /** Whether the sparsifier ever changes a mask (false for static training: then no step is an update step). */
  get changesMasks(): boolean {
    return this.sparsifier.changesMasks !== false;
  }

  /** Whether `step` (1-based) is scheduled for a mask update. */
  isDue(step: number): boolean {
    return this.changesMasks && isMaskUpdateStep(step, this.schedule);
  }

  /** Marks `step` as an update step: the optimizer wrapper will hand over its gradients instead of stepping. */
  arm(step: number): void {
    this.release();
    this.armedStep = step;
  }

  /** The step armed by {@link arm} and not yet updated, if any. */
  get pendingStep(): number | null {
    return this.armedStep;
  }

  isArmedFor(step: number): boolean {
    return this.armedStep === step;
  }

  receiveGradients(gradients: readonly NamedTensor[]): void {
    this.gradientsArrived = true;
    if (!this.sparsifier.needsGradients) return;
    for (const g of gradients) this.gradients.set(g.name, tf.keep(g.tensor.clone()));
  }

  /**
   * Runs the armed update: asks the sparsifier for each layer's new mask, zeroes the weights and optimizer slots
   * of grown positions, re-masks the weights and emits one `mask:update` per layer.
   * @param optimizer the optimizer whose slots belong to the masked weights (the wrapper's inner optimizer)
   */
  async update(optimizer: tf.Optimizer): Promise<void> {
    const step = this.armedStep;
    if (step === null) return;
    try {
      if (!this.gradientsArrived) {
        throw new MoonOptimizerError(
          `no gradients reached the mask updater at step ${step}: the model is not trained through the kit's ` +
            `optimizer wrapper. Compile with model.compile({ optimizer: kit.optimizer(tf.train.momentum(0.1, 0.9)), … })`,
        );
      }
      // Nothing is written until every layer's proposal has been checked, so a failing sparsifier corrupts nothing.
      const proposals: ProposedMask[] = [];
      try {
        // One layer after the other: a sparsifier's random draws keep their order on every backend.
        for (const entry of this.masks.entries) proposals.push(await this.propose(entry, step));
        const counts = await Promise.all(proposals.map((p) => this.countAndCheck(p, step)));
        await this.commit(proposals, counts, optimizer, step);
      } finally {
        for (const p of proposals) tf.dispose([p.mask, p.grown]);
      }
    } finally {
      this.release();
    }
  }

  /** Forgets an armed step and frees the gradients kept for it. */
  release(): void {
    this.armedStep = null;
    this.gradientsArrived = false;
    for (const g of this.gradients.values()) g.dispose();
    this.gradients.clear();
  }

  private async propose(entry: MaskEntry, step: number): Promise<ProposedMask> {
    const dropFraction = dropFractionAt(step, this.schedule);
    const name = entry.kernel.variable.name;
    const gradient = this.gradients.get(name);
    if (this.sparsifier.needsGradients && gradient === undefined) {
      // The kernel was frozen (trainable = false) for this fit: it gets no gradient and keeps its mask.
      return { entry, mask: tf.clone(entry.mask), grown: tf.zerosLike(entry.mask), dropFraction };
    }
    const tieOrder: TieOrder | undefined = this.tieBreak === 'random' ? randomTieOrder(entry.mask.size, this.random) : undefined;
    const context: MaskUpdateContext = {
      layerName: entry.kernel.name,
      step,
      weights: entry.kernel.variable,
      mask: entry.mask,
      gradient,
      active: entry.active,
      dropFraction,
      dropCount: dropCountAt(step, entry.active, this.schedule),
      random: this.random,
      tieOrder,
    };
    // The asynchronous form selects on the device without blocking; the synchronous one runs inside a tidy.
    let proposed: tf.Tensor;
    try {
      proposed = this.sparsifier.updateMaskAsync ? await this.sparsifier.updateMaskAsync(context) : tf.tidy(() => this.sparsifier.updateMask(context));
    } finally {
      if (tieOrder) tf.dispose([tieOrder.forward, tieOrder.inverse]);
    }
    try {
      if (!tf.util.arraysEqual(proposed.shape, entry.mask.shape)) {
        throw new MoonMaskError(
          `the sparsifier returned a mask of shape [${proposed.shape}] for layer "${entry.kernel.name}", whose ` +
            `kernel has shape [${entry.mask.shape}]: updateMask must return a 0/1 tensor of the kernel's shape`,
        );
      }
      const [mask, grown] = tf.tidy(() => {
        const mask32 = tf.cast(proposed, 'float32');
        return [mask32, tf.mul(mask32, tf.sub(1, entry.mask))];
      });
      return { entry, mask, grown, dropFraction };
    } finally {
      proposed.dispose();
    }
  }

  /**
   * Reads [active, grown] of a proposal (one small read per layer per update), checks that the mask is 0/1 and that
   * the weights it was computed from are finite (a diverged run would otherwise get a meaningless mask).
   */
  private async countAndCheck(p: ProposedMask, step: number): Promise<[number, number]> {
    const stats = tf.tidy(() =>
      tf.stack([
        tf.sum(p.mask),
        tf.sum(p.grown),
        tf.sum(tf.abs(tf.mul(p.mask, tf.sub(1, p.mask)))),
        tf.sum(tf.cast(tf.logicalNot(tf.isFinite(p.entry.kernel.variable)), 'float32')),
      ]),
    );
    const [active, grown, nonBinary, nonFinite] = await stats.data();
    stats.dispose();
    if (nonFinite > 0) {
      throw divergedWeightsError(p.entry.kernel.name, nonFinite, `the mask update of step ${step}`);
    }
    if (nonBinary !== 0 || !Number.isFinite(active)) {
      throw new MoonMaskError(
        `the sparsifier returned a mask with values other than 0 and 1 for layer "${p.entry.kernel.name}": ` +
          `build masks with comparisons or the helpers topKMask / dropSmallestMagnitude / growLargestScores`,
      );
    }
    return [Math.round(active), Math.round(grown)];
  }

  private async commit(
    proposals: readonly ProposedMask[],
    counts: readonly [number, number][],
    optimizer: tf.Optimizer,
    step: number,
  ): Promise<void> {
    // Read everything first: if the optimizer's slots cannot be read, no weight, mask or slot has changed yet.
    const slots = await readOptimizerSlots(optimizer);
    const keep = new Map<string, tf.Tensor>();
    try {
      proposals.forEach((p) => {
        const variable = p.entry.kernel.variable;
        const keepOld = tf.tidy(() => tf.sub(1, p.grown));
        keep.set(variable.name, keepOld);
        tf.tidy(() => {
          // Grown weights start at 0 (RigL); everything off the new mask is 0.
          variable.assign(applyMask(variable, tf.mul(p.mask, keepOld)));
          p.entry.mask.assign(p.mask);
        });
      });
      scaleSlots(slots, keep);
    } finally {
      for (const t of keep.values()) t.dispose();
    }
    proposals.forEach((p, i) => {
      const [active, grown] = counts[i];
      const kept = active - grown;
      const dropped = p.entry.active - kept;
      p.entry.active = active;
      this.events.emit('mask:update', {
        step,
        layer: p.entry.kernel.name,
        dropped,
        grown,
        density: active / p.entry.kernel.size,
        dropFraction: p.dropFraction,
      });
    });
  }
}
