import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Sfc32Random as Rng } from "../../src/math/random.js";
import {
  ATTRIBUTE_NAMES,
  type AttributeName,
  attributes,
  generateFeatureSynth,
  generateSynth,
  MAX_RESPONSE_BYTES,
  type SynthDataset,
  type SynthOptions,
  userTheta,
  writeSynth,
} from "../../src/training/synth/index.js";

const SMALL: SynthOptions = {
  users: 6,
  pairsPerUser: 5,
  testPairsPerUser: 3,
  newUsers: 3,
  newUserPairs: 4,
  rank: 2,
  seed: 42,
};

function attr(text: string, name: AttributeName): number {
  return attributes(text)[ATTRIBUTE_NAMES.indexOf(name)]!;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function margin(v: readonly number[], chosen: string, rejected: string): number {
  const a = attributes(chosen);
  const b = attributes(rejected);
  return dot(
    v,
    a.map((x, j) => x - b[j]!),
  );
}

describe("Rng", () => {
  it("is deterministic per (seed, stream) and uniform in [0, 1)", () => {
    const draw = (seed: number, stream: number) => {
      const rng = new Rng(seed, stream);
      return Array.from({ length: 5 }, () => rng.nextUint32());
    };
    expect(draw(5, 0)).toEqual(draw(5, 0));
    expect(draw(5, 0)).not.toEqual(draw(6, 0));
    expect(draw(5, 0)).not.toEqual(draw(5, 1));
    const rng = new Rng(9);
    let sum = 0;
    let outside = 0;
    for (let i = 0; i < 20000; i++) {
      const u = rng.nextUnit();
      if (!(u >= 0 && u < 1)) outside++;
      sum += u;
    }
    expect(outside).toBe(0);
    // mean of 20000 uniforms: sd ≈ 0.002
    expect(Math.abs(sum / 20000 - 0.5)).toBeLessThan(0.01);
  });
});

describe("attributes", () => {
  it("names one value per attribute", () => {
    expect(attributes("plain text").length).toBe(ATTRIBUTE_NAMES.length);
  });

  it("leaves every attribute but length at 0 for a plain sentence", () => {
    const a = attributes("A good approach is to start small and keep notes.");
    expect(a[0]).toBeCloseTo(10 / 80, 15);
    expect(Array.from(a.subarray(1))).toEqual(new Array(ATTRIBUTE_NAMES.length - 1).fill(0));
  });

  it("detects each attribute on crafted strings", () => {
    expect(attr("one two three", "length")).toBeCloseTo(3 / 80, 15);
    expect(attr("word ".repeat(100), "length")).toBe(1);
    expect(attr("List:\n- a\n* b", "bullets")).toBe(2 / 3);
    expect(attr("- a\n- b\n- c\n- d", "bullets")).toBe(1);
    expect(attr("a - b and -c", "bullets")).toBe(0);
    expect(attr("Run:\n```js\nx()\n```", "code")).toBe(1);
    expect(attr("a lone ``` fence", "code")).toBe(0);
    expect(attr("Wow, nice!", "exclamation")).toBe(1 / 2);
    expect(attr("!!!!!", "exclamation")).toBe(1);
    expect(attr("since 2024", "digits")).toBe(1 / 2);
    expect(attr("in 2024 after 7 or 8 days", "digits")).toBe(1);
    expect(attr("hi 🚀", "emoji")).toBe(1 / 2);
    expect(attr("hi 🚀✨🌱", "emoji")).toBe(1);
    expect(attr("Dear Sam,\n\nThanks.\n\nKind regards.", "formality")).toBe(1);
    expect(attr("It's fine, don't worry.", "formality")).toBe(-1);
    expect(attr("Dear Sam, it's fine.", "formality")).toBe(0);
    expect(attr("Does that help?", "question")).toBe(1);
    expect(attr("This is REALLY big", "capitals")).toBe(1 / 2);
    expect(attr("NOTE: this is REALLY BIG", "capitals")).toBe(1);
    expect(attr("I went to Paris", "capitals")).toBe(0);
    expect(attr("## Overview\ntext", "heading")).toBe(1);
    expect(attr("a #hashtag", "heading")).toBe(0);
  });
});

describe("generateSynth", () => {
  it("is deterministic: same seed → identical output, another seed differs", () => {
    const a = generateSynth(SMALL);
    expect(generateSynth(SMALL)).toEqual(a);
    const b = generateSynth({ ...SMALL, seed: 43 });
    expect(b.train).not.toEqual(a.train);
    expect(b.planted.v0).not.toEqual(a.planted.v0);
  });

  it("draws the same texts at any disagreement, and a larger one leaves the global vector further from Bayes", () => {
    const options = { ...SMALL, users: 40, pairsPerUser: 40, testPairsPerUser: 0, newUsers: 0 };
    const agree = generateSynth(options);
    const disagree = generateSynth({ ...options, disagreement: 4 });
    const texts = (ds: SynthDataset) => ds.train.map((r) => [r.chosen, r.rejected].sort());
    expect(texts(disagree)).toEqual(texts(agree));
    expect(disagree.planted.disagreement).toBe(4);
    const gap = (ds: SynthDataset) =>
      ds.bayes.accuracy.train! - ds.bayes.globalModelAccuracy.train!;
    expect(gap(disagree)).toBeGreaterThan(gap(agree) + 0.05);
    expect(() => generateSynth({ ...options, disagreement: 0 })).toThrow(/disagreement/);
  });

  it("has the requested sizes, TRL rows, and new users absent from train", () => {
    const ds = generateSynth(SMALL);
    expect(ds.train.length).toBe(6 * 5);
    expect(ds.test.length).toBe(6 * 3);
    expect(ds.newUsers.length).toBe(3 * 4);
    for (const row of [...ds.train, ...ds.test, ...ds.newUsers]) {
      expect(Object.keys(row).sort()).toEqual(["chosen", "prompt", "rejected", "user"]);
      expect(row.chosen).not.toBe(row.rejected);
    }
    const trainUsers = new Set(ds.train.map((r) => r.user));
    expect(trainUsers.size).toBe(6);
    for (const r of ds.test) expect(trainUsers.has(r.user)).toBe(true);
    const newUsers = new Set(ds.newUsers.map((r) => r.user));
    expect(newUsers.size).toBe(3);
    for (const u of newUsers) expect(trainUsers.has(u)).toBe(false);
    expect(ds.planted.users.filter((u) => u.split === "new").map((u) => u.user)).toEqual([
      ...newUsers,
    ]);
    // held-out pairs are new pairs, not copies of training pairs
    const trainKeys = new Set(ds.train.map((r) => r.chosen + r.rejected));
    expect(ds.test.every((r) => !trainKeys.has(r.chosen + r.rejected))).toBe(true);
  });

  it("plants orthonormal U, v_i = v0 + U·z_i, and reports Bayes accuracy in 0.7–0.95", () => {
    const ds = generateSynth({ ...SMALL, rank: 3 });
    const { U, v0, users, rank } = ds.planted;
    expect(U.length).toBe(ATTRIBUTE_NAMES.length);
    for (let a = 0; a < rank; a++) {
      for (let b = 0; b < rank; b++) {
        const g = U.reduce((s, row) => s + row[a]! * row[b]!, 0);
        expect(Math.abs(g - (a === b ? 1 : 0))).toBeLessThan(1e-12);
      }
    }
    for (const u of users) {
      expect(u.z.length).toBe(rank);
      u.v.forEach((vj, j) => {
        expect(Math.abs(vj - (v0[j]! + dot(U[j]!, u.z)))).toBeLessThan(1e-12);
      });
    }
    for (const acc of Object.values(ds.bayes.accuracy)) {
      expect(acc).toBeGreaterThan(0.7);
      expect(acc).toBeLessThan(0.95);
    }
    expect(
      generateSynth({ ...SMALL, testPairsPerUser: 0, newUsers: 0 }).bayes.accuracy.test,
    ).toBeNull();
  });

  describe("on a large sample", () => {
    const big: SynthDataset = generateSynth({
      users: 80,
      pairsPerUser: 100,
      testPairsPerUser: 0,
      newUsers: 0,
      newUserPairs: 0,
      rank: 2,
      seed: 7,
    });

    it("labels follow the planted model: empirical true-model accuracy ≈ Bayes within 2 points", () => {
      // 8000 pairs: the sd of an empirical accuracy near 0.85 is ≈ 0.004
      const vOf = new Map(big.planted.users.map((u) => [u.user, u.v]));
      let correct = 0;
      let globalCorrect = 0;
      for (const row of big.train) {
        const x = margin(vOf.get(row.user)!, row.chosen, row.rejected);
        correct += x > 0 ? 1 : x === 0 ? 0.5 : 0;
        const g = margin(big.planted.v0, row.chosen, row.rejected);
        globalCorrect += g > 0 ? 1 : g === 0 ? 0.5 : 0;
      }
      const n = big.train.length;
      expect(Math.abs(correct / n - big.bayes.accuracy.train!)).toBeLessThan(0.02);
      expect(Math.abs(globalCorrect / n - big.bayes.globalModelAccuracy.train!)).toBeLessThan(0.02);
      // the scale is calibrated to 0.85, and personalization matters
      expect(Math.abs(big.bayes.accuracy.train! - 0.85)).toBeLessThan(0.02);
      expect(big.bayes.globalModelAccuracy.train!).toBeLessThan(big.bayes.accuracy.train! - 0.05);
    });

    it("keeps every prompt + response inside the default model's 512-byte context", () => {
      let longest = 0;
      for (const row of big.train) {
        for (const response of [row.chosen, row.rejected]) {
          expect(Buffer.byteLength(response)).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
          // [BOS] prompt [SEP] response [EOS]
          longest = Math.max(
            longest,
            3 + Buffer.byteLength(row.prompt) + Buffer.byteLength(response),
          );
        }
      }
      expect(longest).toBeLessThanOrEqual(512);
    });

    it("varies every attribute, nearly independently of the others", () => {
      const rows = big.train
        .slice(0, 2000)
        .flatMap((r) => [attributes(r.chosen), attributes(r.rejected)]);
      const q = ATTRIBUTE_NAMES.length;
      const mean = new Array<number>(q).fill(0);
      for (const a of rows) for (let j = 0; j < q; j++) mean[j]! += a[j]! / rows.length;
      const cov = (i: number, j: number) =>
        rows.reduce((s, a) => s + (a[i]! - mean[i]!) * (a[j]! - mean[j]!), 0) / rows.length;
      for (let i = 0; i < q; i++) {
        expect(cov(i, i), ATTRIBUTE_NAMES[i]).toBeGreaterThan(0.01);
        for (let j = i + 1; j < q; j++) {
          const corr = cov(i, j) / Math.sqrt(cov(i, i) * cov(j, j));
          // 4000 responses: sampling noise on a correlation is ≈ 0.016
          expect(Math.abs(corr), `${ATTRIBUTE_NAMES[i]} vs ${ATTRIBUTE_NAMES[j]}`).toBeLessThan(
            0.1,
          );
        }
      }
    });
  });

  it("rejects invalid options with TypeErrors that say what was expected", () => {
    expect(() => generateSynth({ ...SMALL, rank: 0 })).toThrow(
      /options\.rank to be an integer ≥ 1/,
    );
    expect(() => generateSynth({ ...SMALL, rank: 11 })).toThrow(TypeError);
    expect(() => generateSynth({ ...SMALL, users: 2.5 })).toThrow(/options\.users/);
    expect(() => generateSynth({ ...SMALL, newUserPairs: 0 })).toThrow(/options\.newUserPairs/);
  });
});

describe("writeSynth", () => {
  it("writes the splits as JSONL and bayes.json with the planted parameters", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sharelora-synth-"));
    try {
      const { files, dataset } = await writeSynth(join(dir, "out"), SMALL);
      const readRows = async (path: string) =>
        (await readFile(path, "utf8"))
          .trimEnd()
          .split("\n")
          .map((line) => JSON.parse(line));
      expect(await readRows(files.train)).toEqual(dataset.train);
      expect(await readRows(files.test)).toEqual(dataset.test);
      expect(await readRows(files.newUsers)).toEqual(dataset.newUsers);
      expect(files.newUsers.endsWith("newusers.jsonl")).toBe(true);
      const bayes = JSON.parse(await readFile(files.bayes, "utf8"));
      expect(bayes.bayes).toEqual(dataset.bayes);
      expect(bayes.planted.v0).toEqual(dataset.planted.v0);
      expect(bayes.planted.U).toEqual(dataset.planted.U);
      expect(bayes.planted.users.map((u: { z: number[] }) => u.z)).toEqual(
        dataset.planted.users.map((u) => u.z),
      );
      expect(bayes.options).toEqual(SMALL);
      expect(dataset).toEqual(generateSynth(SMALL));
      // Candidates: every new user, both splits, each response's utility s·v·a(response).
      const candidates = await readRows(files.candidates);
      const newUsers = dataset.planted.users.filter((u) => u.split === "new");
      expect(candidates).toHaveLength(newUsers.length * 2 * 24);
      const { scale } = dataset.planted;
      for (const row of candidates) {
        const v = newUsers.find((u) => u.user === row.user)!.v;
        expect(row.responses).toHaveLength(4);
        expect(new Set(row.responses).size).toBe(4);
        row.responses.forEach((response: string, i: number) => {
          const a = attributes(response);
          const utility = scale * a.reduce((sum, x, j) => sum + x * v[j]!, 0);
          expect(row.utilities[i]).toBeCloseTo(utility, 12);
        });
      }
      expect(new Set(candidates.map((r: { split: string }) => r.split))).toEqual(
        new Set(["pool", "test"]),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("generateFeatureSynth", () => {
  const options = { d: 16, m: 2, k: 3, users: 40, pairsPerUser: 200, seed: 5 };
  const fs = generateFeatureSynth(options);

  it("is deterministic and shaped as requested", () => {
    const again = generateFeatureSynth(options);
    expect(again.theta0).toEqual(fs.theta0);
    expect(again.users[3]!.pairs[7]).toEqual(fs.users[3]!.pairs[7]);
    expect(generateFeatureSynth({ ...options, seed: 6 }).B).not.toEqual(fs.B);
    expect(fs.theta0.length).toBe(32);
    expect(fs.B.length).toBe(48);
    expect(fs.users.length).toBe(40);
    for (const u of fs.users) {
      expect(u.W.length).toBe(6);
      expect(u.pairs.length).toBe(200);
      expect(u.pairs[0]!.chosen.length).toBe(32);
    }
  });

  it("plants B* with orthonormal columns and Θ_i − Θ0 in span(B*)", () => {
    const { B, k, d, m } = fs;
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < k; b++) {
        let g = 0;
        for (let i = 0; i < d; i++) g += B[i * k + a]! * B[i * k + b]!;
        expect(Math.abs(g - (a === b ? 1 : 0))).toBeLessThan(1e-12);
      }
    }
    // Θ_i − Θ0 = B·W_i, so Bᵀ(Θ_i − Θ0) = W_i and the residual after projecting on span(B) is 0.
    const u = fs.users[0]!;
    const delta = userTheta(fs.theta0, B, u.W, k).map((x, idx) => x - fs.theta0[idx]!);
    for (let a = 0; a < k; a++) {
      for (let j = 0; j < m; j++) {
        let proj = 0;
        for (let i = 0; i < d; i++) proj += B[i * k + a]! * delta[i * m + j]!;
        expect(Math.abs(proj - u.W[a * m + j]!)).toBeLessThan(1e-12);
      }
    }
  });

  it("labels follow the planted model: empirical accuracy ≈ Bayes within 2 points", () => {
    let correct = 0;
    for (const u of fs.users) {
      const theta = userTheta(fs.theta0, fs.B, u.W, fs.k);
      for (const pair of u.pairs)
        correct += dot(theta, pair.chosen) > dot(theta, pair.rejected) ? 1 : 0;
    }
    const accuracy = correct / (40 * 200);
    expect(fs.bayesAccuracy).toBeGreaterThan(0.7);
    expect(fs.bayesAccuracy).toBeLessThan(0.95);
    expect(Math.abs(accuracy - fs.bayesAccuracy)).toBeLessThan(0.02);
  });

  it("rejects k > d", () => {
    expect(() => generateFeatureSynth({ ...options, k: 17 })).toThrow(/options\.k ≤ d = 16/);
  });
});
