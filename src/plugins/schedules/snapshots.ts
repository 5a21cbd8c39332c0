import type { SnapshotRule, VoterSettings } from '../../core/types';
import { epochOfStep } from './epochs';

/** Whether the batch (0-based) of an epoch with `steps` batches is a snapshot under `rule`. */
export function isSnapshotBatch(batch: number, steps: number, rule: SnapshotRule): boolean {
  const k = Math.max(1, Math.floor(steps / 10));
  return rule === 'first-tenth' ? batch < k : (batch + 1) % k === 0 && (batch + 1) / k <= 10;
}

/** Where the 0-based optimizer step `step` falls (epoch, batch), and whether the voter averages the weights after it. */
export function snapshotAt(step: number, settings: VoterSettings): { epoch: number; batch: number; isSnapshot: boolean } {
  const epoch = epochOfStep(step, settings.stepsPerEpoch);
  const batch = step - epoch * settings.stepsPerEpoch;
  return { epoch, batch, isSnapshot: epoch >= settings.firstEpoch && isSnapshotBatch(batch, settings.stepsPerEpoch, settings.rule) };
}
