import { MoonMetricError } from '../core/errors';

/** Scores or values as the metrics accept them. */
export type NumericArray = ArrayLike<number>;

/**
 * Copies `values` into a Float64Array, failing on an empty array or a non-finite value.
 * @param name how the argument is called in error messages
 */
export function finiteArray(name: string, values: NumericArray | undefined | null): Float64Array {
  if (values === undefined || values === null || typeof values.length !== 'number') {
    throw new MoonMetricError(`${name} is missing: pass an array of scores (higher = more in-distribution)`);
  }
  if (values.length === 0) throw new MoonMetricError(`${name} is empty: the metric needs at least one score on each side`);
  const out = Float64Array.from(values);
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) {
      throw new MoonMetricError(
        `${name}[${i}] is ${out[i]}: scores must be finite numbers; check the model's outputs (NaN often means a diverged run)`,
      );
    }
  }
  return out;
}
