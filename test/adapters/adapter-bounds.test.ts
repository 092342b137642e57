import { describe, expect, it } from "vitest";
import { AdapterError } from "../../src/adapters/errors.js";
import {
  decodeAdapter,
  decodeAdapterWeights,
  encodeAdapter,
  recoverIdentity,
} from "../../src/adapters/format.js";
import { importAdapterFile } from "../../src/adapters/import.js";
import { predecessorOfUnreadable } from "../../src/adapters/next-adapter.js";
import type { Adapter, AdapterStore } from "../../src/adapters/types.js";
import { ADAPTER_BOUNDS, checkAdapterContent } from "../../src/adapters/validate.js";
import { decodeSafetensors, encodeSafetensors } from "../../src/model/safetensors.js";
import { draftFor, HEAD_HASH, P, SHAPE } from "./fixtures/adapter-data.js";

function adapterFor(user: string, seed: number, changes: Partial<Adapter> = {}): Adapter {
  return {
    ...draftFor(seed),
    user,
    version: seed,
    createdAt: "2025-01-02T03:04:05.000Z",
    updatedAt: "2025-01-02T03:04:06.000Z",
    ...changes,
  };
}

/** An adapter of another head with another k×m: what a head of another rank left in the store. */
function otherHeadAdapter(user: string, k: number, m: number, version = 5): Adapter {
  const p = k * m;
  const cholesky = new Float64Array(p * p);
  for (let i = 0; i < p; i++) cholesky[i * p + i] = 1;
  return {
    user,
    version,
    headHash: "old-head-of-rank-8",
    createdAt: "2025-01-02T03:04:05.000Z",
    updatedAt: "2025-01-02T03:04:06.000Z",
    k,
    m,
    W: new Float32Array(p).fill(0.25),
    nPairs: 2,
    metrics: { train_accuracy: 1 },
    posterior: { cholesky, lambda: 1 },
    pairs: { g: new Float32Array(2 * p).fill(0.5), o: new Float32Array(2).fill(1) },
  };
}

function thrown(run: () => unknown): AdapterError {
  try {
    run();
  } catch (error) {
    if (error instanceof AdapterError) return error;
    throw error;
  }
  throw new Error("expected an AdapterError");
}

/** What an upload of these bytes fails with. */
function importError(bytes: Uint8Array, user = "alice"): AdapterError {
  return thrown(() => decodeAdapter(bytes, { user, shape: SHAPE, invalidCode: "INVALID_ADAPTER" }));
}

describe("an adapter of another head is stale whatever its shape", () => {
  const bytes = encodeAdapter(otherHeadAdapter("bob", 8, 2));

  it("decodes whole, with its own k×m, when the served head's hash is given", () => {
    const decoded = decodeAdapter(bytes, { user: "bob", shape: SHAPE, headHash: HEAD_HASH });
    expect(decoded).toMatchObject({ k: 8, m: 2, version: 5, headHash: "old-head-of-rank-8" });
    expect(decoded.posterior?.cholesky.length).toBe(16 * 16);
    expect(decoded.pairs?.g.length).toBe(2 * 16);
  });

  it("gives weights with zeros of the served k×m, without reading W", () => {
    const decoded = decodeAdapterWeights(bytes, bytes.length, {
      user: "bob",
      shape: SHAPE,
      headHash: HEAD_HASH,
    });
    expect(decoded).toEqual({
      weights: {
        user: "bob",
        version: 5,
        headHash: "old-head-of-rank-8",
        k: SHAPE.k,
        m: SHAPE.m,
        W: new Float32Array(P),
      },
    });
    // The header alone is enough: W is never asked for.
    const headerEnd = 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(
      "weights" in
        decodeAdapterWeights(bytes.subarray(0, headerEnd), bytes.length, {
          user: "bob",
          shape: SHAPE,
          headHash: HEAD_HASH,
        }),
    ).toBe(true);
  });

  it("is still a shape mismatch for the served head's own hash, or without a head hash", () => {
    const sameHead = encodeAdapter({ ...otherHeadAdapter("bob", 8, 2), headHash: HEAD_HASH });
    for (const headHash of [HEAD_HASH, undefined]) {
      const bytesFor = headHash === undefined ? bytes : sameHead;
      const error = thrown(() => decodeAdapter(bytesFor, { user: "bob", shape: SHAPE, headHash }));
      expect(error).toMatchObject({ code: "ADAPTER_SHAPE_MISMATCH", field: "W" });
      expect(error.message).toContain("8×2");
    }
  });

  it("still checks what an adapter of another head holds", () => {
    const broken = otherHeadAdapter("bob", 8, 2);
    broken.W[3] = Number.NaN;
    const error = thrown(() =>
      decodeAdapter(encodeAdapter(broken), { user: "bob", shape: SHAPE, headHash: HEAD_HASH }),
    );
    expect(error).toMatchObject({ code: "ADAPTER_CORRUPT", field: "W" });
  });
});

describe("import validation: a posterior pessimism can use, numbers in range, errors with a field", () => {
  const withCholesky = (change: (l: Float64Array) => void): Uint8Array => {
    const adapter = adapterFor("alice", 1);
    change(adapter.posterior!.cholesky);
    return encodeAdapter(adapter);
  };

  const cases: [string, () => Uint8Array, string, RegExp][] = [
    [
      "a tiny positive Cholesky diagonal",
      () => withCholesky((l) => (l[0] = 1e-300)),
      "posterior_cholesky",
      /diagonal 0/,
    ],
    [
      "a denormal Cholesky diagonal",
      () => withCholesky((l) => (l[P + 1] = 5e-324)),
      "posterior_cholesky",
      /diagonal 1/,
    ],
    [
      "a huge Cholesky diagonal among ordinary ones",
      () => withCholesky((l) => (l[0] = 1e200)),
      "posterior_cholesky",
      /ill-conditioned/,
    ],
    [
      "a diagonal spanning more than the condition bound",
      () =>
        withCholesky((l) => {
          l[0] = 1e-7;
          l[P + 1] = 1e7;
        }),
      "posterior_cholesky",
      /ill-conditioned/,
    ],
    [
      "off-diagonal entries that make L⁻¹ explode",
      () =>
        withCholesky((l) => {
          for (let i = 0; i < P; i++) for (let j = 0; j < i; j++) l[i * P + j] = -1e4;
        }),
      "posterior_cholesky",
      /ill-conditioned/,
    ],
    [
      "an upper-triangle entry",
      () => withCholesky((l) => (l[1] = 0.5)),
      "posterior_cholesky",
      /lower-triangular/,
    ],
    [
      "W of 3.4e38",
      () => {
        const adapter = adapterFor("alice", 1);
        adapter.W[0] = 3.4e38;
        return encodeAdapter(adapter);
      },
      "W",
      /beyond/,
    ],
    [
      "a pair statistic g of 1e30",
      () => {
        const adapter = adapterFor("alice", 1);
        adapter.pairs!.g[5] = 1e30;
        return encodeAdapter(adapter);
      },
      "pairs_g",
      /beyond/,
    ],
    [
      "a pair offset o of Infinity",
      () => {
        const adapter = adapterFor("alice", 1);
        adapter.pairs!.o[1] = Number.POSITIVE_INFINITY;
        return encodeAdapter(adapter);
      },
      "pairs_o",
      /non-finite/,
    ],
    [
      "a metric of 1e300",
      () => encodeAdapter(adapterFor("alice", 1, { metrics: { loss: 1e300 } })),
      "metadata.metrics",
      /beyond/,
    ],
    [
      "a posterior lambda of 1e-300",
      () => {
        const adapter = adapterFor("alice", 1);
        adapter.posterior!.lambda = 1e-300;
        return encodeAdapter(adapter);
      },
      "metadata.lambda",
      /lambda/,
    ],
    [
      "a file of another user",
      () => encodeAdapter(adapterFor("mallory", 1)),
      "metadata.user",
      /different user/,
    ],
    [
      "another format",
      () => {
        const file = decodeSafetensors(encodeAdapter(adapterFor("alice", 1)));
        file.metadata["format"] = "something-else";
        return encodeSafetensors(file.tensors, file.metadata);
      },
      "metadata.format",
      /format/,
    ],
    [
      "a version that is no number",
      () => {
        const file = decodeSafetensors(encodeAdapter(adapterFor("alice", 1)));
        file.metadata["version"] = "two";
        return encodeSafetensors(file.tensors, file.metadata);
      },
      "metadata.version",
      /version/,
    ],
    [
      "an unexpected tensor",
      () => {
        const file = decodeSafetensors(encodeAdapter(adapterFor("alice", 1)));
        file.tensors["extra"] = { dtype: "F32", shape: [1], data: new Float32Array(1) };
        return encodeSafetensors(file.tensors, file.metadata);
      },
      "extra",
      /unexpected tensor/,
    ],
    [
      "pairs_g of the wrong shape",
      () => {
        const file = decodeSafetensors(encodeAdapter(adapterFor("alice", 1)));
        file.tensors["pairs_g"] = {
          dtype: "F32",
          shape: [3, P - 1],
          data: new Float32Array(3 * (P - 1)),
        };
        return encodeSafetensors(file.tensors, file.metadata);
      },
      "pairs_g",
      /pairs_g/,
    ],
    [
      "W of another shape than the head's",
      () => encodeAdapter(otherHeadAdapter("alice", 2, SHAPE.m)),
      "W",
      /the head expects/,
    ],
  ];

  for (const [name, bytes, field, message] of cases) {
    it(`refuses ${name}, naming ${field}`, () => {
      const error = importError(bytes());
      expect(error.field).toBe(field);
      expect(["INVALID_ADAPTER", "ADAPTER_SHAPE_MISMATCH"]).toContain(error.code);
      expect(error.message).toMatch(message);
      // Read from a store, the same file is corrupt rather than invalid input.
      const stored = thrown(() => decodeAdapter(bytes(), { user: "alice", shape: SHAPE }));
      expect(stored.field).toBe(field);
    });
  }

  it("accepts what fits produce, with room to spare", () => {
    for (const seed of [1, 2, 40, 1000]) {
      expect(() =>
        checkAdapterContent(draftFor(seed), {
          user: "alice",
          shape: SHAPE,
          invalidCode: "INVALID_ADAPTER",
        }),
      ).not.toThrow();
    }
    // A sharp population prior from few training users: large, but well conditioned.
    const sharp = draftFor(1);
    for (let i = 0; i < P; i++) sharp.posterior!.cholesky[i * P + i] = 3e13;
    expect(() =>
      checkAdapterContent(sharp, { user: "alice", shape: SHAPE, invalidCode: "INVALID_ADAPTER" }),
    ).not.toThrow();
    expect(ADAPTER_BOUNDS.weight).toBeGreaterThanOrEqual(1e4);
    expect(ADAPTER_BOUNDS.condition).toBeGreaterThanOrEqual(1e6);
  });

  it("keeps the stored-pairs bound (--max-stored-pairs) on imports", async () => {
    const calls: unknown[] = [];
    const store = {
      update: async (...args: unknown[]) => {
        calls.push(args);
        throw new Error("not reached");
      },
    } as unknown as AdapterStore;
    const bytes = encodeAdapter(adapterFor("alice", 1));
    const error = await importAdapterFile(store, "alice", bytes, {
      shape: SHAPE,
      maxStoredPairs: 2,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "INVALID_ADAPTER", field: "pairs_o" });
    expect((error as Error).message).toMatch(/3 stored pairs, more than the 2/);
    expect(calls).toEqual([]);
  });
});

describe("recoverIdentity: what a damaged record still shows", () => {
  const bytes = encodeAdapter(adapterFor("alice", 17));

  it("reads the version and creation time of a whole file, and of one cut short", () => {
    for (const cut of [bytes, bytes.subarray(0, 200), bytes.subarray(0, bytes.length - 7)]) {
      expect(recoverIdentity(cut)).toEqual({ version: 17, createdAt: "2025-01-02T03:04:05.000Z" });
    }
  });

  it("reads it behind a damaged length prefix", () => {
    const damaged = bytes.slice();
    damaged.fill(0xff, 0, 8);
    expect(recoverIdentity(damaged).version).toBe(17);
  });

  it("shows nothing for bytes that are no adapter, and ignores keys inside strings", () => {
    expect(recoverIdentity(new TextEncoder().encode("this is not a safetensors file"))).toEqual({
      version: undefined,
      createdAt: undefined,
    });
    const sneaky = encodeAdapter(adapterFor('x"version":"99"', 3));
    expect(recoverIdentity(sneaky).version).toBe(3);
  });

  it("follows the current time in milliseconds when no version is left", () => {
    expect(predecessorOfUnreadable({ version: 4, createdAt: undefined })).toEqual({
      version: 4,
      createdAt: undefined,
    });
    expect(
      predecessorOfUnreadable({ version: undefined, createdAt: undefined }, () => 1.7e12),
    ).toEqual({ version: 1.7e12, createdAt: undefined });
  });
});
