import * as tf from '@tensorflow/tfjs';
import { MoonModelError } from '../../core/errors';
import { bytesPerElement, isShape } from './manifest-check';

/** How one float32 weight is stored. */
export type SparseEncoding = 'dense' | 'bitmask' | 'indices';

/** One weight of the original model, as the compact artifacts describe it. */
export interface EncodedWeight {
  name: string;
  shape: number[];
  encoding: SparseEncoding;
  /** Number of nonzero values stored (all of them for 'dense'). */
  nonzero: number;
  /** The weight's dtype (float32, int32 or bool); absent in artifacts written before it was stored: float32. */
  dtype?: string;
}

/** A TF.js weight spec (name, shape, dtype). */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
}

/** One weight with its bytes (a view into the data it was cut from). */
export interface NamedWeight extends WeightSpec {
  data: Uint8Array;
}

/** Bytes per element of a weight's dtype (bool is stored as one byte, float32 and int32 as four). */
const elementBytes = (dtype: string): number => bytesPerElement(dtype) ?? 4;

/** Dense weight data cut into one view per spec, in order. */
export function splitWeights(specs: readonly WeightSpec[], data: ArrayBuffer): NamedWeight[] {
  let offset = 0;
  return specs.map((spec) => {
    const bytes = tf.util.sizeFromShape(spec.shape) * elementBytes(spec.dtype);
    const piece = new Uint8Array(data, offset, bytes);
    offset += bytes;
    return { ...spec, data: piece };
  });
}

/** The inverse of {@link splitWeights}: the specs and the weights' bytes joined in one buffer. */
export function joinWeights(weights: readonly NamedWeight[]): { specs: WeightSpec[]; data: ArrayBuffer } {
  return { specs: weights.map(({ name, shape, dtype }) => ({ name, shape, dtype })), data: concatBytes(weights.map((w) => w.data)) };
}

/** Metadata key under which the compact artifacts describe their encoding. */
export const SPARSE_METADATA_KEY = 'tfjsMoonSparse';
/** Version of the compact encoding; a newer one fails to load with a typed error. */
export const SPARSE_FORMAT_VERSION = 1;

/** Bytes of each encoding for n values of which nnz are nonzero. */
export function encodedBytes(encoding: SparseEncoding, n: number, nnz: number): number {
  if (encoding === 'dense') return 4 * n;
  if (encoding === 'bitmask') return 4 * Math.ceil(n / 32) + 4 * nnz;
  return 8 * nnz;
}

/** The smallest encoding: dense, a bitmask (1 bit per weight) + values, or int32 indices + values (density < 1/32). */
export function bestEncoding(n: number, nnz: number): SparseEncoding {
  const options: SparseEncoding[] = ['dense', 'bitmask', 'indices'];
  return options.reduce((best, e) => (encodedBytes(e, n, nnz) < encodedBytes(best, n, nnz) ? e : best), 'dense');
}

/**
 * Encodes the weights of a model: float32 weights get the smallest encoding (a zero is a +0 or −0; it comes back as
 * +0, which the kit's masks already are), other dtypes are copied as they are.
 * @returns the new specs (for `/sparse_bitmask`, `/sparse_indices`, `/sparse_values` chunks), the data and the description.
 */
export function encodeWeights(specs: readonly WeightSpec[], data: ArrayBuffer): { specs: WeightSpec[]; data: ArrayBuffer; weights: EncodedWeight[] } {
  const chunks: Uint8Array[] = [];
  const outSpecs: WeightSpec[] = [];
  const weights: EncodedWeight[] = [];
  for (const { data: raw, ...spec } of splitWeights(specs, data)) {
    const n = tf.util.sizeFromShape(spec.shape);
    if (spec.dtype !== 'float32') {
      chunks.push(raw.slice());
      outSpecs.push({ ...spec });
      weights.push({ name: spec.name, shape: spec.shape, encoding: 'dense', nonzero: n, dtype: spec.dtype });
      continue;
    }
    const values = new Float32Array(raw.slice().buffer);
    let nnz = 0;
    for (const v of values) if (v !== 0) nnz++;
    const encoding = bestEncoding(n, nnz);
    weights.push({ name: spec.name, shape: spec.shape, encoding, nonzero: encoding === 'dense' ? n : nnz, dtype: 'float32' });
    if (encoding === 'dense') {
      chunks.push(raw.slice());
      outSpecs.push({ ...spec });
      continue;
    }
    const kept = new Float32Array(nnz);
    const where = encoding === 'bitmask' ? new Int32Array(Math.ceil(n / 32)) : new Int32Array(nnz);
    let k = 0;
    values.forEach((v, i) => {
      if (v === 0) return;
      if (encoding === 'bitmask') where[i >>> 5] |= 1 << (i & 31);
      else where[k] = i;
      kept[k++] = v;
    });
    chunks.push(new Uint8Array(where.buffer), new Uint8Array(kept.buffer));
    outSpecs.push({ name: `${spec.name}/sparse_${encoding}`, shape: [where.length], dtype: 'int32' });
    outSpecs.push({ name: `${spec.name}/sparse_values`, shape: [nnz], dtype: 'float32' });
  }
  return { specs: outSpecs, data: concatBytes(chunks), weights };
}

const ENCODINGS: readonly SparseEncoding[] = ['dense', 'bitmask', 'indices'];
const DTYPES: readonly string[] = ['float32', 'int32', 'bool'];

const malformed = (problem: string): never => {
  throw new MoonModelError(`the compact weights are malformed: ${problem}. The file was damaged or crafted; nothing was loaded: re-export the model with exportSparse`);
};

/**
 * Checks the compact encoding's description before anything is allocated from it: every field's type and range,
 * each weight's name and shape against the topology's (`expected`, in any order), and the stored bytes it implies
 * against the data's exact length (nothing missing, nothing extra). Returns the checked description.
 */
export function checkEncodedWeights(description: unknown, dataBytes: number, expected: readonly { name: string; shape: readonly number[] }[]): EncodedWeight[] {
  if (!Array.isArray(description)) return malformed('its description (tfjsMoonSparse.weights) is not a list');
  const shapes = new Map(expected.map((w) => [w.name, w.shape]));
  const names = new Set<string>();
  let bytes = 0;
  const weights = description.map((entry: unknown, i): EncodedWeight => {
    const w = (entry ?? {}) as Partial<EncodedWeight>;
    const what = `weight ${i} (${JSON.stringify(w.name)})`;
    if (typeof w.name !== 'string' || names.has(w.name)) malformed(`${what} has no name or a repeated one`);
    names.add(w.name!);
    if (!isShape(w.shape)) malformed(`${what} has no valid shape`);
    const topology = shapes.get(w.name!);
    if (topology === undefined) malformed(`${what} is not a weight of the model's topology`);
    if (!tf.util.arraysEqual(topology as number[], w.shape!)) malformed(`${what} has shape [${w.shape}], the topology's is [${topology}]`);
    const dtype = w.dtype ?? 'float32';
    if (!DTYPES.includes(dtype)) malformed(`${what} has dtype ${JSON.stringify(dtype)}: float32, int32 or bool`);
    if (!ENCODINGS.includes(w.encoding as SparseEncoding)) malformed(`${what} has encoding ${JSON.stringify(w.encoding)}: ${ENCODINGS.join(', ')}`);
    const n = tf.util.sizeFromShape(w.shape!);
    if (!Number.isSafeInteger(w.nonzero) || w.nonzero! < 0 || w.nonzero! > n) malformed(`${what} claims ${w.nonzero} nonzeros of ${n}`);
    if (w.encoding !== 'dense' && dtype !== 'float32') malformed(`${what} is ${dtype}, which is only stored dense`);
    if (w.encoding === 'dense' && w.nonzero !== n) malformed(`${what} is dense but claims ${w.nonzero} of ${n} values`);
    bytes += w.encoding === 'dense' ? n * elementBytes(dtype) : encodedBytes(w.encoding!, n, w.nonzero!);
    return { name: w.name!, shape: w.shape!, encoding: w.encoding!, nonzero: w.nonzero!, dtype };
  });
  const missing = expected.filter((w) => !names.has(w.name));
  if (missing.length > 0) malformed(`the topology's weights ${missing.map((w) => JSON.stringify(w.name)).join(', ')} are not stored`);
  if (bytes !== dataBytes) malformed(`the description implies ${bytes} bytes of weights, the file holds ${dataBytes}`);
  return weights;
}

/**
 * Decodes what {@link encodeWeights} made back into the original specs and dense data. The description must have
 * passed {@link checkEncodedWeights}; the indices are checked here (in range, ascending, as many as claimed).
 */
export function decodeWeights(weights: readonly EncodedWeight[], data: ArrayBuffer): { specs: WeightSpec[]; data: ArrayBuffer } {
  const chunks: Uint8Array[] = [];
  const specs: WeightSpec[] = [];
  let offset = 0;
  const take = (bytes: number): Uint8Array => {
    if (offset + bytes > data.byteLength) malformed('they are shorter than their description (truncated)');
    const out = new Uint8Array(data.slice(offset, offset + bytes));
    offset += bytes;
    return out;
  };
  for (const w of weights) {
    const n = tf.util.sizeFromShape(w.shape);
    const dtype = w.dtype ?? 'float32';
    if (w.encoding === 'dense') {
      chunks.push(take(n * elementBytes(dtype)));
      specs.push({ name: w.name, shape: w.shape, dtype });
      continue;
    }
    const where = new Int32Array(take(4 * (w.encoding === 'bitmask' ? Math.ceil(n / 32) : w.nonzero)).buffer);
    const kept = new Float32Array(take(4 * w.nonzero).buffer);
    const values = w.encoding === 'bitmask' ? fromBitmask(where, kept, n, w.name) : fromIndices(where, kept, n, w.name);
    chunks.push(new Uint8Array(values.buffer));
    specs.push({ name: w.name, shape: w.shape, dtype: 'float32' });
  }
  if (offset !== data.byteLength) malformed(`${data.byteLength - offset} bytes follow the last weight`);
  return { specs, data: concatBytes(chunks) };
}

/** The dense values of a bitmask encoding: exactly `kept.length` bits set, none past n. */
function fromBitmask(bits: Int32Array, kept: Float32Array, n: number, name: string): Float32Array {
  const values = new Float32Array(n);
  let k = 0;
  for (let i = 0; i < n; i++) {
    if (!(bits[i >>> 5] & (1 << (i & 31)))) continue;
    if (k === kept.length) malformed(`weight "${name}" sets more bits than its ${kept.length} values`);
    values[i] = kept[k++];
  }
  const spare = n & 31;
  const tail = bits.length === 0 || spare === 0 ? 0 : bits[bits.length - 1] >>> spare;
  if (k !== kept.length || tail !== 0) malformed(`weight "${name}" sets ${k} bits in range for ${kept.length} values`);
  return values;
}

/** The dense values of an indices encoding: every index in [0, n), strictly ascending. */
function fromIndices(indices: Int32Array, kept: Float32Array, n: number, name: string): Float32Array {
  const values = new Float32Array(n);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (i < 0 || i >= n || (k > 0 && i <= indices[k - 1])) malformed(`weight "${name}" has index ${i} at entry ${k}: indices must ascend within [0, ${n})`);
    values[i] = kept[k];
  }
  return values;
}

/** The chunks, one after another, in a new buffer. */
export function concatBytes(chunks: readonly Uint8Array[]): ArrayBuffer {
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out.buffer;
}
