import { describe, expect, it } from "vitest";
import {
  decodeSafetensors,
  encodeSafetensors,
  SafetensorsError,
  type Tensor,
} from "../../src/model/safetensors.js";

// Written by the reference implementation (Python safetensors 0.8.0, safetensors.numpy.save).
const REFERENCE = {
  zerosI32:
    "40000000000000007b2274657374223a7b226474797065223a22493332222c227368617065223a5b322c325d" +
    "2c22646174615f6f666673657473223a5b302c31365d7d7d2020202000000000000000000000000000000000",
  // {b: F32 [0,1,2], a: F64 [1.5,-2], z: I64 [1,-2], u: U8 [7], i: I32 [[-3],[4]]}, metadata {k: "v"}
  mixed:
    "30010000000000007b225f5f6d657461646174615f5f223a7b226b223a2276227d2c227a223a7b2264747970" +
    "65223a22493634222c227368617065223a5b325d2c22646174615f6f666673657473223a5b302c31365d7d2c" +
    "2261223a7b226474797065223a22463634222c227368617065223a5b325d2c22646174615f6f666673657473" +
    "223a5b31362c33325d7d2c2262223a7b226474797065223a22463332222c227368617065223a5b335d2c2264" +
    "6174615f6f666673657473223a5b33322c34345d7d2c2269223a7b226474797065223a22493332222c227368" +
    "617065223a5b322c315d2c22646174615f6f666673657473223a5b34342c35325d7d2c2275223a7b22647479" +
    "7065223a225538222c227368617065223a5b315d2c22646174615f6f666673657473223a5b35322c35335d7d" +
    "7d2020200100000000000000feffffffffffffff000000000000f83f00000000000000c0000000000000803f" +
    "00000040fdffffff0400000007",
  // {s: F64 scalar 3.5 (shape []), x: F32 shape [0]}
  scalarAndEmpty:
    "70000000000000007b2273223a7b226474797065223a22463634222c227368617065223a5b5d2c2264617461" +
    "5f6f666673657473223a5b302c385d7d2c2278223a7b226474797065223a22463332222c227368617065223a" +
    "5b305d2c22646174615f6f666673657473223a5b382c385d7d7d2020202020200000000000000c40",
};

const MIXED: Record<string, Tensor> = {
  b: { dtype: "F32", shape: [3], data: new Float32Array([0, 1, 2]) },
  a: { dtype: "F64", shape: [2], data: new Float64Array([1.5, -2]) },
  z: { dtype: "I64", shape: [2], data: new BigInt64Array([1n, -2n]) },
  u: { dtype: "U8", shape: [1], data: new Uint8Array([7]) },
  i: { dtype: "I32", shape: [2, 1], data: new Int32Array([-3, 4]) },
};

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const fromHex = (text: string) => new Uint8Array(Buffer.from(text, "hex"));

/** A file with the given header (JSON value or raw text) and data bytes. */
function fileWith(header: unknown, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const text = typeof header === "string" ? header : JSON.stringify(header);
  const json = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const f32Entry = (shape: number[], begin: number, end: number) => ({
  dtype: "F32",
  shape,
  data_offsets: [begin, end],
});

function expectInvalid(
  bytes: Uint8Array,
  message: RegExp,
  limits?: { maxHeaderBytes?: number; maxBytes?: number },
) {
  let thrown: unknown;
  try {
    decodeSafetensors(bytes, limits);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(SafetensorsError);
  expect((thrown as SafetensorsError).code).toBe("SAFETENSORS_INVALID");
  expect((thrown as Error).message).toMatch(message);
}

describe("encodeSafetensors", () => {
  it("writes the same bytes as the reference implementation", () => {
    const zeros: Record<string, Tensor> = {
      test: { dtype: "I32", shape: [2, 2], data: new Int32Array(4) },
    };
    expect(hex(encodeSafetensors(zeros))).toBe(REFERENCE.zerosI32);
    expect(hex(encodeSafetensors(MIXED, { k: "v" }))).toBe(REFERENCE.mixed);
    const scalarAndEmpty: Record<string, Tensor> = {
      x: { dtype: "F32", shape: [0], data: new Float32Array(0) },
      s: { dtype: "F64", shape: [], data: new Float64Array([3.5]) },
    };
    expect(hex(encodeSafetensors(scalarAndEmpty))).toBe(REFERENCE.scalarAndEmpty);
  });

  it("pads the header with spaces to a multiple of 8 bytes", () => {
    for (const name of ["a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg", "abcdefgh"]) {
      const bytes = encodeSafetensors({
        [name]: { dtype: "U8", shape: [1], data: new Uint8Array([1]) },
      });
      const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      expect(headerLength % 8).toBe(0);
      const header = Buffer.from(bytes.subarray(8, 8 + headerLength)).toString("utf8");
      expect(header.trimEnd()).toBe(
        JSON.stringify({ [name]: f32Entry([1], 0, 1) }).replace("F32", "U8"),
      );
      expect(header.slice(header.trimEnd().length)).toMatch(/^ {0,7}$/);
    }
  });

  it("rejects data that does not match the dtype or the shape", () => {
    expect(() =>
      encodeSafetensors({ t: { dtype: "F32", shape: [2], data: new Float64Array(2) } }),
    ).toThrow(/tensor t: dtype F32 expects a Float32Array/);
    expect(() =>
      encodeSafetensors({ t: { dtype: "F32", shape: [2, 2], data: new Float32Array(3) } }),
    ).toThrow(/tensor t: shape \[2,2\] holds 4 elements but data has 3/);
    expect(() =>
      encodeSafetensors({ t: { dtype: "F32", shape: [-1], data: new Float32Array(0) } }),
    ).toThrow(TypeError);
  });
});

describe("decodeSafetensors", () => {
  it("reads the reference implementation's files", () => {
    const { tensors, metadata } = decodeSafetensors(fromHex(REFERENCE.mixed));
    expect(metadata).toEqual({ k: "v" });
    expect(Object.keys(tensors).sort()).toEqual(["a", "b", "i", "u", "z"]);
    for (const [name, tensor] of Object.entries(MIXED)) expect(tensors[name]).toEqual(tensor);
    const scalar = decodeSafetensors(fromHex(REFERENCE.scalarAndEmpty)).tensors;
    expect(scalar["s"]).toEqual({ dtype: "F64", shape: [], data: new Float64Array([3.5]) });
    expect(scalar["x"]).toEqual({ dtype: "F32", shape: [0], data: new Float32Array(0) });
  });

  it("round-trips every dtype, special values and awkward names", () => {
    const tensors: Record<string, Tensor> = {
      ...MIXED,
      "0": { dtype: "F32", shape: [3], data: new Float32Array([Number.NaN, -0, Infinity]) },
      __proto__x: { dtype: "I64", shape: [1], data: new BigInt64Array([-(2n ** 63n)]) },
      "é/ü.weight": {
        dtype: "F64",
        shape: [2, 2],
        data: new Float64Array([1e-300, -1e300, 0.1, 5]),
      },
    };
    const decoded = decodeSafetensors(encodeSafetensors(tensors, { note: "ünïcode", empty: "" }));
    expect(decoded.metadata).toEqual({ note: "ünïcode", empty: "" });
    expect(decoded.tensors).toEqual(tensors);
    expect(Object.is((decoded.tensors["0"]!.data as Float32Array)[1], -0)).toBe(true);
  });

  it("keeps a tensor named __proto__ as data, not as a prototype", () => {
    const name = "__proto__";
    const tensors: Record<string, Tensor> = Object.fromEntries([
      [name, { dtype: "U8", shape: [2], data: new Uint8Array([1, 2]) }],
    ]);
    const decoded = decodeSafetensors(encodeSafetensors(tensors));
    expect(Object.getPrototypeOf(decoded.tensors)).toBe(Object.prototype);
    const own = Object.getOwnPropertyDescriptor(decoded.tensors, name)?.value as Tensor;
    expect(own.data).toEqual(new Uint8Array([1, 2]));
  });

  it("copies data into aligned arrays that do not alias the input", () => {
    const encoded = encodeSafetensors(MIXED);
    const backing = new Uint8Array(encoded.length + 3);
    backing.set(encoded, 3);
    const input = backing.subarray(3);
    const { tensors } = decodeSafetensors(input);
    for (const tensor of Object.values(tensors)) {
      expect(tensor.data.byteOffset).toBe(0);
      expect(tensor.data.buffer).not.toBe(backing.buffer);
    }
    backing.fill(0);
    expect(tensors["a"]!.data).toEqual(new Float64Array([1.5, -2]));
  });

  it("copies out of a Node Buffer too (Buffer#slice does not copy)", () => {
    const pooled = Buffer.concat([Buffer.from([9, 9, 9]), Buffer.from(encodeSafetensors(MIXED))]);
    const input = pooled.subarray(3);
    const { tensors } = decodeSafetensors(input);
    expect(tensors["b"]!.data).toEqual(new Float32Array([0, 1, 2]));
    expect(tensors["b"]!.data.buffer.byteLength).toBe(12);
    pooled.fill(0);
    expect(tensors["z"]!.data).toEqual(new BigInt64Array([1n, -2n]));
  });

  describe("rejects", () => {
    it("a file shorter than 8 bytes", () => {
      expectInvalid(new Uint8Array(7), /7 bytes; expected at least 8/);
    });

    it("a header length beyond the limit or beyond the file", () => {
      const file = fileWith({ t: f32Entry([1], 0, 4) }, new Uint8Array(4));
      expectInvalid(file, /exceeds the limit of 16 bytes/, { maxHeaderBytes: 16 });
      const huge = new Uint8Array(16);
      new DataView(huge.buffer).setBigUint64(0, 2n ** 64n - 1n, true);
      expectInvalid(huge, /exceeds the limit/);
      const beyond = new Uint8Array(16);
      new DataView(beyond.buffer).setBigUint64(0, 9n, true);
      expectInvalid(beyond, /header length 9 exceeds the 8 bytes after the length prefix/);
    });

    it("a file larger than maxBytes", () => {
      const file = fileWith({ t: f32Entry([1], 0, 4) }, new Uint8Array(4));
      expectInvalid(file, new RegExp(`file is ${file.length} bytes; the limit is 20`), {
        maxBytes: 20,
      });
    });

    it("a header that is not a JSON object", () => {
      expectInvalid(fileWith("{not json"), /not valid JSON/);
      expectInvalid(fileWith("[1, 2]"), /must be a JSON object/);
      expectInvalid(fileWith("null"), /must be a JSON object/);
      const badUtf8 = fileWith("{}");
      badUtf8[9] = 0xff;
      expectInvalid(badUtf8, /not valid UTF-8/);
    });

    it("an unknown dtype", () => {
      const header = { t: { dtype: "F8_E4M3", shape: [1], data_offsets: [0, 1] } };
      expectInvalid(fileWith(header, new Uint8Array(1)), /tensor t: unsupported dtype "F8_E4M3"/);
    });

    it("negative or non-integer dimensions", () => {
      expectInvalid(fileWith({ t: f32Entry([-1], 0, 0) }), /tensor t: shape must be .* got \[-1\]/);
      expectInvalid(fileWith({ t: f32Entry([1.5], 0, 6) }, new Uint8Array(6)), /tensor t: shape/);
      expectInvalid(fileWith({ t: { dtype: "F32", shape: "2", data_offsets: [0, 8] } }), /shape/);
    });

    it("offsets that do not match shape × dtype size", () => {
      expectInvalid(
        fileWith({ t: f32Entry([2, 2], 0, 12) }, new Uint8Array(12)),
        /tensor t: data_offsets \[0, 12\] span 12 bytes; shape \[2,2\] of F32 needs 16/,
      );
      expectInvalid(
        fileWith({ t: f32Entry([1], 4, 0) }, new Uint8Array(4)),
        /tensor t: data_offsets/,
      );
      expectInvalid(
        fileWith({ t: { dtype: "F32", shape: [1], data_offsets: [0] } }),
        /\[begin, end\]/,
      );
    });

    it("overlapping offsets", () => {
      const header = { a: f32Entry([2], 0, 8), b: f32Entry([2], 4, 12) };
      expectInvalid(
        fileWith(header, new Uint8Array(12)),
        /tensor b: .* overlaps the previous tensor/,
      );
    });

    it("gaps, offsets out of range and data not covered exactly", () => {
      const gap = { a: f32Entry([1], 0, 4), b: f32Entry([1], 8, 12) };
      expectInvalid(
        fileWith(gap, new Uint8Array(12)),
        /tensor b: .* leaves a gap; expected begin 4/,
      );
      expectInvalid(
        fileWith({ a: f32Entry([2], 0, 8) }, new Uint8Array(4)),
        /tensor a: data_offsets \[0, 8\] exceed the 4 data bytes/,
      );
      expectInvalid(
        fileWith({ a: f32Entry([1], 0, 4) }, new Uint8Array(5)),
        /cover 4 of 5 data bytes/,
      );
      expectInvalid(fileWith({}, new Uint8Array(1)), /cover 0 of 1 data bytes/);
    });

    it("metadata that is not an object of strings", () => {
      expectInvalid(
        fileWith({ __metadata__: { n: 1 } }),
        /__metadata__\.n: expected a string, got number/,
      );
      expectInvalid(fileWith({ __metadata__: ["x"] }), /__metadata__ must be an object/);
    });

    it("tensor entries with missing or extra keys", () => {
      expectInvalid(
        fileWith({ t: { dtype: "F32", shape: [0] } }),
        /tensor t: expected exactly the keys/,
      );
      const extra = { t: { ...f32Entry([0], 0, 0), extra: true } };
      expectInvalid(fileWith(extra), /tensor t: expected exactly the keys/);
      expectInvalid(fileWith({ t: 5 }), /tensor t: expected an object/);
    });
  });
});
