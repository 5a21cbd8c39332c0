import type * as tf from '@tensorflow/tfjs';
import { UnsafeFileError } from '../folder-reads';

/** One checked group of a weights manifest, with the bytes its weights take. */
export interface CheckedGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
  bytes: number;
}

/** Bytes per element of the dtypes TF.js stores, and of its quantized forms. */
const ELEMENT_BYTES: Readonly<Record<string, number>> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** The dtypes a weight may have once loaded. */
const TENSOR_DTYPES = ['float32', 'int32', 'bool'] as const;

/** Bytes per element of a weight stored as `dtype` (float32, int32, bool, or a quantized uint8 / uint16 / float16). */
export function bytesPerElement(dtype: string): number | undefined {
  return ELEMENT_BYTES[dtype];
}

/** A shape: an array of non-negative safe integers whose product is a safe integer. */
export function isShape(shape: unknown): shape is number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) return false;
  return Number.isSafeInteger(shape.reduce((p: number, d: number) => p * d, 1));
}

/** Bytes of one manifest entry: its elements times the stored dtype's size (the quantized one if quantized). */
function entryBytes(entry: tf.io.WeightsManifestEntry, where: string): number {
  const stored = entry.quantization?.dtype ?? entry.dtype;
  const size = bytesPerElement(stored as string);
  if (size === undefined || !(TENSOR_DTYPES as readonly string[]).includes(entry.dtype)) {
    throw new UnsafeFileError(`${where} has dtype ${JSON.stringify(entry.dtype)}${entry.quantization ? ` quantized as ${JSON.stringify(stored)}` : ''}: float32, int32 or bool (optionally quantized uint8, uint16, float16)`);
  }
  return (entry.shape as number[]).reduce((p, d) => p * d, 1) * size;
}

/**
 * Checks a TF.js weights manifest before any file it names is opened: groups of `paths` (strings, each named once
 * in the whole manifest) and `weights` (a string name, a shape, a known dtype). Returns the groups with their sizes.
 */
export function checkWeightsManifest(manifest: unknown): CheckedGroup[] {
  if (manifest === undefined) return [];
  if (!Array.isArray(manifest)) throw new UnsafeFileError('weightsManifest must be a list of groups');
  const seen = new Set<string>();
  return manifest.map((group: unknown, g) => {
    const { paths, weights } = (group ?? {}) as { paths?: unknown; weights?: unknown };
    if (!Array.isArray(paths) || !Array.isArray(weights)) throw new UnsafeFileError(`weightsManifest[${g}] must have lists "paths" and "weights"`);
    for (const p of paths) {
      if (typeof p !== 'string') throw new UnsafeFileError(`weightsManifest[${g}].paths holds ${JSON.stringify(p)}, not a file name`);
      if (seen.has(p)) throw new UnsafeFileError(`weightsManifest names ${JSON.stringify(p)} more than once`);
      seen.add(p);
    }
    let bytes = 0;
    weights.forEach((w: unknown, i) => {
      const entry = w as tf.io.WeightsManifestEntry;
      const where = `weightsManifest[${g}].weights[${i}]`;
      if (typeof entry?.name !== 'string' || !isShape(entry.shape)) throw new UnsafeFileError(`${where} must have a string name and a shape of non-negative integers`);
      bytes += entryBytes(entry, where);
    });
    if (!Number.isSafeInteger(bytes)) throw new UnsafeFileError(`weightsManifest[${g}] describes more bytes than any file holds`);
    return { paths: paths as string[], weights: weights as tf.io.WeightsManifestEntry[], bytes };
  });
}
