// A minimal ONNX model writer: one Conv or ConvTranspose node with its weight (and bias) as
// initializers, or one pooling node, so onnxruntime-web can run the benchmark's layers without a
// model file.
// Only the protobuf fields the node needs are written (onnx.proto field numbers in the comments).

const WIRE_VARINT = 0;
const WIRE_BYTES = 2;
const FLOAT = 1; // TensorProto.DataType
const ATTR_INT = 2; // AttributeProto.AttributeType
const ATTR_INTS = 7;

/** Appends protobuf fields to a growing byte list. */
class Writer {
  bytes = [];

  varint(value) {
    let v = BigInt(value);
    do {
      const low = Number(v & 0x7fn);
      v >>= 7n;
      this.bytes.push(v > 0n ? low | 0x80 : low);
    } while (v > 0n);
    return this;
  }

  key(field, wire) {
    return this.varint((field << 3) | wire);
  }

  int(field, value) {
    return this.key(field, WIRE_VARINT).varint(value);
  }

  raw(field, data) {
    this.key(field, WIRE_BYTES).varint(data.length);
    for (const b of data) this.bytes.push(b);
    return this;
  }

  string(field, text) {
    return this.raw(field, new TextEncoder().encode(text));
  }

  message(field, build) {
    const inner = new Writer();
    build(inner);
    return this.raw(field, inner.bytes);
  }

  finish() {
    return Uint8Array.from(this.bytes);
  }
}

/** TensorProto: dims = 1, data_type = 2, name = 8, raw_data = 9 (little-endian float32). */
function tensorProto(w, name, { data, shape }) {
  for (const d of shape) w.int(1, d);
  w.int(2, FLOAT).string(8, name);
  const le = new Uint8Array(data.length * 4);
  const view = new DataView(le.buffer);
  data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  w.raw(9, le);
}

/** ValueInfoProto: name = 1, type = 2 -> TypeProto.tensor_type = 1 -> elem_type = 1, shape = 2 -> dim = 1 -> dim_value = 1. */
function valueInfo(w, name, shape) {
  w.string(1, name).message(2, (type) =>
    type.message(1, (tensor) => tensor.int(1, FLOAT).message(2, (s) => shape.forEach((d) => s.message(1, (dim) => dim.int(1, d))))),
  );
}

/**
 * The ONNX bytes of `Y = op(X[, W[, B]])`: op is 'Conv' or 'ConvTranspose' (with a weight), or a
 * pooling op (without), attributes are integers or integer lists (strides, pads, dilations, group,
 * ...), shapes are the input's and the output's.
 */
export function singleNodeModel({ op, attributes, weight, bias, inputShape, outputShape }) {
  const inputs = ['X', ...(weight ? ['W'] : []), ...(bias ? ['B'] : [])];
  return new Writer()
    .int(1, 8) // ir_version
    .message(8, (opset) => opset.string(1, '').int(2, 17)) // opset_import: domain, version
    .message(7, (graph) => {
      graph.message(1, (node) => {
        for (const name of inputs) node.string(1, name);
        node.string(2, 'Y').string(3, op.toLowerCase()).string(4, op);
        for (const [name, value] of Object.entries(attributes)) {
          // AttributeProto: name = 1, i = 3, ints = 8, type = 20
          node.message(5, (a) => {
            a.string(1, name);
            if (Array.isArray(value)) value.forEach((v) => a.int(8, v));
            else a.int(3, value);
            a.int(20, Array.isArray(value) ? ATTR_INTS : ATTR_INT);
          });
        }
      });
      graph.string(2, 'convkit-bench');
      if (weight) graph.message(5, (t) => tensorProto(t, 'W', weight));
      if (bias) graph.message(5, (t) => tensorProto(t, 'B', bias));
      graph.message(11, (v) => valueInfo(v, 'X', inputShape));
      graph.message(12, (v) => valueInfo(v, 'Y', outputShape));
    })
    .finish();
}
