import { denseChainToOnnx, ONNX_OPSET } from '../bench/peers/onnx-writer';

/** One field of a decoded protobuf message: a varint's value or a length-delimited field's bytes. */
type Field = number | Uint8Array;

/** Decodes one level of the protobuf wire format (varints and length-delimited fields only: all the writer emits). */
function decode(bytes: Uint8Array): Map<number, Field[]> {
  const fields = new Map<number, Field[]>();
  let at = 0;
  const varint = (): number => {
    let value = 0;
    let scale = 1;
    for (;;) {
      const byte = bytes[at++];
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
  };
  while (at < bytes.length) {
    const key = varint();
    const [field, wire] = [Math.floor(key / 8), key % 8];
    let value: Field;
    if (wire === 0) value = varint();
    else if (wire === 2) {
      const length = varint();
      value = bytes.subarray(at, at + length);
      at += length;
    } else throw new Error(`unexpected wire type ${wire}`);
    fields.set(field, [...(fields.get(field) ?? []), value]);
  }
  return fields;
}

const text = (f: Field): string => new TextDecoder().decode(f as Uint8Array);
const message = (f: Field): Map<number, Field[]> => decode(f as Uint8Array);

describe('denseChainToOnnx (bench:peers)', () => {
  const kernel0 = Float32Array.from({ length: 6 }, (_, i) => i - 2.5);
  const bias0 = Float32Array.of(1, 0, -1);
  const kernel1 = Float32Array.of(1, 0, 0, 1, 1, 1);
  const bytes = denseChainToOnnx([
    { inDim: 2, outDim: 3, kernel: kernel0, bias: bias0, activation: 'relu' },
    { inDim: 3, outDim: 2, kernel: kernel1, activation: 'softmax' },
  ]);
  const model = decode(bytes);
  const graph = message(model.get(7)![0]);

  it('declares IR 7 and the default-domain opset 13', () => {
    expect(model.get(1)).toEqual([7]);
    const opset = message(model.get(8)![0]);
    expect(opset.get(2)).toEqual([ONNX_OPSET]);
    expect(text(opset.get(1)![0])).toBe('');
  });

  it('chains Gemm → Relu → Gemm → Softmax from x to y', () => {
    const nodes = graph.get(1)!.map(message);
    expect(nodes.map((n) => text(n.get(4)![0]))).toEqual(['Gemm', 'Relu', 'Gemm', 'Softmax']);
    expect(nodes.map((n) => n.get(1)!.map(text))).toEqual([['x', 'w0', 'b0'], ['gemm0'], ['act0', 'w1', 'b1'], ['gemm1']]);
    expect(nodes.map((n) => text(n.get(2)![0]))).toEqual(['gemm0', 'act0', 'gemm1', 'y']);
  });

  it('stores each kernel [in, out] and bias as float32 little-endian raw data (a missing bias as zeros)', () => {
    const tensors = graph.get(5)!.map(message);
    expect(tensors.map((t) => text(t.get(8)![0]))).toEqual(['w0', 'b0', 'w1', 'b1']);
    expect(tensors.map((t) => t.get(1))).toEqual([[2, 3], [3], [3, 2], [2]]);
    expect(tensors.every((t) => t.get(2)![0] === 1)).toBe(true); // FLOAT
    const floats = (t: Map<number, Field[]>) => {
      const raw = t.get(9)![0] as Uint8Array;
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      return Array.from({ length: raw.length / 4 }, (_, i) => view.getFloat32(4 * i, true));
    };
    expect(tensors.map(floats)).toEqual([Array.from(kernel0), Array.from(bias0), Array.from(kernel1), [0, 0]]);
  });

  it('types x and y as float32 [batch, width] with a symbolic batch', () => {
    const shapeOf = (info: Field) => {
      const tensorType = message(message(message(info).get(2)![0]).get(1)![0]);
      expect(tensorType.get(1)).toEqual([1]);
      return message(tensorType.get(2)![0]).get(1)!.map(message).map((d) => (d.has(2) ? text(d.get(2)![0]) : d.get(1)![0]));
    };
    expect(text(message(graph.get(11)![0]).get(1)![0])).toBe('x');
    expect(shapeOf(graph.get(11)![0])).toEqual(['batch', 2]);
    expect(shapeOf(graph.get(12)![0])).toEqual(['batch', 2]);
  });

  it('writes a linear last layer straight to y, and varints above 127 in several bytes', () => {
    const wide = decode(denseChainToOnnx([{ inDim: 300, outDim: 1, kernel: new Float32Array(300), activation: 'linear' }]));
    const g = message(wide.get(7)![0]);
    const nodes = g.get(1)!.map(message);
    expect(nodes.map((n) => text(n.get(4)![0]))).toEqual(['Gemm']);
    expect(text(nodes[0].get(2)![0])).toBe('y');
    expect(message(g.get(5)![0]).get(1)).toEqual([300, 1]);
  });

  it('rejects layers that do not chain or weights of the wrong length', () => {
    expect(() => denseChainToOnnx([])).toThrow(/at least one layer/);
    expect(() => denseChainToOnnx([{ inDim: 2, outDim: 2, kernel: new Float32Array(3), activation: 'relu' }])).toThrow(/3 values, not 2 × 2/);
    expect(() =>
      denseChainToOnnx([
        { inDim: 2, outDim: 2, kernel: new Float32Array(4), activation: 'relu' },
        { inDim: 3, outDim: 1, kernel: new Float32Array(3), activation: 'linear' },
      ]),
    ).toThrow(/takes 3 inputs but layer 0 gives 2/);
    expect(() => denseChainToOnnx([{ inDim: 2, outDim: 2, kernel: new Float32Array(4), bias: new Float32Array(1), activation: 'relu' }])).toThrow(/bias has 1 values/);
  });
});
