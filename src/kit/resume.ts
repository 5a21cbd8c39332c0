import * as tf from '@tensorflow/tfjs';
import { MoonConfigError } from '../core/errors';
import type { MoonSettings } from '../config/settings';
import { loadKitCheckpoint, type KitIdentity, type LoadedCheckpoint } from '../plugins/checkpoint/kit-checkpoint';
import type { MaskableKernel } from '../core/maskable-kernels';

/** What a checkpoint must agree on with the kit that resumes from it: the model's task, the kit, and every schedule. */
export function identityOf(settings: MoonSettings): KitIdentity {
  const { interval, startStep, endStep, dropFraction, decay, decayHorizon, phase, dropRounding } = settings.mask;
  // The two later switches are named only when they differ from their defaults, so older checkpoints still match.
  const later = { ...(phase !== 'run' ? { phase } : {}), ...(dropRounding !== 'floor' ? { dropRounding } : {}) };
  // Options added after the format are named only when they differ from their defaults, as above.
  const training = { ...(settings.weightDecay !== 0 ? { weightDecay: settings.weightDecay } : {}), ...(settings.lossVariant !== 'released' ? { lossVariant: settings.lossVariant } : {}) };
  return {
    numClasses: settings.numClasses, unknownAware: settings.unknownAware, preset: settings.preset, sparsity: settings.sparsity,
    sparsifier: settings.sparsifier, distribution: settings.distribution, randomMaskDpnum: settings.randomMaskDpnum,
    epochs: settings.epochs, stepsPerEpoch: settings.stepsPerEpoch,
    maskSchedule: { interval, startStep, endStep, dropFraction, decay, decayHorizon: decayHorizon ?? null, ...later },
    tuner: settings.tuner ?? null,
    lr: settings.lr ?? null,
    voter: settings.voter ?? null,
    prune: settings.prune ?? null,
    ...training,
  };
}

/** Reads and checks a checkpoint (masks included) for `resumeFrom`, before the kit touches anything. */
export function loadResume(where: unknown, model: tf.LayersModel, settings: MoonSettings, kernels: readonly MaskableKernel[]): LoadedCheckpoint {
  if (typeof where !== 'string' || where === '') throw new MoonConfigError('resumeFrom must be the path of a checkpoint directory');
  return loadKitCheckpoint(where, model, identityOf(settings), kernels.map((k) => k.shape));
}
