import type { LayerPlanWarning, MaskWarningEvent, MoonEventBus } from '../../core/events';
import type { MaskableKernel } from '../../core/maskable-kernels';

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
  const starved = kernels.map((k, i) => ({ k, active: counts[i], units: k.shape[k.shape.length - 1] })).filter((l) => l.active < l.units);
  if (starved.length === 0) return undefined;
  const list = starved.map((l) => `"${l.k.layerName}" (${l.active} for ${l.units} units)`).join(', ');
  return {
    kind: 'few-weights',
    layers: starved.map((l) => l.k.layerName),
    message:
      `the masks leave ${list} fewer active weights than output units: some of their units get no input weight and ` +
      `output only their bias. Lower the sparsity, give the layer its own target (mask.layerSparsity), or keep it dense (mask.denseLayers)`,
  };
}
