import { describe, expect, it } from "vitest";
import type { AdapterErrorCode } from "../../src/adapters/errors.js";
import { decodeAdapter, decodeAdapterWeights, encodeAdapter } from "../../src/adapters/format.js";
import type { Adapter } from "../../src/adapters/types.js";
import { decodeSafetensors, encodeSafetensors } from "../../src/model/safetensors.js";
import { draftFor, P, SHAPE } from "./fixtures/adapter-data.js";

function adapterFor(user: string, seed: number): Adapter {
  return {
    ...draftFor(seed),
    user,
    version: seed,
    createdAt: "2025-01-02T03:04:05.000Z",
    updatedAt: "2025-01-02T03:04:06.000Z",
  };
}

function decodeError(
  bytes: Uint8Array,
  user = "alice",
): { code: AdapterErrorCode; message: string } {
  try {
    decodeAdapter(bytes, { user, shape: SHAPE });
  } catch (error) {
    return error as { code: AdapterErrorCode; message: string };
  }
  throw new Error("expected decodeAdapter to throw");
}

/** Re-encodes a valid adapter file with one change made to its tensors or metadata. */
function tampered(
  change: (file: ReturnType<typeof decodeSafetensors>) => void,
  adapter = adapterFor("alice", 3),
): Uint8Array {
  const file = decodeSafetensors(encodeAdapter(adapter));
  change(file);
  return encodeSafetensors(file.tensors, file.metadata);
}

describe("adapter file format", () => {
  it("round-trips every field", () => {
    const adapter = adapterFor("alice@example.com", 7);
    expect(decodeAdapter(encodeAdapter(adapter), { user: adapter.user, shape: SHAPE })).toEqual(
      adapter,
    );
  });

  it("round-trips an adapter without posterior or pairs", () => {
    const { posterior: _p, pairs: _q, ...adapter } = adapterFor("bob", 2);
    const decoded = decodeAdapter(encodeAdapter(adapter), { user: "bob", shape: SHAPE });
    expect(decoded).toEqual(adapter);
    expect("posterior" in decoded || "pairs" in decoded).toBe(false);
  });

  it("writes the documented tensors and metadata", () => {
    const file = decodeSafetensors(encodeAdapter(adapterFor("alice", 5)));
    expect(Object.keys(file.tensors).sort()).toEqual([
      "W",
      "pairs_g",
      "pairs_o",
      "posterior_cholesky",
    ]);
    expect(file.tensors["W"]).toMatchObject({ dtype: "F32", shape: [SHAPE.k, SHAPE.m] });
    expect(file.tensors["posterior_cholesky"]).toMatchObject({ dtype: "F64", shape: [P, P] });
    expect(file.tensors["pairs_g"]).toMatchObject({ dtype: "F32", shape: [3, P] });
    expect(file.tensors["pairs_o"]).toMatchObject({ dtype: "F32", shape: [3] });
    expect(file.metadata).toMatchObject({
      format: "sharelora-adapter",
      user: "alice",
      version: "5",
      head_hash: "sha256:0123456789abcdef",
      created_at: "2025-01-02T03:04:05.000Z",
      updated_at: "2025-01-02T03:04:06.000Z",
      n_pairs: "3",
      lambda: "0.1",
    });
    expect(JSON.parse(file.metadata["metrics"]!)).toEqual({ loss: 0.2, accuracy: 0.75 });
  });

  it("refuses a file that names another user, without naming that user", () => {
    const error = decodeError(encodeAdapter(adapterFor("mallory", 1)), "alice");
    expect(error.code).toBe("ADAPTER_CORRUPT");
    expect(error.message).toContain("alice");
    expect(error.message).not.toContain("mallory");
  });

  it("refuses truncated files", () => {
    const bytes = encodeAdapter(adapterFor("alice", 1));
    for (const length of [0, 5, 8, 100, bytes.length - 1]) {
      expect(decodeError(bytes.subarray(0, length)).code).toBe("ADAPTER_CORRUPT");
    }
  });

  it("refuses an adapter of another shape with ADAPTER_SHAPE_MISMATCH", () => {
    const bytes = encodeAdapter(adapterFor("alice", 1));
    let error: unknown;
    try {
      decodeAdapter(bytes, { user: "alice", shape: { k: 2, m: 2 } });
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: "ADAPTER_SHAPE_MISMATCH", user: "alice" });
    expect((error as Error).message).toContain("4×2");
    expect((error as Error).message).toContain("2×2");
  });

  it("refuses non-finite numbers anywhere", () => {
    const withNaN = adapterFor("alice", 1);
    withNaN.W[3] = Number.NaN;
    expect(decodeError(encodeAdapter(withNaN)).message).toContain(
      "W has a non-finite value at index 3",
    );
    const withInf = adapterFor("alice", 1);
    withInf.posterior!.cholesky[P + 0] = Number.POSITIVE_INFINITY;
    expect(decodeError(encodeAdapter(withInf)).code).toBe("ADAPTER_CORRUPT");
    const withBadPair = adapterFor("alice", 1);
    withBadPair.pairs!.g[5] = Number.NaN;
    expect(decodeError(encodeAdapter(withBadPair)).message).toContain("pairs.g");
    expect(decodeError(tampered((f) => (f.metadata["lambda"] = "NaN"))).message).toContain(
      "lambda",
    );
  });

  it("refuses a header over 64 KiB", () => {
    const bytes = tampered((f) => (f.metadata["padding"] = "x".repeat(70_000)));
    expect(decodeError(bytes).code).toBe("ADAPTER_CORRUPT");
  });

  it("refuses a file over the byte bound before parsing it", () => {
    const bytes = encodeAdapter(adapterFor("alice", 1));
    let error: unknown;
    try {
      decodeAdapter(bytes, { user: "alice", shape: SHAPE, maxBytes: bytes.length - 1 });
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: "ADAPTER_CORRUPT" });
    expect(
      decodeAdapter(bytes, { user: "alice", shape: SHAPE, maxBytes: bytes.length }).version,
    ).toBe(1);
  });

  it("refuses malformed structure and metadata", () => {
    const cases: [string, (f: ReturnType<typeof decodeSafetensors>) => void, string][] = [
      ["other format", (f) => (f.metadata["format"] = "something-else"), "format"],
      ["future format version", (f) => (f.metadata["format_version"] = "2"), "format_version"],
      ["no W", (f) => delete f.tensors["W"], "missing tensor W"],
      ["extra tensor", (f) => (f.tensors["extra"] = f.tensors["pairs_o"]!), "unexpected tensor"],
      [
        "W as F64",
        (f) =>
          (f.tensors["W"] = { dtype: "F64", shape: [SHAPE.k, SHAPE.m], data: new Float64Array(P) }),
        "W",
      ],
      ["pairs_o without pairs_g", (f) => delete f.tensors["pairs_g"], "pairs_g and pairs_o"],
      [
        "pairs of different n",
        (f) => (f.tensors["pairs_o"] = { dtype: "F32", shape: [2], data: new Float32Array(2) }),
        "pairs_g",
      ],
      ["posterior without lambda", (f) => delete f.metadata["lambda"], "lambda"],
      ["lambda without posterior", (f) => delete f.tensors["posterior_cholesky"], "lambda"],
      ["version 0", (f) => (f.metadata["version"] = "0"), "version"],
      ["version with a sign", (f) => (f.metadata["version"] = "+3"), "version"],
      ["bad timestamp", (f) => (f.metadata["updated_at"] = "yesterday"), "updated_at"],
      ["metrics not JSON", (f) => (f.metadata["metrics"] = "{"), "metrics"],
      ["metric not a number", (f) => (f.metadata["metrics"] = '{"loss":"low"}'), "loss"],
      ["no head hash", (f) => delete f.metadata["head_hash"], "head_hash"],
      [
        "upper-triangular entry",
        (f) => {
          (f.tensors["posterior_cholesky"]!.data as Float64Array)[1] = 0.25;
        },
        "lower-triangular",
      ],
      [
        "non-positive diagonal",
        (f) => {
          (f.tensors["posterior_cholesky"]!.data as Float64Array)[0] = 0;
        },
        "diagonal 0",
      ],
    ];
    for (const [name, change, detail] of cases) {
      const error = decodeError(tampered(change));
      expect(error.code, name).toBe("ADAPTER_CORRUPT");
      expect(error.message, name).toContain(detail);
    }
  });

  it("reports uploads as INVALID_ADAPTER when asked", () => {
    let error: unknown;
    try {
      decodeAdapter(new Uint8Array(4), {
        user: "alice",
        shape: SHAPE,
        invalidCode: "INVALID_ADAPTER",
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: "INVALID_ADAPTER", user: "alice" });
  });
});

describe("adapter file format with Node Buffers", () => {
  it("decodes a Buffer, including one that is a view into a larger pool", () => {
    const adapter = adapterFor("alice", 9);
    const bytes = encodeAdapter(adapter);
    const pool = Buffer.alloc(bytes.length + 24);
    pool.set(bytes, 16);
    const view = pool.subarray(16, 16 + bytes.length);
    expect(decodeAdapter(Buffer.from(bytes), { user: "alice", shape: SHAPE })).toEqual(adapter);
    expect(decodeAdapter(view, { user: "alice", shape: SHAPE })).toEqual(adapter);
  });
});

describe("decodeAdapterWeights", () => {
  const options = { user: "alice", shape: SHAPE };

  /** Feeds the decoder prefixes the way the store does: the first `first` bytes, then what it asks. */
  function decodeByPrefix(bytes: Uint8Array, first: number): { asked: number[]; weights: unknown } {
    const asked: number[] = [];
    let prefix = bytes.subarray(0, first);
    for (let round = 0; round < 3; round++) {
      const decoded = decodeAdapterWeights(prefix, bytes.length, options);
      if ("weights" in decoded) return { asked, weights: decoded.weights };
      asked.push(decoded.needBytes);
      prefix = bytes.subarray(0, decoded.needBytes);
    }
    throw new Error("decoder kept asking");
  }

  it("reads what the whole decode reads for W and the identity fields", () => {
    const adapter = adapterFor("alice", 7);
    const bytes = encodeAdapter(adapter);
    const { asked, weights } = decodeByPrefix(bytes, bytes.length);
    expect(asked).toEqual([]);
    expect(weights).toEqual({
      user: "alice",
      version: 7,
      headHash: adapter.headHash,
      k: SHAPE.k,
      m: SHAPE.m,
      W: adapter.W,
    });
  });

  it("asks for the header, then for W, and never for the bytes after W", () => {
    const adapter = adapterFor("alice", 2);
    const bytes = encodeAdapter(adapter);
    const headerEnd = 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const { asked, weights } = decodeByPrefix(bytes, 16);
    // Tensors are written F64 first: the posterior factor lies before W, the pair statistics after.
    const wEnd = headerEnd + P * P * 8 + P * 4;
    expect(asked).toEqual([headerEnd, wEnd]);
    expect(wEnd).toBeLessThan(bytes.length);
    expect((weights as { W: Float32Array }).W).toEqual(adapter.W);
  });

  it("checks W, the owner and the shape, but not the posterior it does not read", () => {
    const nanW = tampered((file) => {
      (file.tensors["W"]!.data as Float32Array)[3] = Number.NaN;
    });
    expect(() => decodeAdapterWeights(nanW, nanW.length, options)).toThrow(
      expect.objectContaining({ code: "ADAPTER_CORRUPT", message: expect.stringMatching(/W/) }),
    );
    const other = encodeAdapter(adapterFor("mallory", 1));
    expect(() => decodeAdapterWeights(other, other.length, options)).toThrow(
      expect.objectContaining({ code: "ADAPTER_CORRUPT" }),
    );
    const bytes = encodeAdapter(adapterFor("alice", 1));
    expect(() =>
      decodeAdapterWeights(bytes, bytes.length, { user: "alice", shape: { k: 2, m: 2 } }),
    ).toThrow(expect.objectContaining({ code: "ADAPTER_SHAPE_MISMATCH" }));
    const nanPosterior = tampered((file) => {
      (file.tensors["posterior_cholesky"]!.data as Float64Array)[0] = Number.NaN;
    });
    expect("weights" in decodeAdapterWeights(nanPosterior, nanPosterior.length, options)).toBe(
      true,
    );
    expect(decodeError(nanPosterior).code).toBe("ADAPTER_CORRUPT");
  });

  it("refuses truncated files and impossible header lengths", () => {
    const bytes = encodeAdapter(adapterFor("alice", 1));
    for (const length of [0, 5, 40, bytes.length - 1]) {
      const cut = bytes.slice(0, length);
      expect(() => decodeAdapterWeights(cut, cut.length, options)).toThrow(
        expect.objectContaining({ code: "ADAPTER_CORRUPT" }),
      );
    }
    const huge = bytes.slice();
    new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
    expect(() => decodeAdapterWeights(huge.subarray(0, 64), huge.length, options)).toThrow(
      expect.objectContaining({ code: "ADAPTER_CORRUPT" }),
    );
  });
});
