import type * as tf from '@tensorflow/tfjs';
import type { LayerPlanWarning, MaskWarningEvent, MoonEventBus } from '../../core/events';
import { leafLayers } from '../../core/layers';
import { outputUnits, type MaskableKernel } from '../../core/maskable-kernels';
import type { MaskSchedule } from '../../core/types';
import { isMaskUpdateStep } from '../schedules/drop-fraction';

/**
 * Emits `warning` as `mask:warning` on `events`, or prints it (one console line) when nobody listens. Deferred to
 * a microtask so that listeners subscribed right after `createMoon` returns receive it.
 */
export function reportMaskWarning(events: MoonEventBus, warning: MaskWarningEvent): void {
  queueMicrotask(() => {
    if (events.listenerCount('mask:warning') > 0) events.emit('mask:warning', warning);
    else console.warn(`tfjs-moon: ${warning.message}`);
  });
}

/**
 * A `few-weights` warning when some layer's planned count (`counts`, the run's final counts) is under its number of
 * output units (the kernel's last dimension): those units get no input weight and output only their bias.
 */
export function fewWeightsWarning(kernels: readonly MaskableKernel[], counts: readonly number[]): LayerPlanWarning | undefined {
  const starved = kernels.map((k, i) => ({ k, active: counts[i], units: outputUnits(k) })).filter((l) => l.active < l.units);
  if (starved.length === 0) return undefined;
  const list = starved.map((l) => `"${l.k.name}" (${l.active} for ${l.units} units)`).join(', ');
  return {
    kind: 'few-weights',
    layers: starved.map((l) => l.k.name),
    message:
      `the masks leave ${list} fewer active weights than output units: some of their units get no input weight and ` +
      `output only their bias. Lower the sparsity, give the layer its own target (mask.layerSparsity), or keep it dense (mask.denseLayers)`,
  };
}

/**
 * A `no-mask-update` warning when a dynamic sparsifier's schedule has no update step among the run's
 * `totalSteps` optimizer steps: the run would be static sparse training without saying so.
 */
export function noMaskUpdateWarning(kernels: readonly MaskableKernel[], schedule: MaskSchedule, totalSteps: number, sparsifier: string): LayerPlanWarning | undefined {
  for (let step = 1; step <= totalSteps; step++) if (isMaskUpdateStep(step, schedule)) return undefined;
  const suggestion = Math.max(1, Math.floor(totalSteps / 4));
  return {
    kind: 'no-mask-update',
    layers: kernels.map((k) => k.name),
    message:
      `${sparsifier} has no mask update in this run: ${totalSteps} steps, one update every ${schedule.interval} steps from step ` +
      `${schedule.startStep} to ${schedule.endStep}, so the masks stay as drawn (static sparse training). Lower mask.interval ` +
      `(e.g. mask: { interval: ${suggestion} }), train longer, or choose sparsifier: 'static' to say so`,
  };
}

/**
 * The layers holding a trainable matrix (a weight of rank ≥ 2) that is not a maskable weight: their class is
 * neither built in nor registered (`registerMaskableLayer`), so they stay dense whatever the sparsity. Layers
 * kept dense on request (`mask.denseLayers`, `firstLayerDense`, frozen layers) hold maskable weights and are not listed.
 */
export function unmaskableLayers(model: tf.LayersModel, maskable: readonly MaskableKernel[]): string[] {
  const known = new Set(maskable.map((k) => k.variable.name));
  return leafLayers(model)
    .filter((layer) => layer.trainableWeights.some((w) => w.shape.length >= 2 && !known.has((w.read() as tf.Variable).name)))
    .map((layer) => layer.name);
}

/** A `layers-left-dense` warning naming the layers of {@link unmaskableLayers}, or undefined when there is none. */
export function layersLeftDenseWarning(layers: readonly string[], modelDensity: number, kernelDensity: number): LayerPlanWarning | undefined {
  if (layers.length === 0) return undefined;
  return {
    kind: 'layers-left-dense',
    layers,
    message:
      `${layers.map((n) => `"${n}"`).join(', ')} hold weights the kit cannot mask (their class is not maskable: register it with registerMaskableLayer): ` +
      `they stay dense, so the model's density is ${modelDensity.toFixed(3)} while the masked kernels' is ${kernelDensity.toFixed(3)} ` +
      `(kit.modelDensity and kit.density)`,
  };
}
