import { injectable } from 'tsyringe';
import type { DensityDistribution, LayerShape } from './density-distribution';

/**
 * Solves the Erdős–Rényi scaling ε so that Σ ε·raw_l·size_l matches the global budget, making dense every layer
 * whose density ε·raw_l would exceed 1 and solving again (capacity-aware, as `rigl/sparse_utils.py` does; the
 * original `sparselearning` skipped this and missed its target). Layers tied at the largest raw score become
 * dense together, as in the reference code.
 *
 * @param raw the un-normalised density score of each layer
 * @returns each layer's density (1 for the layers made dense).
 */
export function solveErdosRenyi(layers: readonly LayerShape[], raw: readonly number[], density: number): number[] {
  const total = layers.reduce((s, l) => s + l.size, 0);
  const dense = new Set<number>();
  for (;;) {
    const denseSize = [...dense].reduce((s, i) => s + layers[i].size, 0);
    const budget = density * total - denseSize;
    let divisor = 0;
    let maxRaw = -Infinity;
    layers.forEach((l, i) => {
      if (dense.has(i)) return;
      divisor += raw[i] * l.size;
      maxRaw = Math.max(maxRaw, raw[i]);
    });
    if (divisor === 0) return layers.map(() => 1);
    const epsilon = budget / divisor;
    if (epsilon * maxRaw > 1) {
      raw.forEach((r, i) => {
        if (!dense.has(i) && r === maxRaw) dense.add(i);
      });
      continue;
    }
    return layers.map((_, i) => (dense.has(i) ? 1 : epsilon * raw[i]));
  }
}

/** In and out fan of a kernel in TF.js layout (the last two dimensions). */
function fans(shape: readonly number[]): [number, number] {
  return shape.length === 1 ? [shape[0], 1] : [shape[shape.length - 2], shape[shape.length - 1]];
}

/**
 * ER: density ∝ (n_in + n_out) / (n_in · n_out), kernel size ignored (Mocanu et al. 2018).
 */
@injectable()
export class ErdosRenyiDistribution implements DensityDistribution {
  densities(layers: readonly LayerShape[], density: number): number[] {
    const raw = layers.map((l) => {
      const [fanIn, fanOut] = fans(l.shape);
      return (fanIn + fanOut) / (fanIn * fanOut);
    });
    return solveErdosRenyi(layers, raw, density);
  }
}

/**
 * ERK: density ∝ (Σ_j s_j) / (Π_j s_j) over every dimension of the kernel (Evci et al. 2020). Subclass and
 * override {@link powerScale} (RigL's `erk_power_scale`, < 1 softens the distribution) for a variant.
 */
@injectable()
export class ErdosRenyiKernelDistribution implements DensityDistribution {
  /** Exponent applied to the raw score; 1 is plain ERK. */
  protected readonly powerScale: number = 1;

  densities(layers: readonly LayerShape[], density: number): number[] {
    const raw = layers.map((l) => {
      const sum = l.shape.reduce((s, d) => s + d, 0);
      const prod = l.shape.reduce((p, d) => p * d, 1);
      return Math.pow(sum / prod, this.powerScale);
    });
    return solveErdosRenyi(layers, raw, density);
  }
}
