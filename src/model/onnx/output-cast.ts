/**
 * Reads and rewrites an ONNX graph's outputs at the protobuf wire level, without decoding its
 * tensors: a model of gigabytes is scanned in place, and a rewrite copies its bytes once.
 *
 * Field numbers (onnx.proto): ModelProto.graph = 7; GraphProto.node = 1, .output = 12;
 * NodeProto.input = 1, .output = 2, .name = 3, .op_type = 4, .attribute = 5; AttributeProto.name
 * = 1, .i = 3, .type = 20 (INT = 2); ValueInfoProto.name = 1, .type = 2; TypeProto.tensor_type = 1;
 * TypeProto.Tensor.elem_type = 1, .shape = 2.
 */

const LEN = 2;
const FLOAT = 1;
export const ELEM_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: "float32",
  10: "float16",
  16: "bfloat16",
  11: "float64",
  7: "int64",
  6: "int32",
  9: "bool",
};

export class OnnxWireError extends Error {
  readonly code = "MODEL_DIR_INVALID";
  override readonly name = "OnnxWireError";
}

interface Field {
  number: number;
  wire: number;
  /** Offset of the field's key. */
  start: number;
  /** Offset of a LEN field's payload, or of a varint's value. */
  value: number;
  end: number;
}

function varint(bytes: Uint8Array, at: number): [number, number] {
  let result = 0;
  let scale = 1;
  for (let pos = at; pos < bytes.length && pos < at + 10; pos++) {
    const byte = bytes[pos]!;
    result += (byte & 0x7f) * scale;
    if (byte < 0x80) return [result, pos + 1];
    scale *= 128;
  }
  throw new OnnxWireError(`not an ONNX model: bad varint at byte ${at}`);
}

function* fields(bytes: Uint8Array, from: number, to: number): Generator<Field> {
  let pos = from;
  while (pos < to) {
    const start = pos;
    const [key, afterKey] = varint(bytes, pos);
    const number = Math.floor(key / 8);
    const wire = key % 8;
    let value = afterKey;
    if (wire === 0) pos = varint(bytes, afterKey)[1];
    else if (wire === 1) pos = afterKey + 8;
    else if (wire === 5) pos = afterKey + 4;
    else if (wire === LEN) {
      const [length, payload] = varint(bytes, afterKey);
      value = payload;
      pos = payload + length;
    } else throw new OnnxWireError(`not an ONNX model: wire type ${wire} at byte ${start}`);
    if (pos > to) throw new OnnxWireError(`not an ONNX model: field at byte ${start} overruns`);
    yield { number, wire, start, value, end: pos };
  }
}

function child(bytes: Uint8Array, from: number, to: number, number: number): Field | undefined {
  let found: Field | undefined;
  for (const f of fields(bytes, from, to)) if (f.number === number && f.wire === LEN) found = f;
  return found;
}

const decoder = new TextDecoder();

interface OutputInfo {
  name: string;
  elemType: number | undefined;
  /** The TensorShapeProto's bytes, to copy into a rewritten output. */
  shape: Uint8Array | undefined;
}

function graphField(bytes: Uint8Array): Field {
  const graph = child(bytes, 0, bytes.length, 7);
  if (graph === undefined) throw new OnnxWireError("not an ONNX model: it has no graph");
  return graph;
}

function outputInfo(bytes: Uint8Array, f: Field): OutputInfo {
  const name = child(bytes, f.value, f.end, 1);
  const type = child(bytes, f.value, f.end, 2);
  const tensor = type && child(bytes, type.value, type.end, 1);
  let elemType: number | undefined;
  let shape: Uint8Array | undefined;
  if (tensor) {
    for (const g of fields(bytes, tensor.value, tensor.end)) {
      if (g.number === 1 && g.wire === 0) elemType = varint(bytes, g.value)[0];
      if (g.number === 2 && g.wire === LEN) shape = bytes.subarray(g.value, g.end);
    }
  }
  return {
    name: name ? decoder.decode(bytes.subarray(name.value, name.end)) : "",
    elemType,
    shape,
  };
}

/** The graph's outputs and their element types ("float32", "bfloat16", …; undefined if unknown). */
export function graphOutputTypes(bytes: Uint8Array): Map<string, string | undefined> {
  const graph = graphField(bytes);
  const out = new Map<string, string | undefined>();
  for (const f of fields(bytes, graph.value, graph.end)) {
    if (f.number !== 12 || f.wire !== LEN) continue;
    const info = outputInfo(bytes, f);
    out.set(info.name, info.elemType === undefined ? undefined : ELEM_TYPE_NAMES[info.elemType]);
  }
  return out;
}

function encodeVarint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

const encoder = new TextEncoder();

function lenField(number: number, payload: Uint8Array): Uint8Array {
  const head = [...encodeVarint(number * 8 + LEN), ...encodeVarint(payload.length)];
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  out.set(payload, head.length);
  return out;
}

function varintField(number: number, value: number): Uint8Array {
  return Uint8Array.from([...encodeVarint(number * 8), ...encodeVarint(value)]);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const text = (value: string) => encoder.encode(value);

function nodeOutputNames(bytes: Uint8Array, graph: Field): Set<string> {
  const names = new Set<string>();
  for (const f of fields(bytes, graph.value, graph.end)) {
    if (f.number !== 1 || f.wire !== LEN) continue;
    for (const g of fields(bytes, f.value, f.end)) {
      if (g.number === 2 && g.wire === LEN)
        names.add(decoder.decode(bytes.subarray(g.value, g.end)));
    }
  }
  return names;
}

/**
 * The model with graph output `name` replaced by `${name}/sharelora_float32`, a Cast of it to float32 (for
 * runtimes that cannot hold its type, as onnxruntime-node cannot hold bfloat16). Returns the new
 * bytes and the new output's name.
 */
export function castOutputToFloat32(
  bytes: Uint8Array,
  name: string,
): { bytes: Uint8Array; output: string } {
  const graph = graphField(bytes);
  const taken = nodeOutputNames(bytes, graph);
  let castName = `${name}/sharelora_float32`;
  for (let i = 2; taken.has(castName); i++) castName = `${name}/sharelora_float32_${i}`;
  const parts: Uint8Array[] = [];
  let replaced: OutputInfo | undefined;
  for (const f of fields(bytes, graph.value, graph.end)) {
    if (f.number === 12 && f.wire === LEN && replaced === undefined) {
      const info = outputInfo(bytes, f);
      if (info.name === name) {
        replaced = info;
        continue;
      }
    }
    parts.push(bytes.subarray(f.start, f.end));
  }
  if (replaced === undefined) throw new OnnxWireError(`the graph has no output "${name}"`);
  const attribute = concat([lenField(1, text("to")), varintField(3, FLOAT), varintField(20, 2)]);
  const node = concat([
    lenField(1, text(name)),
    lenField(2, text(castName)),
    lenField(3, text(`sharelora_cast_${name}`)),
    lenField(4, text("Cast")),
    lenField(5, attribute),
  ]);
  const tensorType = concat([
    varintField(1, FLOAT),
    ...(replaced.shape ? [lenField(2, replaced.shape)] : []),
  ]);
  const valueInfo = concat([lenField(1, text(castName)), lenField(2, lenField(1, tensorType))]);
  parts.push(lenField(1, node), lenField(12, valueInfo));
  const model = [
    bytes.subarray(0, graph.start),
    lenField(7, concat(parts)),
    bytes.subarray(graph.end),
  ];
  return { bytes: concat(model), output: castName };
}
