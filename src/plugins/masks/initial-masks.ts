import * as tf from '@tensorflow/tfjs';
import { MoonConfigError, MoonModelError } from '../../core/errors';
import type { MaskableKernel } from '../../core/maskable-kernels';
import { allocateActiveCounts, type DensityDistribution } from '../distributions/density-distribution';
import { topKMask } from '../sparsifiers/mask-ops';
import { sampleWithoutReplacement, type RandomSource } from '../random-source';
import type { InitialMask } from './mask-set';

/** How the initial masks pick their active weights. */
export type MaskInit = 'random' | 'magnitude' | 'nonzero';

/**
 * A per-layer target sparsity: by layer name (every masked weight of that layer) or mask name (one weight, e.g.
 * `lstm_1/recurrent_kernel`), or a function of the weight (undefined: the distribution decides).
 */
export type LayerSparsityTargets =
  | Readonly<Record<string, number>>
  | ((layer: { readonly name: string; readonly className: string; readonly weight: string; readonly shape: readonly number[]; readonly index: number }) => number | undefined);

/**
 * The exact active count of each layer: layers with a target sparsity s get round((1 − s) · size); the density
 * distribution spreads what is left of the global budget, round(density · Σ size), over the other layers.
 */
export function planActiveCounts(kernels: readonly MaskableKernel[], distribution: DensityDistribution, density: number, layerSparsity?: LayerSparsityTargets): number[] {
  const layers = kernels.map((k) => ({ name: k.name, shape: k.shape, size: k.size }));
  const targets = kernels.map((k, index) => targetOf(layerSparsity, k.name, { name: k.layerName, className: k.className, weight: k.weightName, shape: k.shape, index }));
  const named = new Map<number, number>();
  targets.forEach((s, i) => {
    if (s === undefined) return;
    if (typeof s !== 'number' || !(s >= 0 && s < 1)) {
      throw new MoonConfigError(`mask.layerSparsity for layer "${layers[i].name}" must be a number in [0, 1), got ${JSON.stringify(s)}`);
    }
    named.set(i, Math.max(1, Math.round((1 - s) * layers[i].size)));
  });
  if (named.size === 0) return allocateActiveCounts(layers, distribution.densities(layers, density), density);
  const rest = layers.map((l, i) => ({ l, i })).filter(({ i }) => !named.has(i));
  const budget = Math.round(density * layers.reduce((s, l) => s + l.size, 0));
  const left = budget - [...named.values()].reduce((s, c) => s + c, 0);
  const restSize = rest.reduce((s, { l }) => s + l.size, 0);
  const counts = layers.map((_, i) => named.get(i) ?? 0);
  if (rest.length === 0) return counts;
  const restDensity = left / restSize;
  if (!(restDensity > 0 && restDensity <= 1)) {
    throw new MoonConfigError(
      `mask.layerSparsity leaves the other layers a density of ${restDensity.toFixed(4)} to keep the global sparsity ` +
        `${(1 - density).toFixed(4)}: loosen the named targets, or change sparsity`,
    );
  }
  const restLayers = rest.map(({ l }) => l);
  const restCounts = allocateActiveCounts(restLayers, distribution.densities(restLayers, restDensity), restDensity);
  rest.forEach(({ i }, j) => (counts[i] = restCounts[j]));
  return counts;
}

function targetOf(layerSparsity: LayerSparsityTargets | undefined, maskName: string, layer: Parameters<Extract<LayerSparsityTargets, Function>>[0]): number | undefined {
  if (layerSparsity === undefined) return undefined;
  if (typeof layerSparsity === 'function') return layerSparsity(layer);
  const own = (key: string) => Object.prototype.hasOwnProperty.call(layerSparsity, key);
  return own(maskName) ? layerSparsity[maskName] : own(layer.name) ? layerSparsity[layer.name] : undefined;
}

/**
 * The initial masks, each holding exactly its planned count:
 * - 'random': active positions drawn uniformly without replacement from the kit's random source;
 * - 'magnitude': the largest |w| of each layer (ties by lowest index), selected on the device;
 * - 'nonzero': the kernel's own nonzero pattern (a model that is already sparse, e.g. from `loadSparse`); its
 *   counts replace the planned ones. It reads each kernel once, synchronously.
 */
export function initialMasks(kernels: readonly MaskableKernel[], counts: readonly number[], init: MaskInit, random: RandomSource): InitialMask[] {
  return kernels.map((k, i) => {
    if (init === 'magnitude') return { tensor: tf.tidy(() => topKMask(tf.abs(k.variable), counts[i])), active: counts[i] };
    if (init === 'nonzero') {
      const mask = Float32Array.from(readKernel(k), (v) => (v !== 0 ? 1 : 0));
      if (!mask.includes(1)) throw new MoonModelError(`mask.init 'nonzero': layer "${k.name}" has no nonzero weight, so its mask would cut the network: use mask.init 'magnitude' or 'random' for this model, or keep the layer dense (mask.denseLayers)`);
      return mask;
    }
    const mask = new Float32Array(k.size);
    if (counts[i] === k.size) mask.fill(1);
    else for (const index of sampleWithoutReplacement(k.size, counts[i], random)) mask[index] = 1;
    return mask;
  });
}

function readKernel(k: MaskableKernel): ArrayLike<number> {
  try {
    return k.variable.dataSync();
  } catch (error) {
    throw new MoonConfigError(
      `mask.init 'nonzero' reads the kernels when the kit is created, which this backend cannot do synchronously ` +
        `(${(error as Error).message}): create the kit on the cpu or wasm backend, then switch`,
    );
  }
}
