/** What a density distribution knows about one masked layer. */
export interface LayerShape {
  readonly name: string;
  /** TF.js layout: Dense `[in, out]`; Conv2D `[kh, kw, in, out]`; depthwise `[kh, kw, in, multiplier]`. */
  readonly shape: readonly number[];
  readonly size: number;
}

/**
 * Spreads a global density over the masked layers. Register your own with `registerDistribution(name, ctor)`.
 *
 * Contract: return one density in [0, 1] per layer such that Σ density_l · size_l = density · Σ size_l (the global
 * budget). The kit turns the real-valued densities into exact integer counts with {@link allocateActiveCounts}.
 */
export interface DensityDistribution {
  densities(layers: readonly LayerShape[], density: number): number[];
}

/**
 * Turns per-layer densities into integer active counts whose sum is exactly round(density · Σ size), the global
 * budget, by largest remainder. Every layer keeps at least one active weight (a layer with none would cut the
 * network) and at most its size.
 *
 * @returns one count per layer.
 */
export function allocateActiveCounts(layers: readonly LayerShape[], densities: readonly number[], density: number): number[] {
  const total = layers.reduce((s, l) => s + l.size, 0);
  const budget = Math.max(Math.round(density * total), layers.length);
  const exact = layers.map((l, i) => Math.min(Math.max(densities[i], 0), 1) * l.size);
  const counts = exact.map((x, i) => Math.min(Math.max(Math.floor(x), 1), layers[i].size));
  let missing = budget - counts.reduce((s, c) => s + c, 0);
  // Hand out (or take back) single weights in order of the largest (smallest) fractional remainder.
  const order = exact.map((_, i) => i).sort((a, b) => (exact[b] - counts[b]) - (exact[a] - counts[a]) || a - b);
  while (missing > 0) {
    const before = missing;
    for (const i of order) {
      if (missing === 0) break;
      if (counts[i] < layers[i].size) {
        counts[i]++;
        missing--;
      }
    }
    if (missing === before) break; // every layer is full
  }
  while (missing < 0) {
    const before = missing;
    for (const i of [...order].reverse()) {
      if (missing === 0) break;
      if (counts[i] > 1) {
        counts[i]--;
        missing++;
      }
    }
    if (missing === before) break;
  }
  return counts;
}
