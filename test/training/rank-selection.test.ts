import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { rankSelectionLines } from "../../src/commands/fit.js";
import { evaluate } from "../../src/training/eval/index.js";
import { rankSelectionMarkdown } from "../../src/training/eval/rank-selection-report.js";
import {
  RANK_GRID,
  RULE_STANDARD_ERRORS,
  rankCap,
  selectRank,
  validationScores,
} from "../../src/training/rank-selection.js";
import { buildSharedData, type SharedData, trainShared } from "../../src/training/shared/index.js";
import { generateFeatureSynth } from "../../src/training/synth/index.js";
import { trainHead } from "../../src/training/train-head.js";

const PLANTED = 4;
/** The trainer's settings for unit-scale features (l2 on B, a stronger ridge on each W_i). */
const SETTINGS = { l2: 1, l2User: 10 } as const;

function planted(pairsPerUser: number, seed: number): SharedData {
  const synth = generateFeatureSynth({
    d: 16,
    m: 2,
    k: PLANTED,
    users: 60,
    pairsPerUser,
    seed,
    userNorm: 3,
  });
  return buildSharedData(synth.users, synth.d, synth.m, { seed });
}

function serialize(value: unknown): string {
  return JSON.stringify(value, (key, v) =>
    key === "seconds" ? undefined : v instanceof Float64Array ? Array.from(v) : v,
  );
}

describe("--rank auto", () => {
  const dir = mkdtemp(join(tmpdir(), "rank-auto-"));
  afterAll(async () => {
    await rm(await dir, { recursive: true, force: true });
  });

  it("recovers the planted rank with enough users and pairs", () => {
    for (const seed of [0, 1, 2]) {
      const { selection } = selectRank(planted(100, seed), { ...SETTINGS, seed });
      expect(selection.grid).toEqual([1, 2, 4, 8, 16]);
      expect(selection.chosen, selection.reason).toBe(PLANTED);
    }
  });

  it("picks a smaller k when each user has few pairs, though the cap allows the planted one", () => {
    for (const seed of [0, 1, 3]) {
      const { selection } = selectRank(planted(12, seed), { ...SETTINGS, seed });
      // 10 training pairs per user, m = 2: k·m ≤ 10 leaves 1, 2 and 4 in the grid.
      expect(selection.grid).toEqual([1, 2, 4]);
      expect(selection.chosen, selection.reason).toBeLessThan(PLANTED);
    }
  });

  it("keeps the smallest k within half a paired standard error of the best, and the model --rank k trains", () => {
    const data = planted(40, 2);
    const { selection, model, models } = selectRank(data, { ...SETTINGS, seed: 2 });
    const curve = selection.curve;
    const best = curve.find((p) => p.k === selection.best)!;
    for (const p of curve)
      expect(p.validationLogLikelihood).toBeLessThanOrEqual(best.validationLogLikelihood);
    expect(best.standardError).toBe(0);
    const chosen = curve.findIndex((p) => p.k === selection.chosen);
    const within = (p: (typeof curve)[number]) =>
      p.validationLogLikelihood >=
      best.validationLogLikelihood - RULE_STANDARD_ERRORS * p.standardError;
    expect(within(curve[chosen]!)).toBe(true);
    for (const p of curve.slice(0, chosen)) expect(within(p)).toBe(false);

    // The paired SE, recomputed from the per-pair scores of the two models.
    const a = validationScores(data, models[0]!).logLikelihood;
    const b = validationScores(data, models[curve.indexOf(best)]!).logLikelihood;
    const diff = a.map((x, j) => x - b[j]!);
    const mu = diff.reduce((s, x) => s + x, 0) / diff.length;
    const sd = Math.sqrt(diff.reduce((s, x) => s + (x - mu) ** 2, 0) / (diff.length - 1));
    expect(curve[0]!.standardError).toBeCloseTo(sd / Math.sqrt(diff.length), 12);

    // Per-pair scores agree with the trainer's own validation figures.
    for (const [i, p] of curve.entries()) {
      expect(p.validationLogLikelihood).toBeCloseTo(models[i]!.report.validationLogLikelihood!, 12);
      expect(p.validationAccuracy).toBeCloseTo(models[i]!.report.validationAccuracy!, 12);
    }
    // Independent fits: the kept model is bit for bit what a forced k trains.
    expect(serialize(model)).toBe(
      serialize(trainShared(data, { ...SETTINGS, seed: 2, rank: selection.chosen })),
    );
  });

  it("caps the grid by d, by U·m and by the median user's training pairs over m", () => {
    const few = buildSharedData(
      generateFeatureSynth({ d: 6, m: 1, k: 2, users: 3, pairsPerUser: 40, seed: 1 }).users,
      6,
      1,
    );
    expect(rankCap(few).k).toBe(3); // U·m = 3
    const narrow = buildSharedData(
      generateFeatureSynth({ d: 5, m: 1, k: 2, users: 20, pairsPerUser: 40, seed: 1 }).users,
      5,
      1,
    );
    expect(rankCap(narrow).k).toBe(5); // d = 5
    const thin = buildSharedData(
      generateFeatureSynth({ d: 40, m: 3, k: 2, users: 20, pairsPerUser: 10, seed: 1 }).users,
      40,
      3,
    );
    expect(rankCap(thin)).toMatchObject({ k: 2, medianTrainPairs: 8 }); // ⌊8 / 3⌋
    expect(RANK_GRID).toEqual([1, 2, 4, 8, 16, 32]);
  });

  it("is trainHead's default: report.json carries the whole curve and the choice", async () => {
    const synth = generateFeatureSynth({ d: 8, m: 2, k: 2, users: 30, pairsPerUser: 40, seed: 5 });
    const f32 = (x: Float64Array) => Float32Array.from(x);
    const rows = synth.users.flatMap((u) => u.pairs.map(() => ({ user: u.user })));
    const pairs = synth.users.flatMap((u) => u.pairs);
    const features = {
      d: 8,
      m: 2,
      modelId: "planted",
      dataset: {
        rows,
        chosen: pairs.map((p) => f32(p.chosen)),
        rejected: pairs.map((p) => f32(p.rejected)),
      },
    };
    const out = join(await dir, "head");
    const result = await trainHead({
      features,
      out,
      adapters: null,
      ...SETTINGS,
      seed: 5,
    });
    const report = JSON.parse(await readFile(join(out, "report.json"), "utf8"));
    expect(result.rankSelection).not.toBeNull();
    expect(report.rank).toBe(result.rankSelection!.chosen);
    expect(report.rank_selection.chosen).toBe(report.rank);
    expect(report.rank_selection.curve.map((p: { k: number }) => p.k)).toEqual([1, 2, 4, 8]);
    expect(report.rank_selection.reason).toMatch(new RegExp(`^k = ${report.rank}: `));
    const forced = await trainHead({
      features,
      out: join(await dir, "forced"),
      adapters: null,
      ...SETTINGS,
      seed: 5,
      rank: report.rank,
    });
    expect(forced.rankSelection).toBeNull();
    expect(forced.head!.hash).toBe(result.head!.hash);
  });

  it("eval --rank auto chooses k on the training users and uses it for every P-ShareLoRA figure", () => {
    const synth = generateFeatureSynth({ d: 6, m: 1, k: 2, users: 24, pairsPerUser: 50, seed: 8 });
    const f32 = (x: Float64Array) => Float32Array.from(x);
    const rows = (from: number, to: number) => {
      const users = synth.users.map((u) => ({ user: u.user, pairs: u.pairs.slice(from, to) }));
      return {
        rows: users.flatMap((u) => u.pairs.map(() => ({ user: u.user }))),
        chosen: users.flatMap((u) => u.pairs.map((p) => f32(p.chosen))),
        rejected: users.flatMap((u) => u.pairs.map((p) => f32(p.rejected))),
      };
    };
    const features = { d: 6, m: 1, train: rows(0, 40), test: rows(40, 50), newUsers: null };
    const options = { features, attributes: null, bayes: null, quick: true, ...SETTINGS, seed: 1 };
    const auto = evaluate({ ...options, rank: "auto" });
    const selection = auto.rankSelection!;
    expect(selection.grid).toEqual([1, 2, 4]); // k ≤ d = 6
    expect(auto.settings.rank).toBe(selection.chosen);
    const forced = evaluate({ ...options, rank: selection.chosen });
    expect(forced.rankSelection).toBeNull();
    expect(auto.seen.map((s) => s.mean)).toEqual(forced.seen.map((s) => s.mean));
    const table = rankSelectionMarkdown(selection);
    expect(table).toContain(`k = ${selection.chosen}`);
    expect(table.split("\n").filter((line) => /^\| \d/.test(line))).toHaveLength(3);
    // What `fit` prints on stderr: the choice and why, the rule and the cap, then the curve.
    const lines = rankSelectionLines(selection);
    expect(lines[0]).toBe(`rank auto: ${selection.reason}`);
    expect(lines[1]).toContain(selection.rule);
    expect(lines.slice(2)).toHaveLength(3);
    expect(lines.filter((line) => line.endsWith("← chosen"))).toEqual([
      expect.stringContaining(`k = ${selection.chosen}:`),
    ]);
  });
});
