/**
 * Pins the trainer's exact output on a small planted data set: the default head and the figures
 * in docs/ are reproduced from these numbers, so a refactor of the trainer must leave them
 * bit-identical (wall-clock timings excepted).
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  buildSharedData,
  pretrainGlobal,
  type SharedModel,
  type TrainSharedOptions,
  trainShared,
} from "../../src/training/shared/index.js";
import { generateFeatureSynth } from "../../src/training/synth/index.js";

function planted() {
  const synth = generateFeatureSynth({ d: 8, m: 3, k: 2, users: 12, pairsPerUser: 20, seed: 11 });
  return buildSharedData(synth.users, synth.d, synth.m, { seed: 4 });
}

function modelHash(model: SharedModel): string {
  const json = JSON.stringify(model, (key, value) => {
    if (key === "seconds") return undefined;
    return value instanceof Float64Array ? Array.from(value) : value;
  });
  return createHash("sha256").update(json).digest("hex");
}

describe("trainer output", () => {
  const data = planted();
  const cases: { name: string; options: TrainSharedOptions; hash: string }[] = [
    {
      name: "share B",
      options: { rank: 2, seed: 3 },
      hash: "e17af62d06b450f59d3986990c599e32ca0ff7360c9fe35a3182bfae68d4c1e9",
    },
    {
      name: "share B, warm-up init",
      options: { rank: 2, init: "warmup", seed: 3 },
      hash: "4d4f66be82adfbec01bab66d1d6ae294a98ddc195e029ba890f311dc525a7d77",
    },
    {
      name: "share B, random init, Θ0 fixed",
      options: { rank: 2, init: "random", refitTheta0: false, seed: 5 },
      hash: "5a2fcbab724426ffc4311763ba962590dc6bb4bc7eab64a95609c1fd5ea14675",
    },
    {
      name: "share B, λ_user escalated",
      options: { rank: 3, l2User: 1e-3, seed: 1 },
      hash: "15859134956f6c6b8a2acb21c2fa4f72cf96bcbea0fcde18318ebd4f1ace97e0",
    },
    {
      name: "share A",
      options: { rank: 2, share: "A", seed: 3 },
      hash: "fa02418d6d1356ccb981807d0865d06212cf62b47772dfe0069031b398cb2779",
    },
    {
      name: "share A, Θ0 fixed",
      options: { rank: 4, share: "A", refitTheta0: false, seed: 2 },
      hash: "e844f82806447fbacd10c0844c498e83a7947fb3af0c5239b9ec09b0aa707b64",
    },
  ];
  it.each(cases)("$name", ({ options, hash }) => {
    expect(modelHash(trainShared(data, options))).toBe(hash);
  });

  it("global head", () => {
    const { theta0, iterations } = pretrainGlobal(data, { l2: 3 });
    const bytes = new Uint8Array(theta0.buffer);
    expect([iterations, createHash("sha256").update(bytes).digest("hex")]).toEqual([
      7,
      "901c8b054d7a8f5dfc97588f08ff480516719686f63dd37e2f562d6f96aaac56",
    ]);
  });
});
