import onnxProto from "onnx-proto";
import type { Dim, ElemType } from "./types.js";

const { onnx } = onnxProto;

const DATA_TYPE: Record<ElemType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  int64: onnx.TensorProto.DataType.INT64,
  bool: onnx.TensorProto.DataType.BOOL,
};

export function dataTypeOf(type: ElemType): number {
  return DATA_TYPE[type];
}

function checkedDims(name: string, dims: readonly number[], length: number): number[] {
  const size = dims.reduce((product, dim) => product * dim, 1);
  if (size !== length) {
    throw new TypeError(`${name}: expected ${size} values for dims [${dims}], got ${length}`);
  }
  return [...dims];
}

/** Raw data is always written little-endian, as ONNX requires, whatever the host order. */
export function float32Tensor(
  name: string,
  data: Float32Array,
  dims: readonly number[],
): onnxProto.onnx.ITensorProto {
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  return {
    name,
    dataType: DATA_TYPE.float32,
    dims: checkedDims(name, dims, data.length),
    rawData: bytes,
  };
}

export function int64Tensor(
  name: string,
  values: readonly number[],
  dims: readonly number[],
): onnxProto.onnx.ITensorProto {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((value, i) => {
    if (!Number.isSafeInteger(value)) {
      throw new TypeError(`${name}: expected safe integers, got ${value}`);
    }
    view.setBigInt64(i * 8, BigInt(value), true);
  });
  return {
    name,
    dataType: DATA_TYPE.int64,
    dims: checkedDims(name, dims, values.length),
    rawData: bytes,
  };
}

/** Without dims the tensor's rank is left unknown. */
export function valueInfo(
  name: string,
  type: ElemType,
  dims?: readonly Dim[],
): onnxProto.onnx.IValueInfoProto {
  const elemType = DATA_TYPE[type];
  if (dims === undefined) return { name, type: { tensorType: { elemType } } };
  const dim = dims.map((size) =>
    typeof size === "number" ? { dimValue: size } : { dimParam: size },
  );
  return { name, type: { tensorType: { elemType, shape: { dim } } } };
}
