import type { Tensor } from "./safetensors.js";

/** IEEE half precision bits → the number they encode (exact: every half is a float32). */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/**
 * A floating-point tensor's values as float32, exactly (F64 is rounded to float32): bfloat16 is
 * the upper half of a float32, float16 widens without loss.
 */
export function toFloat32(tensor: Tensor, name = "tensor"): Float32Array {
  switch (tensor.dtype) {
    case "F32":
      return Float32Array.from(tensor.data as Float32Array);
    case "F64":
      return Float32Array.from(tensor.data as Float64Array);
    case "BF16": {
      const bits = tensor.data as Uint16Array;
      const wide = new Uint32Array(bits.length);
      for (let i = 0; i < bits.length; i++) wide[i] = bits[i]! << 16;
      return new Float32Array(wide.buffer);
    }
    case "F16":
      return Float32Array.from(tensor.data as Uint16Array, halfToNumber);
    default:
      throw new TypeError(
        `${name}: expected a floating-point tensor (F32, F64, F16 or BF16), got ${tensor.dtype}`,
      );
  }
}
