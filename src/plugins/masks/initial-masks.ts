import { allocateActiveCounts, type DensityDistribution } from '../distributions/density-distribution';
import { sampleWithoutReplacement, type RandomSource } from '../random-source';
import type { MaskableKernel } from '../../core/maskable-kernels';

/**
 * Draws the initial masks: the distribution spreads `density` over the layers, the counts are made exact
 * integers (their sum is round(density × total)), and each layer's active positions are drawn uniformly at
 * random without replacement, so every layer holds exactly its planned count.
 * @returns one flat 0/1 mask per kernel.
 */
export function drawInitialMasks(
  kernels: readonly MaskableKernel[],
  distribution: DensityDistribution,
  density: number,
  random: RandomSource,
): Float32Array[] {
  const layers = kernels.map((k) => ({ name: k.layerName, shape: k.shape, size: k.size }));
  const counts = allocateActiveCounts(layers, distribution.densities(layers, density), density);
  return kernels.map((k, i) => {
    const mask = new Float32Array(k.size);
    if (counts[i] === k.size) mask.fill(1);
    else for (const index of sampleWithoutReplacement(k.size, counts[i], random)) mask[index] = 1;
    return mask;
  });
}
