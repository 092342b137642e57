import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sigmoid } from "../../src/math/logistic.js";
import { SeededRandom } from "../../src/math/random.js";
import {
  computeHeadHash,
  type Head,
  type HeadTensors,
  readHead,
} from "../../src/model/head-file.js";
import { type TrainHeadResult, trainHead } from "../../src/training/train-head.js";

const d = 10;
const USERS = 40;
const TRAIN_PAIRS = 24;
const TEST_PAIRS = 60;

/** An imported reward model's head: Θ0 and a nonzero b0 that pairs alone could never identify. */
function importedHead(random: SeededRandom): Head {
  const tensors: HeadTensors = {
    d,
    m: 1,
    k: 2,
    theta0: Float32Array.from({ length: d }, () => random.gaussian() * 0.5),
    b0: Math.fround(0.37),
    B: new Float32Array(d * 2),
  };
  return { ...tensors, hash: computeHeadHash(tensors), modelId: "rm", basis: "none" };
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

interface Planted {
  rows: { user: string }[];
  chosen: Float32Array[];
  rejected: Float32Array[];
  test: { user: number; chosen: Float32Array; rejected: Float32Array }[];
}

/**
 * Users' utilities Θ0 + B*·w_u with B* two planted directions; each comparison draws two random
 * texts' Φ and orients it by a Bradley–Terry draw under the user's utility.
 */
function plantedPreferences(head: Head, random: SeededRandom): Planted {
  const basis = [0, 1].map(() => Float64Array.from({ length: d }, () => random.gaussian()));
  const tastes = Array.from({ length: USERS }, () => {
    const w = [random.gaussian() * 2, random.gaussian() * 2];
    return Float64Array.from(
      { length: d },
      (_, i) => head.theta0[i]! + w[0]! * basis[0]![i]! + w[1]! * basis[1]![i]!,
    );
  });
  const text = () => Float32Array.from({ length: d }, () => random.gaussian());
  const compare = (u: number) => {
    const a = text();
    const b = text();
    const aWins = random.nextUnit() < sigmoid(dot(tastes[u]!, a) - dot(tastes[u]!, b));
    return aWins ? { chosen: a, rejected: b } : { chosen: b, rejected: a };
  };
  const out: Planted = { rows: [], chosen: [], rejected: [], test: [] };
  for (let u = 0; u < USERS; u++) {
    for (let j = 0; j < TRAIN_PAIRS; j++) {
      const pair = compare(u);
      out.rows.push({ user: `u${u}` });
      out.chosen.push(pair.chosen);
      out.rejected.push(pair.rejected);
    }
    for (let j = 0; j < TEST_PAIRS; j++) out.test.push({ user: u, ...compare(u) });
  }
  return out;
}

describe("fit with Θ0 kept (fit --keep-theta0)", () => {
  let dir: string;
  let head: Head;
  let planted: Planted;
  let result: TrainHeadResult;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "keep-theta0-"));
    const random = new SeededRandom(7);
    head = importedHead(random);
    planted = plantedPreferences(head, random);
    result = await trainHead({
      features: { d, m: 1, modelId: "rm", dataset: planted },
      out: dir,
      adapters: null,
      rank: 2,
      l2: 0.1,
      l2User: 1,
      keepHead: head,
    });
  }, 120_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes the imported Θ0 and b0 bit for bit, with a learned B recorded as trained", async () => {
    const written = await readHead(dir);
    expect(
      Buffer.from(written.theta0.buffer, written.theta0.byteOffset, written.theta0.byteLength),
    ).toEqual(Buffer.from(head.theta0.buffer, head.theta0.byteOffset, head.theta0.byteLength));
    expect(written.b0).toBe(head.b0);
    expect(written.basis).toBe("trained");
    expect(written.B.some((x) => x !== 0)).toBe(true);
    expect(written.prior).toBeDefined();
    expect(result.report["kept_theta0"]).toBe(true);
  });

  it("personalizes as a delta on the reward model: held-out accuracy beats Θ0 alone", () => {
    const model = result.model;
    if (model.share !== "B") throw new Error("expected a share-B model");
    let global = 0;
    let personal = 0;
    for (const pair of planted.test) {
      const w = model.W[model.users.indexOf(`u${pair.user}`)]!;
      const theta = Float64Array.from(
        { length: d },
        (_, i) => head.theta0[i]! + model.B[i * 2]! * w[0]! + model.B[i * 2 + 1]! * w[1]!,
      );
      if (dot(head.theta0, pair.chosen) > dot(head.theta0, pair.rejected)) global++;
      if (dot(theta, pair.chosen) > dot(theta, pair.rejected)) personal++;
    }
    const n = planted.test.length;
    expect(personal / n).toBeGreaterThan(global / n + 0.15);
  });

  it("refuses a kept head of another shape", async () => {
    const other = { ...head, d: d + 1 };
    await expect(
      trainHead({
        features: { d, m: 1, modelId: "rm", dataset: planted },
        out: dir,
        adapters: null,
        keepHead: other,
      }),
    ).rejects.toThrow(/keepHead: expected a head of d = 10, m = 1/);
  });
});
