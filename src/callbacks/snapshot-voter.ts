import * as tf from '@tensorflow/tfjs';
import type { MoonEventBus } from '../core/events';
import type { VoterSettings } from '../core/types';
import type { WeightAverage } from '../plugins/moon/weight-average';
import { snapshotAt } from '../plugins/schedules/snapshots';

/**
 * Schedules the voter's snapshots: after each batch it asks the snapshot schedule whether the optimizer step just
 * taken is a snapshot (epoch and batch come from the step count, so one `fit` per epoch averages the same snapshots
 * as one long fit), adds the weights to the {@link WeightAverage} and emits `voter:snapshot`.
 */
export class SnapshotVoterCallback extends tf.Callback {
  constructor(
    readonly settings: VoterSettings,
    private readonly average: WeightAverage,
    private readonly events: MoonEventBus,
  ) {
    super();
  }

  override async onBatchEnd(): Promise<void> {
    if (this.average.isFinalized) return;
    const { epoch, batch, isSnapshot } = snapshotAt(this.model.optimizer.iterations - 1, this.settings);
    if (!isSnapshot) return;
    const count = this.average.add(this.model);
    this.events.emit('voter:snapshot', { epoch, batch, count });
  }
}
