/**
 * Pins the exact streams of the seeded generators, and of the synthetic data built from them:
 * committed artefacts (the default backbone's weights, the default head's training data, the
 * figures in docs/) are reproduced from these streams, so any change to them must be deliberate.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  createRng,
  deriveSeed,
  SeededRandom,
  Sfc32Random,
  uniformFill,
} from "../../src/math/random.js";
import { generateFeatureSynth, generateSynth } from "../../src/training/synth/index.js";

function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function float64Hash(values: readonly number[]): string {
  return sha256(new Uint8Array(Float64Array.from(values).buffer));
}

function draw(count: number, next: (index: number) => number): number[] {
  return Array.from({ length: count }, (_, index) => next(index));
}

describe("sfc32 (synthetic data sets)", () => {
  const cases = [
    {
      seed: 0,
      stream: 0,
      first: [
        3214646421, 3569945085, 1231699740, 2342730270, 2505411708, 1749440815, 3920863270,
        1779827442,
      ],
      mixed: "5fc6a1a6eec7a27f878826f6c936d61adf51e5d98cd0046969d02ab266f56ab9",
    },
    {
      seed: 1,
      stream: 0,
      first: [
        4076100136, 925863392, 483205155, 3776607700, 2546164213, 570850842, 3299281791, 2108669363,
      ],
      mixed: "6dd8e920365ad79f48a858a40b988058161125977619928fd035f0e5ea52aa7c",
    },
    {
      seed: 42,
      stream: 3,
      first: [
        2163049502, 1224421832, 2412072005, 2554643078, 2774047032, 3718848628, 1384748385,
        855025928,
      ],
      mixed: "586eba8eebbc8db0171985f037902c2f5bfcbf7cbdd81377366a4e6d67f6364e",
    },
    {
      seed: 2 ** 40 + 7,
      stream: 5,
      first: [
        3107125042, 2814433776, 1068334312, 1356823367, 956915828, 402927040, 570422868, 3810612579,
      ],
      mixed: "16209a0569ae967c569c63a4f53ad6cafb4bde2f930a39d63e1c5976fb625741",
    },
  ];
  it.each(cases)("seed $seed, stream $stream", ({ seed, stream, first, mixed }) => {
    const words = new Sfc32Random(seed, stream);
    expect(draw(8, () => words.nextUint32())).toEqual(first);
    const rng = new Sfc32Random(seed, stream);
    const values = draw(16, () => rng.nextUnit());
    values.push(...draw(16, () => rng.gaussian()));
    values.push(...draw(16, () => rng.int(1000)));
    values.push(...draw(16, () => (rng.bernoulli(0.3) ? 1 : 0)));
    values.push(...draw(16, () => rng.pick([5, 6, 7])));
    expect(float64Hash(values)).toBe(mixed);
  });
});

describe("xoshiro128** (the default backbone's weights)", () => {
  const cases = [
    {
      seed: 0,
      first: [
        3809008728, 1133695204, 53579671, 2891528803, 139681546, 2203266335, 104831812, 1587294886,
      ],
      units: "c478adfae365dd04e4a8325ea79961b06b36c2da27a53b3a1b6ce6de5936d73f",
      fill: "14b2d5051b2aac68b1454c98533b310f6bd6bad05c567b183c44efbeb6ce2b97",
    },
    {
      seed: 1,
      first: [
        2442144158, 3238099751, 3819917871, 2104621829, 2021136066, 4223536128, 1515984730,
        2298887649,
      ],
      units: "40606ad82fe6f60d35295e387b4112c647306fc3e84c014eff02b41519ccfd77",
      fill: "e653abcd46532f253bd60ebdd22994f89885d1f93161f185d9bb461d33a76850",
    },
    {
      seed: 42,
      first: [
        2837322924, 544945897, 479756282, 3500138142, 339756180, 113173290, 65323186, 1112262688,
      ],
      units: "63f0464d1cd5be4981af9eccc921adb6bb7e3f92af13b14c847da71998bdf686",
      fill: "de646a454a0aa462a0c291fb783e10af46db37682c5b492bd373cd8b2d5d9538",
    },
    {
      seed: 0xffff_ffff,
      first: [
        835879718, 1921286648, 2356205009, 1885780724, 980451116, 1053911718, 3677392737,
        2464361898,
      ],
      units: "dd8ff79eccf90c5e735d9bf4fa0b17e1a17c25db6f8d8714d20424877226979e",
      fill: "53dd2fe3620e9b57be4ec3e62d0921cf9240be2c3c35333e6eb6b89c8bfae5ef",
    },
  ];
  it.each(cases)("seed $seed", ({ seed, first, units, fill }) => {
    const words = createRng(seed);
    expect(draw(8, () => words.nextUint32())).toEqual(first);
    const rng = createRng(seed);
    expect(float64Hash(draw(64, () => rng.nextUnit()))).toBe(units);
    expect(sha256(new Uint8Array(uniformFill(createRng(seed), 256, 0.02).buffer))).toBe(fill);
  });
});

describe("mulberry32 (trainer seeds, splits, planted pairs)", () => {
  const cases = [
    {
      seed: 0,
      first: [
        1144304738, 1416247, 958946056, 627933444, 2007157716, 2340967985, 2642484575, 2787370982,
      ],
      mixed: "3f20b984b65d3cf1be450d9c02b4a8ba5e63ebd76c3fd44429d34d1f3ede9844",
    },
    {
      seed: 1,
      first: [
        2693262067, 11749833, 2265367787, 4213581821, 4159151403, 1207330352, 2632122864,
        3095568220,
      ],
      mixed: "fd7c6dfeccf38c7c8a41f00f28800c0e24ad4e560ef3fc25755f2028ab69f461",
    },
    {
      seed: 42,
      first: [
        2581720956, 1925393290, 3661312704, 2876485805, 750819978, 2261697747, 1173505300,
        2683257857,
      ],
      mixed: "49b52aa0eddaf7cda6b167dacf315a7bb9bab4243681be6334c01f306d1ae854",
    },
    {
      seed: 0xffff_ffff,
      first: [
        3850105811, 813802916, 3073704848, 4054706436, 3630262831, 2315588663, 2922715533,
        2042566601,
      ],
      mixed: "6f5468fd4db2b2fb66df101ec7ceecb48306759f1d75c8c326134ce9d6efb0c2",
    },
  ];
  it.each(cases)("seed $seed", ({ seed, first, mixed }) => {
    const words = new SeededRandom(seed);
    expect(draw(8, () => words.nextUint32())).toEqual(first);
    const random = new SeededRandom(seed);
    // Interleaving uniforms with normals pins when Box–Muller's spare value is used.
    expect(
      float64Hash(draw(65, (i) => (i % 3 === 0 ? random.nextUnit() : random.gaussian()))),
    ).toBe(mixed);
  });

  it("derives sub-stream seeds", () => {
    const pairs = [
      [0, 0],
      [0, 1],
      [7, 2],
      [0xffff_ffff, 0x811c_9dc5],
      [123_456_789, 3],
    ] as const;
    expect(pairs.map(([seed, stream]) => deriveSeed(seed, stream))).toEqual([
      2462723854, 1020716019, 4286812467, 1896591002, 1324369493,
    ]);
  });
});

describe("synthetic data sets", () => {
  it("generateSynth", () => {
    const dataset = generateSynth({
      users: 4,
      pairsPerUser: 3,
      testPairsPerUser: 2,
      newUsers: 2,
      newUserPairs: 3,
      rank: 2,
      seed: 7,
    });
    expect(sha256(JSON.stringify(dataset))).toBe(
      "6f000b5b4dd41e127a083ba28b2815c706bb30785683e47265770e5cb08d20fe",
    );
  });

  it("generateFeatureSynth", () => {
    const synth = generateFeatureSynth({ d: 6, m: 3, k: 2, users: 5, pairsPerUser: 8, seed: 3 });
    const json = JSON.stringify(synth, (_key, value) =>
      value instanceof Float64Array ? Array.from(value) : value,
    );
    expect(sha256(json)).toBe("2b9f44b2645088bdb68fd8119521480e4eed67c506314dc6a8d064ce3185e414");
  });
});
