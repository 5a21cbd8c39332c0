/**
 * NumPy's default percentile (linear interpolation between the closest ranks): the p-th percentile of `values`,
 * p in [0, 100]. Sorts a copy on the host; for fitting-time statistics (ReAct's threshold, DICE's cut).
 */
export function percentile(values: ArrayLike<number>, p: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) throw new Error('percentile of no values');
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}
