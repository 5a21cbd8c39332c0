import type * as tf from '@tensorflow/tfjs';
import { MoonConfigError } from '../core/errors';

/**
 * Which kit holds each model. A kit masks the model's kernels, wraps its optimizer and (with sparse kernels)
 * replaces layers' `call`; a second kit on the same model would re-mask and zero the first's weights and run the
 * other's patches, so a model has at most one live kit. `dispose()` frees the claim.
 */
const holders = new WeakMap<tf.LayersModel, number>();

/** Throws a typed error when a live kit holds `model` (before anything is touched). */
function assertNoLiveKit(model: tf.LayersModel): void {
  const holder = holders.get(model);
  if (holder !== undefined) {
    throw new MoonConfigError(
      `model "${model.name}" already has a live kit (kit #${holder}): a second kit would re-mask and zero the first's ` +
        `weights. Call kit.dispose() on the first kit before creating another for this model`,
    );
  }
}

/** Claims `model` for kit `id` (after {@link assertNoLiveKit}: the claim is the last check). */
export function claimModel(model: tf.LayersModel, id: number): void {
  assertNoLiveKit(model);
  holders.set(model, id);
}

/** Frees `model` if kit `id` holds it (a kit disposed twice, or never the holder, changes nothing). */
export function releaseModel(model: tf.LayersModel, id: number): void {
  if (holders.get(model) === id) holders.delete(model);
}
