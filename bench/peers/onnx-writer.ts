/**
 * A minimal ONNX writer for chains of dense layers (Gemm, then Relu or Softmax), enough to time the same weights in
 * onnxruntime beside tfjs (`npm run bench:peers`). It writes the protobuf wire format by hand: the ONNX schema needs
 * only a dozen fields for this graph, and a protobuf library plus the ONNX schema would be two more dependencies for
 * one benchmark. Field numbers follow onnx/onnx.proto (ModelProto, GraphProto, NodeProto, TensorProto,
 * ValueInfoProto, TypeProto, AttributeProto).
 */

/** One dense layer of the chain: y = activation(x · kernel + bias), kernel row-major [inDim, outDim]. */
export interface OnnxDenseLayer {
  readonly inDim: number;
  readonly outDim: number;
  readonly kernel: Float32Array;
  readonly bias?: Float32Array;
  readonly activation: 'linear' | 'relu' | 'softmax';
}

/** The opset the graph declares: Gemm, Relu and Softmax (axis −1 by default) as they have been since opset 13. */
export const ONNX_OPSET = 13;
/** IR version 7 is what opset 13 shipped with; onnxruntime reads it. */
const IR_VERSION = 7;
/** TensorProto.DataType.FLOAT. */
const FLOAT = 1;
/** AttributeProto.AttributeType.INT. */
const ATTRIBUTE_INT = 2;

const VARINT = 0;
const LENGTH_DELIMITED = 2;

/** The bytes of one protobuf message, built field by field. */
class MessageWriter {
  private readonly parts: Uint8Array[] = [];

  /** An integer field (int32, int64 and enums are all varints for values ≥ 0). */
  varint(field: number, value: number): this {
    this.parts.push(Uint8Array.from([...encodeVarint((field << 3) | VARINT), ...encodeVarint(value)]));
    return this;
  }

  /** A bytes, string or embedded-message field. */
  bytes(field: number, value: Uint8Array | string): this {
    const payload = typeof value === 'string' ? new TextEncoder().encode(value) : value;
    this.parts.push(Uint8Array.from([...encodeVarint((field << 3) | LENGTH_DELIMITED), ...encodeVarint(payload.length)]), payload);
    return this;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

/** Base-128 varint of a non-negative integer below 2^53 (sizes, dims, field keys). */
function encodeVarint(value: number): number[] {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`a varint needs an integer ≥ 0, got ${value}`);
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return bytes;
}

/** A float32 initializer (TensorProto: dims 1, data_type 2, name 8, raw_data 9 little-endian). */
function tensor(name: string, dims: readonly number[], values: Float32Array): Uint8Array {
  const message = new MessageWriter();
  for (const d of dims) message.varint(1, d);
  message.varint(2, FLOAT).bytes(8, name);
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer); // little-endian on any host, as raw_data requires
  for (let i = 0; i < values.length; i++) view.setFloat32(4 * i, values[i], true);
  return message.bytes(9, raw).finish();
}

/** A float32 graph input or output whose first dimension is the symbolic batch (ValueInfoProto → TypeProto.Tensor). */
function valueInfo(name: string, width: number): Uint8Array {
  const batch = new MessageWriter().bytes(2, 'batch').finish(); // Dimension.dim_param
  const features = new MessageWriter().varint(1, width).finish(); // Dimension.dim_value
  const shape = new MessageWriter().bytes(1, batch).bytes(1, features).finish(); // TensorShapeProto.dim
  const tensorType = new MessageWriter().varint(1, FLOAT).bytes(2, shape).finish(); // elem_type, shape
  const type = new MessageWriter().bytes(1, tensorType).finish(); // TypeProto.tensor_type
  return new MessageWriter().bytes(1, name).bytes(2, type).finish();
}

/** A NodeProto: inputs 1, outputs 2, name 3, op_type 4, integer attributes 5. */
function node(opType: string, name: string, inputs: readonly string[], output: string, attributes: Record<string, number> = {}): Uint8Array {
  const message = new MessageWriter();
  for (const input of inputs) message.bytes(1, input);
  message.bytes(2, output).bytes(3, name).bytes(4, opType);
  for (const [key, value] of Object.entries(attributes)) {
    message.bytes(5, new MessageWriter().bytes(1, key).varint(3, value).varint(20, ATTRIBUTE_INT).finish()); // name, i, type
  }
  return message.finish();
}

/**
 * The ONNX model (bytes of a ModelProto) computing the chain on a [batch, inDim] float32 input named `x`, with output
 * `y`: per layer a Gemm (kernel [inDim, outDim] as B, bias as C) and its activation node.
 * @throws RangeError when the layers do not chain or a weight array has the wrong length
 */
export function denseChainToOnnx(layers: readonly OnnxDenseLayer[], producer = 'tfjs-moon bench'): Uint8Array {
  if (layers.length === 0) throw new RangeError('an ONNX dense chain needs at least one layer');
  const graph = new MessageWriter();
  let current = 'x';
  layers.forEach((layer, i) => {
    if (i > 0 && layers[i - 1].outDim !== layer.inDim) throw new RangeError(`layer ${i} takes ${layer.inDim} inputs but layer ${i - 1} gives ${layers[i - 1].outDim}`);
    if (layer.kernel.length !== layer.inDim * layer.outDim) throw new RangeError(`layer ${i}'s kernel has ${layer.kernel.length} values, not ${layer.inDim} × ${layer.outDim}`);
    const bias = layer.bias ?? new Float32Array(layer.outDim);
    if (bias.length !== layer.outDim) throw new RangeError(`layer ${i}'s bias has ${bias.length} values, not ${layer.outDim}`);
    graph.bytes(5, tensor(`w${i}`, [layer.inDim, layer.outDim], layer.kernel)).bytes(5, tensor(`b${i}`, [layer.outDim], bias));
    const last = i === layers.length - 1;
    const product = layer.activation === 'linear' && last ? 'y' : `gemm${i}`;
    graph.bytes(1, node('Gemm', `gemm${i}`, [current, `w${i}`, `b${i}`], product));
    current = product;
    if (layer.activation !== 'linear') {
      const activated = last ? 'y' : `act${i}`;
      graph.bytes(1, node(layer.activation === 'relu' ? 'Relu' : 'Softmax', `act${i}`, [current], activated));
      current = activated;
    }
  });
  graph.bytes(2, 'dense_chain').bytes(11, valueInfo('x', layers[0].inDim)).bytes(12, valueInfo('y', layers[layers.length - 1].outDim));
  const opset = new MessageWriter().bytes(1, '').varint(2, ONNX_OPSET).finish(); // OperatorSetIdProto: default domain
  return new MessageWriter().varint(1, IR_VERSION).bytes(2, producer).bytes(7, graph.finish()).bytes(8, opset).finish();
}
