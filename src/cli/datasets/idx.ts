import * as fs from 'fs';
import * as zlib from 'zlib';
import { CliError } from '../cli-error';

/** An IDX array: its dimensions and its values, row-major. */
export interface IdxArray {
  readonly dims: number[];
  readonly data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

/** IDX element types (the third byte of the magic number) and their readers. */
const TYPES: Record<number, { bytes: number; read: (view: DataView, offset: number) => number; make: (n: number) => IdxArray['data'] }> = {
  0x08: { bytes: 1, read: (v, o) => v.getUint8(o), make: (n) => new Uint8Array(n) },
  0x09: { bytes: 1, read: (v, o) => v.getInt8(o), make: (n) => new Int8Array(n) },
  0x0b: { bytes: 2, read: (v, o) => v.getInt16(o), make: (n) => new Int16Array(n) },
  0x0c: { bytes: 4, read: (v, o) => v.getInt32(o), make: (n) => new Int32Array(n) },
  0x0d: { bytes: 4, read: (v, o) => v.getFloat32(o), make: (n) => new Float32Array(n) },
  0x0e: { bytes: 8, read: (v, o) => v.getFloat64(o), make: (n) => new Float64Array(n) },
};

/**
 * Parses an IDX buffer (the format of MNIST and Fashion-MNIST: magic 0x00 0x00 type ndims, then ndims big-endian
 * int32 sizes, then the values big-endian). A gzip-compressed buffer is inflated first.
 * @param name how to call the source in error messages
 */
export function parseIdx(buffer: Uint8Array, name = 'IDX data'): IdxArray {
  const bytes = buffer[0] === 0x1f && buffer[1] === 0x8b ? zlib.gunzipSync(buffer) : buffer;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 4 || view.getUint8(0) !== 0 || view.getUint8(1) !== 0 || TYPES[view.getUint8(2)] === undefined) {
    throw new CliError(`${name} is not an IDX file (it must start with 0x00 0x00, a type byte 0x08–0x0E and the number of dimensions)`);
  }
  const type = TYPES[view.getUint8(2)];
  const ndims = view.getUint8(3);
  if (bytes.byteLength < 4 + 4 * ndims) throw new CliError(`${name} is truncated inside its header`);
  const dims = Array.from({ length: ndims }, (_, i) => view.getInt32(4 + 4 * i));
  const count = dims.reduce((p, d) => p * d, 1);
  const start = 4 + 4 * ndims;
  if (bytes.byteLength < start + count * type.bytes) {
    throw new CliError(`${name} is truncated: its header announces ${count} values of ${type.bytes} byte(s), the file holds fewer`);
  }
  const data = type.make(count);
  if (type.bytes === 1 && data instanceof Uint8Array) data.set(bytes.subarray(start, start + count));
  else for (let i = 0; i < count; i++) data[i] = type.read(view, start + i * type.bytes);
  return { dims, data };
}

/** Reads an IDX file, gzip-compressed or not. */
export function readIdxFile(path: string): IdxArray {
  return parseIdx(fs.readFileSync(path), path);
}
