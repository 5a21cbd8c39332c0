import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { CliError } from '../../src/cli/cli-error';
import { parseIdx, readIdxFile } from '../../src/cli/datasets/idx';

/** An IDX buffer written by hand: magic 0 0 type ndims, big-endian int32 dims, big-endian values. */
function idx(type: number, dims: number[], values: number[], bytesPer: number, write: (v: DataView, o: number, x: number) => void): Buffer {
  const buffer = Buffer.alloc(4 + 4 * dims.length + values.length * bytesPer);
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  buffer[2] = type;
  buffer[3] = dims.length;
  dims.forEach((d, i) => view.setInt32(4 + 4 * i, d));
  values.forEach((x, i) => write(view, 4 + 4 * dims.length + i * bytesPer, x));
  return buffer;
}

describe('IDX reader', () => {
  it('reads unsigned bytes, in three dimensions, raw and gzip-compressed', () => {
    const raw = idx(0x08, [2, 2, 3], [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255], 1, (v, o, x) => v.setUint8(o, x));
    for (const buffer of [raw, zlib.gzipSync(raw)]) {
      const { dims, data } = parseIdx(buffer);
      expect(dims).toEqual([2, 2, 3]);
      expect(data).toBeInstanceOf(Uint8Array);
      expect(Array.from(data)).toEqual([0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
    }
  });

  it('reads big-endian int32 and float32 values', () => {
    expect(Array.from(parseIdx(idx(0x0c, [3], [-2, 70000, 5], 4, (v, o, x) => v.setInt32(o, x))).data)).toEqual([-2, 70000, 5]);
    expect(Array.from(parseIdx(idx(0x0d, [2], [1.5, -0.25], 4, (v, o, x) => v.setFloat32(o, x))).data)).toEqual([1.5, -0.25]);
    expect(Array.from(parseIdx(idx(0x0b, [2], [-300, 300], 2, (v, o, x) => v.setInt16(o, x))).data)).toEqual([-300, 300]);
  });

  it('reads a file from disk', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'idx-')), 'labels-idx1-ubyte.gz');
    fs.writeFileSync(file, zlib.gzipSync(idx(0x08, [4], [9, 0, 3, 7], 1, (v, o, x) => v.setUint8(o, x))));
    expect(Array.from(readIdxFile(file).data)).toEqual([9, 0, 3, 7]);
  });

  it('rejects a file that is not IDX, or is truncated', () => {
    expect(() => parseIdx(Buffer.from('hello world'))).toThrow(CliError);
    expect(() => parseIdx(Buffer.from('hello world'), 'x.idx')).toThrow(/x.idx is not an IDX file/);
    const truncated = idx(0x08, [10], [1, 2, 3], 1, (v, o, x) => v.setUint8(o, x));
    expect(() => parseIdx(truncated.subarray(0, truncated.length))).toThrow(/truncated: its header announces 10 values/);
  });
});
