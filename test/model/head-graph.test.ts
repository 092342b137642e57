import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { createRng, uniformFill } from "../../src/math/random.js";
import { buildHeadGraph, type HeadGraphOptions } from "../../src/model/head-graph.js";

const rng = createRng(42);

interface Head {
  d: number;
  m: number;
  k: number;
  theta0: Float32Array;
  b0: number;
  B: Float32Array;
}

function randomHead(d: number, m: number, k: number): Head {
  return { d, m, k, theta0: uniformFill(rng, d * m, 1), b0: 0.37, B: uniformFill(rng, d * k, 1) };
}

/**
 * Float64 base and projection of Φ (d×m), each with the sum of |terms| it is made of: float32
 * rounding grows with that sum, not with the (possibly cancelling) result.
 */
function reference(head: Head, phi: Float64Array) {
  const { d, m, k } = head;
  let base = head.b0;
  let baseScale = Math.abs(head.b0);
  for (let i = 0; i < d * m; i++) {
    base += head.theta0[i]! * phi[i]!;
    baseScale += Math.abs(head.theta0[i]! * phi[i]!);
  }
  const proj = new Float64Array(k * m);
  const projScale = new Float64Array(k * m);
  for (let a = 0; a < k; a++) {
    for (let j = 0; j < m; j++) {
      for (let i = 0; i < d; i++) {
        const term = head.B[i * k + a]! * phi[i * m + j]!;
        proj[a * m + j]! += term;
        projScale[a * m + j]! += Math.abs(term);
      }
    }
  }
  return { base, baseScale, proj, projScale };
}

const RELATIVE_TOLERANCE = 1e-4;

async function runHead(options: HeadGraphOptions, feeds: Record<string, ort.Tensor>) {
  const session = await ort.InferenceSession.create(buildHeadGraph(options));
  const { base, proj } = await session.run(feeds);
  return { base: base!, proj: proj! };
}

function expectMatches(
  head: Head,
  got: { base: ort.Tensor; proj: ort.Tensor },
  phis: Float64Array[],
) {
  expect(got.base.dims).toEqual([phis.length]);
  expect(got.proj.dims).toEqual([phis.length, head.k, head.m]);
  const baseData = got.base.data as Float32Array;
  const projData = got.proj.data as Float32Array;
  const width = head.k * head.m;
  phis.forEach((phi, b) => {
    const want = reference(head, phi);
    expect(Math.abs(baseData[b]! - want.base)).toBeLessThanOrEqual(
      RELATIVE_TOLERANCE * want.baseScale,
    );
    for (let p = 0; p < width; p++) {
      const error = Math.abs(projData[b * width + p]! - want.proj[p]!);
      expect(error).toBeLessThanOrEqual(RELATIVE_TOLERANCE * want.projScale[p]!);
    }
  });
}

describe("buildHeadGraph", () => {
  it("computes base and proj from pooled features [batch, d, m]", async () => {
    const head = randomHead(48, 2, 5);
    const batch = 3;
    const features = uniformFill(rng, batch * head.d * head.m, 2);
    const got = await runHead(
      { ...head, input: { kind: "pooled" } },
      { features: new ort.Tensor("float32", features, [batch, head.d, head.m]) },
    );
    const size = head.d * head.m;
    const phis = Array.from({ length: batch }, (_, b) =>
      Float64Array.from(features.subarray(b * size, (b + 1) * size)),
    );
    expectMatches(head, got, phis);
  });

  it("accepts rank-2 features [batch, d] when m = 1", async () => {
    const head = randomHead(32, 1, 4);
    const features = uniformFill(rng, 2 * head.d, 1);
    const phis = [
      Float64Array.from(features.subarray(0, 32)),
      Float64Array.from(features.subarray(32)),
    ];
    for (const featuresRank of [undefined, 2] as const) {
      const got = await runHead(
        { ...head, input: { kind: "pooled" }, featuresRank },
        { features: new ort.Tensor("float32", features, [2, head.d]) },
      );
      expectMatches(head, got, phis);
    }
  });

  it("mean-pools last_hidden_state under attention_mask", async () => {
    const head = randomHead(24, 1, 3);
    const [batch, seq] = [2, 5];
    const hidden = uniformFill(rng, batch * seq * head.d, 1);
    const lengths = [5, 2];
    const mask = BigInt64Array.from({ length: batch * seq }, (_, i) =>
      i % seq < lengths[Math.floor(i / seq)]! ? 1n : 0n,
    );
    const got = await runHead(
      { ...head, input: { kind: "hidden", pooling: "mean" } },
      {
        last_hidden_state: new ort.Tensor("float32", hidden, [batch, seq, head.d]),
        attention_mask: new ort.Tensor("int64", mask, [batch, seq]),
      },
    );
    const phis = lengths.map((length, b) =>
      Float64Array.from({ length: head.d }, (_, i) => {
        let sum = 0;
        for (let t = 0; t < length; t++) sum += hidden[(b * seq + t) * head.d + i]!;
        return sum / length;
      }),
    );
    expectMatches(head, got, phis);
  });

  it("takes the first token of last_hidden_state with cls pooling", async () => {
    const head = randomHead(16, 1, 2);
    const [batch, seq] = [2, 3];
    const hidden = uniformFill(rng, batch * seq * head.d, 1);
    const got = await runHead(
      { ...head, input: { kind: "hidden", pooling: "cls" } },
      {
        last_hidden_state: new ort.Tensor("float32", hidden, [batch, seq, head.d]),
        attention_mask: new ort.Tensor("int64", new BigInt64Array(batch * seq).fill(1n), [
          batch,
          seq,
        ]),
      },
    );
    const phis = [0, 1].map((b) =>
      Float64Array.from(hidden.subarray(b * seq * head.d, (b * seq + 1) * head.d)),
    );
    expectMatches(head, got, phis);
  });

  it("takes each sequence's last real token with last pooling, padded right or left", async () => {
    const head = randomHead(16, 1, 2);
    const [batch, seq] = [3, 4];
    const hidden = uniformFill(rng, batch * seq * head.d, 1);
    const lengths = [4, 1, 2];
    const row = (b: number, t: number) =>
      Float64Array.from(hidden.subarray((b * seq + t) * head.d, (b * seq + t + 1) * head.d));
    for (const side of ["right", "left"] as const) {
      const mask = BigInt64Array.from({ length: batch * seq }, (_, i) => {
        const [b, t] = [Math.floor(i / seq), i % seq];
        const real = side === "right" ? t < lengths[b]! : t >= seq - lengths[b]!;
        return real ? 1n : 0n;
      });
      const got = await runHead(
        { ...head, input: { kind: "hidden", pooling: "last", paddingSide: side } },
        {
          last_hidden_state: new ort.Tensor("float32", hidden, [batch, seq, head.d]),
          attention_mask: new ort.Tensor("int64", mask, [batch, seq]),
        },
      );
      const last = lengths.map((length, b) => row(b, side === "right" ? length - 1 : seq - 1));
      expectMatches(head, got, last);
    }
  });

  it("reads float16 hidden states, casting them to float32 in the graph", async () => {
    const head = randomHead(8, 1, 2);
    const [batch, seq] = [2, 3];
    // Multiples of 1/64 in [-2, 2] are exact in float16, so the reference sees the same values.
    const values = Float32Array.from(
      { length: batch * seq * head.d },
      (_, i) => Math.round(Math.sin(i * 1.7) * 128) / 64,
    );
    const bits = Uint16Array.from(values, toFloat16Bits);
    const mask = BigInt64Array.from([1n, 1n, 0n, 1n, 1n, 1n]);
    const feeds = (type: "float16" | "float32") => ({
      last_hidden_state:
        type === "float16"
          ? new ort.Tensor("float16", bits, [batch, seq, head.d])
          : new ort.Tensor("float32", values, [batch, seq, head.d]),
      attention_mask: new ort.Tensor("int64", mask, [batch, seq]),
    });
    for (const pooling of ["last", "mean", "cls"] as const) {
      const got = await runHead(
        { ...head, input: { kind: "hidden", pooling, type: "float16" } },
        feeds("float16"),
      );
      const want = await runHead({ ...head, input: { kind: "hidden", pooling } }, feeds("float32"));
      expect(got.base.type).toBe("float32");
      expect(Array.from(got.base.data as Float32Array)).toEqual(
        Array.from(want.base.data as Float32Array),
      );
      expect(Array.from(got.proj.data as Float32Array)).toEqual(
        Array.from(want.proj.data as Float32Array),
      );
    }
  });

  it("rejects inconsistent options with TypeErrors", () => {
    const head = randomHead(8, 2, 2);
    expect(() =>
      buildHeadGraph({ ...head, theta0: new Float32Array(3), input: { kind: "pooled" } }),
    ).toThrow(TypeError);
    expect(() => buildHeadGraph({ ...head, input: { kind: "hidden", pooling: "mean" } })).toThrow(
      /m: expected 1/,
    );
    expect(() => buildHeadGraph({ ...head, featuresRank: 2, input: { kind: "pooled" } })).toThrow(
      TypeError,
    );
    expect(() => buildHeadGraph({ ...head, k: 0, input: { kind: "pooled" } })).toThrow(
      /k: expected/,
    );
  });
});

/** IEEE half-precision bits of a value float16 represents exactly (normal or zero). */
function toFloat16Bits(value: number): number {
  if (value === 0) return 0;
  const sign = value < 0 ? 0x8000 : 0;
  const abs = Math.abs(value);
  const exponent = Math.floor(Math.log2(abs));
  const mantissa = Math.round((abs / 2 ** exponent - 1) * 1024);
  return sign | ((exponent + 15) << 10) | mantissa;
}
