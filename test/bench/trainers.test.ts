import { describe, expect, it } from "vitest";
import { benchUserId } from "../../bench/adapters.js";
import { benchTexts } from "../../bench/texts.js";
import {
  checkGetReward,
  checkMatrix,
  checkOneUser,
  e2eRatioFromCached,
  getRewardBody,
  matrixBody,
  userScoresPerS,
} from "../../bench/trainers.js";
import { scoreRequest } from "../../src/schemas/score.js";
import { getRewardRequest } from "../../src/schemas/trainers.js";

const limits = { maxItems: 256, maxTextChars: 32768, maxUsers: 1000 };

describe("bench trainer requests", () => {
  it("sends OpenRLHF's single-sample /get_reward body, which the server's schema accepts", () => {
    const [text] = benchTexts("o", 0, 1);
    const body = getRewardBody(text!, benchUserId(3));
    expect(body).toEqual({
      query: [text!.prompt + text!.response],
      prompts: [text!.prompt],
      labels: ["bench-user-3"],
    });
    expect(getRewardRequest(limits).safeParse(body).success).toBe(true);
  });

  it("accepts a /get_reward answer only when personalized with the prompt split off", () => {
    const answer = (personalized: number, matched: number) => ({
      rewards: [0.5],
      scores: [0.62],
      extra_logs: { personalized: [personalized], adapter_version: [1], prompt_matched: [matched] },
    });
    expect(checkGetReward(answer(1, 1))).toBeUndefined();
    expect(checkGetReward(answer(0, 1))).toMatch(/personalized/);
    expect(checkGetReward(answer(1, 0))).toMatch(/prompt/);
    expect(checkGetReward({ rewards: [] })).toBeDefined();
  });

  it("sends /v1/score with users × items, which the server's schema accepts", () => {
    const users = Array.from({ length: 1000 }, (_, i) => benchUserId(i));
    const texts = benchTexts("mc", 0, 64);
    const body = matrixBody(users, texts) as { users: string[]; items: unknown[] };
    expect(body.users).toBe(users);
    expect(body.items).toHaveLength(64);
    expect(body.items[0]).toEqual({ prompt: texts[0]!.prompt, response: texts[0]!.response });
    expect(scoreRequest(limits).safeParse(body).success).toBe(true);
  });

  it("checks a matrix answer: a row per user, in order, all personalized", () => {
    const users = ["a", "b"];
    const row = [0.1, 0.2, 0.3];
    const good = {
      users: users.map((user) => ({ user, personalized: true, adapter_version: 1 })),
      rewards: [row, row],
    };
    expect(checkMatrix(good, users, 3)).toBeUndefined();
    expect(checkMatrix(good, ["b", "a"], 3)).toMatch(/users\[0\]/);
    expect(checkMatrix(good, users, 4)).toMatch(/rewards\[0\]/);
    expect(checkMatrix({ ...good, rewards: [row] }, users, 3)).toMatch(/2 users and rows/);
    const global = { ...good, users: [good.users[0], { user: "b", personalized: false }] };
    expect(checkMatrix(global, users, 3)).toMatch(/users\[1\]/);
    expect(checkMatrix({ rewards: [0.1] }, users, 3)).toBeDefined();
  });

  it("checks a one-user answer", () => {
    const good = { user: "a", personalized: true, rewards: [1, 2] };
    expect(checkOneUser(good, "a", 2)).toBeUndefined();
    expect(checkOneUser(good, "b", 2)).toBeDefined();
    expect(checkOneUser({ ...good, personalized: false }, "a", 2)).toBeDefined();
    expect(checkOneUser(good, "a", 3)).toBeDefined();
  });

  it("turns request times into user-scores per second over their median", () => {
    expect(userScoresPerS(1000, 64, [64, 32, 128])).toBe(1_000_000);
    expect(userScoresPerS(1000, 64, [20, 40])).toBeCloseTo(64_000_000 / 30, 6);
  });

  it("predicts the end-to-end ratio from what the other users add on cached texts", () => {
    expect(e2eRatioFromCached(22, 2, 400)).toBeCloseTo(1.05, 9);
    expect(e2eRatioFromCached(2, 2, 400)).toBe(1);
  });
});
