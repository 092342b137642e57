import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileAdapterStore } from "../../src/adapters/file/store.js";
import { runFit } from "../../src/commands/fit.js";
import { DEFAULT_MODEL_DIR } from "../../src/config.js";
import { readHead } from "../../src/model/head-file.js";
import { type TasteRow, tastePairs } from "../../src/training/taste/taste-pairs.js";
import type { TrainHeadResult } from "../../src/training/train-head.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const jsonl = (rows: readonly TasteRow[]) => rows.map((r) => JSON.stringify(r)).join("\n");

async function accuracy(t: TestServer, user: string | undefined, pairs: TasteRow[]) {
  const res = await t.post("/v1/compare", {
    ...(user ? { user } : {}),
    pairs: pairs.map((p) => ({ prompt: p.prompt, a: p.chosen, b: p.rejected })),
  });
  expect(res.status).toBe(200);
  const results = res.body.results as { margin: number }[];
  return results.filter((r) => r.margin > 0).length / results.length;
}

describe("fit a head offline, serve it, onboard a new user", () => {
  let dir: string;
  let fitted: TrainHeadResult;
  let t: TestServer;
  const train = [
    ...["s0", "s1", "s2"].flatMap((u, i) => tastePairs(u, "structured", 8, 8 * i)),
    ...["e0", "e1", "e2"].flatMap((u, i) => tastePairs(u, "exclaim", 8, 24 + 8 * i)),
  ];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sharelora-train-serve-"));
    await writeFile(join(dir, "train.jsonl"), jsonl(train));
    fitted = await runFit({
      model: DEFAULT_MODEL_DIR,
      data: join(dir, "train.jsonl"),
      out: join(dir, "head"),
      adapters: join(dir, "adapters"),
      rank: 2,
      init: "global",
      share: "B",
      l2: 10,
      l2User: 10,
      seed: 0,
      cache: join(dir, "cache"),
      skipBad: false,
      progress: false,
    });
    t = await startTestServer({ head: join(dir, "head"), adapters: join(dir, "adapters") });
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("writes a loadable head, its report and one adapter per training user for that head", async () => {
    const head = await readHead(join(dir, "head"));
    expect(head.hash).toBe(fitted.head?.hash);
    expect(head.k).toBe(2);
    expect(head.prior?.mean.length).toBe(2 * head.m);
    const report = JSON.parse(await readFile(join(dir, "head", "report.json"), "utf8"));
    expect(report).toMatchObject({ head_hash: head.hash, users: 6, share: "B", rank: 2 });
    expect(fitted.adaptersWritten).toBe(6);
    const store = await FileAdapterStore.open({
      root: join(dir, "adapters"),
      shape: { k: head.k, m: head.m },
    });
    const adapter = await store.get("s1");
    await store.close();
    expect(adapter?.headHash).toBe(head.hash);
    expect(adapter?.nPairs).toBe(8);
    expect(adapter?.pairs?.o.length).toBe(8);
    expect(adapter?.posterior?.cholesky.length).toBe((head.k * head.m) ** 2);
  });

  it("is deterministic for a seed: a second fit from the cached features writes the same head", async () => {
    const again = await runFit({
      model: DEFAULT_MODEL_DIR,
      data: join(dir, "train.jsonl"),
      out: join(dir, "head-again"),
      // No --adapters: the training users go to the head's own folder, not the server's store.
      rank: 2,
      init: "global",
      share: "B",
      l2: 10,
      l2User: 10,
      seed: 0,
      cache: join(dir, "cache"),
      skipBad: false,
      progress: false,
    });
    expect(again.head?.hash).toBe(fitted.head?.hash);
    expect(again.adaptersWritten).toBe(6);
    const own = await FileAdapterStore.open({
      root: join(dir, "head-again", "adapters"),
      shape: { k: 2, m: again.head!.m },
    });
    expect((await own.get("s1"))?.headHash).toBe(again.head?.hash);
    await own.close();
    expect(await readFile(join(dir, "head-again", "head.safetensors"))).toEqual(
      await readFile(join(dir, "head", "head.safetensors")),
    );
  });

  it("serves the training users personalized: each group beats the global reward", async () => {
    const heldS = tastePairs("s1", "structured", 8, 200);
    const heldE = tastePairs("e1", "exclaim", 8, 200);
    const global = (await accuracy(t, undefined, heldS)) + (await accuracy(t, undefined, heldE));
    const personal = (await accuracy(t, "s1", heldS)) + (await accuracy(t, "e1", heldE));
    expect(personal / 2).toBeGreaterThan(global / 2);
    expect(personal / 2).toBeGreaterThanOrEqual(0.9);
  });

  it("onboards new users from 8 pairs each with B frozen, above the global reward", async () => {
    // Both held-out sets hold the same items with opposite labels: the global reward is right on
    // exactly one side of each, so it averages ½ over the two users.
    let personal = 0;
    let global = 0;
    for (const [user, taste] of [
      ["new-structured", "structured"],
      ["new-exclaim", "exclaim"],
    ] as const) {
      const fit = await t.post(`/v1/users/${user}/fit`, {
        pairs: tastePairs(user, taste, 8, 300).map(({ user: _, ...p }) => p),
      });
      expect(fit.status).toBe(200);
      expect(fit.body.prior).toBe("population");
      const held = tastePairs(user, taste, 10, 400);
      const mine = await accuracy(t, user, held);
      expect(mine).toBeGreaterThanOrEqual(0.9);
      personal += mine / 2;
      global += (await accuracy(t, undefined, held)) / 2;
    }
    expect(global).toBeCloseTo(0.5, 10);
    expect(personal).toBeGreaterThan(global);
  });

  it("an append fit of a training user continues from its stored pairs", async () => {
    const fit = await t.post("/v1/users/e2/fit", {
      pairs: tastePairs("e2", "exclaim", 2, 500).map(({ user: _, ...p }) => p),
      mode: "append",
    });
    expect(fit.status).toBe(200);
    expect(fit.body.n_pairs).toBe(10);
  });
});
