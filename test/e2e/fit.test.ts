import { readFile, writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adapterPath } from "../../src/adapters/file/paths.js";
import { encodeAdapter } from "../../src/adapters/format.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { planted, putAdapter, responseText } from "../helpers/teacher.js";

interface Pair {
  prompt: string;
  chosen: string;
  rejected: string;
}

/** Labels come from a planted teacher adapter scored by the server itself, so they are learnable. */
async function teacherPairs(
  t: TestServer,
  teacher: string,
  from: number,
  count: number,
): Promise<Pair[]> {
  const pairs: Pair[] = [];
  const candidates = Array.from({ length: count }, (_, i) => ({
    prompt: `prompt ${(from + i) % 5}`,
    a: responseText(2 * (from + i)),
    b: responseText(2 * (from + i) + 1),
  }));
  const res = await t.post("/v1/compare", { user: teacher, pairs: candidates });
  candidates.forEach((c, i) => {
    const aWins = res.body.results[i].margin > 0;
    pairs.push({ prompt: c.prompt, chosen: aWins ? c.a : c.b, rejected: aWins ? c.b : c.a });
  });
  return pairs;
}

async function accuracy(t: TestServer, user: string | undefined, pairs: Pair[]): Promise<number> {
  const res = await t.post("/v1/compare", {
    ...(user ? { user } : {}),
    pairs: pairs.map((p) => ({ prompt: p.prompt, a: p.chosen, b: p.rejected })),
  });
  return res.body.results.filter((r: { margin: number }) => r.margin > 0).length / pairs.length;
}

describe("onboarding a user with POST /v1/users/:user/fit", () => {
  let t: TestServer;
  let p: number;
  beforeAll(async () => {
    t = await startTestServer({ fitSyncMaxPairs: 40, maxFitPairs: 100 });
    const info = await t.get("/v1/info");
    p = info.body.head.k * info.body.model.m;
    await putAdapter(t, "teacher", planted(7, p, 3));
  });
  afterAll(async () => {
    await t.close();
  });

  it("fits from a few pairs, beats the global reward on held-out pairs, and the next score uses it", async () => {
    const train = await teacherPairs(t, "teacher", 0, 32);
    const test = await teacherPairs(t, "teacher", 1000, 64);
    const res = await t.post("/v1/users/student/fit", { pairs: train });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      user: "student",
      version: 1,
      n_pairs: 32,
      // The committed default head is trained (scripts/build-default-head.ts) and carries the
      // population prior of its training users' W.
      prior: "population",
    });
    for (const key of [
      "train_accuracy",
      "cv_accuracy",
      "global_accuracy",
      "log_likelihood",
      "l2",
      "duration_ms",
    ]) {
      expect(Number.isFinite(res.body[key])).toBe(true);
    }
    expect(res.body.train_accuracy).toBeGreaterThanOrEqual(res.body.global_accuracy);
    const score = await t.post("/v1/score", {
      user: "student",
      items: [{ prompt: "x", response: "y" }],
    });
    expect(score.body.adapter_version).toBe(1);
    const studentAcc = await accuracy(t, "student", test);
    const globalAcc = await accuracy(t, undefined, test);
    expect(studentAcc).toBeGreaterThan(globalAcc);
  });

  it("append refits on every pair so far; replace forgets; stored pairs are statistics only", async () => {
    const a = await teacherPairs(t, "teacher", 2000, 6);
    const b = await teacherPairs(t, "teacher", 3000, 4);
    expect((await t.post("/v1/users/appender/fit", { pairs: a })).body.n_pairs).toBe(6);
    const appended = await t.post("/v1/users/appender/fit", { pairs: b });
    expect(appended.body).toMatchObject({ version: 2, n_pairs: 10 });
    const replaced = await t.post("/v1/users/appender/fit", { pairs: b, mode: "replace" });
    expect(replaced.body).toMatchObject({ version: 3, n_pairs: 4 });
    const meta = await t.get("/v1/users/appender");
    expect(meta.body).toMatchObject({ stored_pairs: 4, has_posterior: true });
    const file = Buffer.from(
      await (await fetch(`${t.url}/v1/users/appender/adapter`)).arrayBuffer(),
    );
    expect(file.includes(Buffer.from(b[0]!.chosen))).toBe(false);
    expect((await fetch(`${t.url}/v1/users/appender`, { method: "DELETE" })).status).toBe(204);
    const fresh = await t.post("/v1/users/appender/fit", { pairs: b });
    expect(fresh.body).toMatchObject({ version: 1, n_pairs: 4 });
  });

  it("uncertainty shrinks as n grows; pessimism lowers rewards and p_a_lcb ≤ p_a, equal at β = 0", async () => {
    const all = await teacherPairs(t, "teacher", 4000, 40);
    await t.post("/v1/users/few/fit", { pairs: all.slice(0, 4), l2: 1 });
    await t.post("/v1/users/many/fit", { pairs: all, l2: 1 });
    const item = { prompt: "prompt 1", response: responseText(77) };
    const few = await t.post("/v1/score", { user: "few", items: [item], pessimism: 1 });
    const many = await t.post("/v1/score", { user: "many", items: [item], pessimism: 1 });
    expect(many.body.uncertainty[0]).toBeLessThan(few.body.uncertainty[0]);
    const plain = await t.post("/v1/score", { user: "many", items: [item] });
    const zero = await t.post("/v1/score", { user: "many", items: [item], pessimism: 0 });
    expect(zero.body.rewards[0]).toBe(plain.body.rewards[0]);
    expect(many.body.rewards[0]).toBeCloseTo(plain.body.rewards[0] - many.body.uncertainty[0], 9);
    const pair = { prompt: "prompt 2", a: responseText(5), b: responseText(6) };
    const lcb = await t.post("/v1/compare", { user: "many", pairs: [pair], pessimism: 2 });
    const r = lcb.body.results[0];
    expect(r.p_a_lcb).toBeLessThanOrEqual(r.p_a);
    const eq = await t.post("/v1/compare", { user: "many", pairs: [pair], pessimism: 0 });
    expect(eq.body.results[0].p_a_lcb).toBe(eq.body.results[0].p_a);
    const noAdapter = await t.post("/v1/score", { user: "nobody", items: [item], pessimism: 1 });
    expect(noAdapter.body.uncertainty[0]).toBeGreaterThan(0);
  });

  it("after a restart, plain scores read W alone and pessimism still gets the posterior", async () => {
    const pairs = await teacherPairs(t, "teacher", 6000, 24);
    await t.post("/v1/users/restarted/fit", { pairs });
    const item = { prompt: "prompt 3", response: responseText(91) };
    const before = await t.post("/v1/score", { user: "restarted", items: [item], pessimism: 1 });
    // Without an adapter the uncertainty is the isotropic prior's: a posterior gives another.
    const prior = await t.post("/v1/score", { user: "nobody", items: [item], pessimism: 1 });
    expect(before.body.uncertainty[0]).toBeGreaterThan(0);
    expect(Math.abs(before.body.uncertainty[0] - prior.body.uncertainty[0])).toBeGreaterThan(1e-6);

    const again = await startTestServer({ adapters: t.adaptersDir });
    try {
      const plain = await again.post("/v1/score", { user: "restarted", items: [item] });
      expect(plain.body).toMatchObject({ personalized: true, adapter_version: 1 });
      expect(plain.body.uncertainty).toBeUndefined();
      const pessimistic = await again.post("/v1/score", {
        user: "restarted",
        items: [item],
        pessimism: 1,
      });
      expect(pessimistic.body.uncertainty[0]).toBeCloseTo(before.body.uncertainty[0], 9);
      expect(pessimistic.body.rewards[0]).toBeCloseTo(before.body.rewards[0], 9);
      expect(plain.body.rewards[0]).toBeCloseTo(
        before.body.rewards[0] + before.body.uncertainty[0],
        6,
      );
    } finally {
      await again.close();
    }
  });

  it("serializes concurrent fits of one user: versions strictly increase", async () => {
    const pairs = await teacherPairs(t, "teacher", 5000, 3);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => t.post("/v1/users/concurrent/fit", { pairs })),
    );
    const versions = results.map((r) => r.body.version).sort((x: number, y: number) => x - y);
    expect(versions).toEqual([1, 2, 3, 4, 5]);
    expect(results.map((r) => r.body.n_pairs).sort((x: number, y: number) => x - y)).toEqual([
      3, 6, 9, 12, 15,
    ]);
  });

  it("large fits run as jobs with progress", async () => {
    const pairs = await teacherPairs(t, "teacher", 6000, 50);
    const accepted = await t.post("/v1/users/bulk/fit", { pairs });
    expect(accepted.status).toBe(202);
    expect(accepted.body.status_url).toBe(`/v1/jobs/${accepted.body.job_id}`);
    let job = accepted.body;
    for (let i = 0; i < 200; i++) {
      job = (await t.get(accepted.body.status_url)).body;
      if (job.phase === "done" || job.phase === "failed") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(job.phase).toBe("done");
    expect(job.progress).toEqual({ done: 100, total: 100 });
    expect(job.result).toMatchObject({ user: "bulk", version: 1, n_pairs: 50 });
    expect((await t.get("/v1/jobs/00000000-0000-4000-8000-000000000000")).status).toBe(404);
  });

  it("accepts the conversational (messages) form", async () => {
    const res = await t.post("/v1/users/chatty/fit", {
      pairs: [
        {
          prompt: [{ role: "user", content: "hi" }],
          chosen: [{ role: "assistant", content: "hello there!" }],
          rejected: [{ role: "assistant", content: "go away" }],
        },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.n_pairs).toBe(1);
  });

  it("a replace fit repairs a corrupt adapter, keeping its version rising; an append says how", async () => {
    const pairs = await teacherPairs(t, "teacher", 8000, 6);
    await t.post("/v1/users/damaged/fit", { pairs });
    await t.post("/v1/users/damaged/fit", { pairs });
    const path = adapterPath(t.adaptersDir, "damaged");
    const bytes = await readFile(path);
    await writeFile(path, bytes.subarray(0, bytes.length - 5));
    t.server.runtime.adapters.clear();
    const append = await t.post("/v1/users/damaged/fit", { pairs });
    expect(append.status).toBe(500);
    expect(append.body.code).toBe("ADAPTER_CORRUPT");
    expect(append.body.detail).toMatch(/"mode": "replace"/);
    const replace = await t.post("/v1/users/damaged/fit", { pairs, mode: "replace" });
    expect(replace.status).toBe(200);
    expect(replace.body).toMatchObject({ version: 3, n_pairs: 6 });
    const score = await t.post("/v1/score", {
      user: "damaged",
      items: [{ prompt: "x", response: "y" }],
    });
    expect(score.body).toMatchObject({ personalized: true, adapter_version: 3 });
  });

  it("refuses a large append to a stale adapter's pairs before starting its job; a replace runs", async () => {
    const now = new Date().toISOString();
    const bytes = encodeAdapter({
      user: "migrant",
      version: 1,
      headHash: "0000000000000000",
      createdAt: now,
      updatedAt: now,
      k: p / 2,
      m: 2,
      W: planted(41, p),
      nPairs: 2,
      metrics: {},
      pairs: { g: planted(42, 2 * p, 0.1), o: planted(43, 2) },
    });
    expect((await t.send("PUT", "/v1/users/migrant/adapter", { body: bytes })).status).toBe(200);
    const pairs = await teacherPairs(t, "teacher", 9000, 41);
    const append = await t.post("/v1/users/migrant/fit", { pairs });
    expect(append.status).toBe(409);
    expect(append.body).toMatchObject({ code: "CONFLICT", field: "mode" });
    const replace = await t.post("/v1/users/migrant/fit", { pairs, mode: "replace" });
    expect(replace.status).toBe(202);
    let job = await t.get(replace.body.status_url);
    for (let i = 0; i < 300 && job.body.phase !== "done" && job.body.phase !== "failed"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      job = await t.get(replace.body.status_url);
    }
    expect(job.body.phase).toBe("done");
    expect((await t.get("/v1/users/migrant")).body).toMatchObject({ version: 2, stale: false });
  });

  it("a client's l2 that gives an adapter the server cannot store is a 400 on l2", async () => {
    const pairs = await teacherPairs(t, "teacher", 10000, 4);
    const res = await t.post("/v1/users/extreme/fit", { pairs, l2: 1e13 });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: "INVALID_REQUEST", field: "l2" });
    expect((await t.get("/v1/users/extreme")).status).toBe(404);
  });

  it("rejects bad fits with problems and leaves the previous adapter untouched", async () => {
    const good = await teacherPairs(t, "teacher", 7000, 3);
    await t.post("/v1/users/careful/fit", { pairs: good });
    const same = await t.post("/v1/users/careful/fit", {
      pairs: [good[0], { prompt: "p", chosen: "same", rejected: "same" }],
    });
    expect(same.status).toBe(400);
    expect(same.body.field).toBe("pairs[1]");
    expect((await t.post("/v1/users/careful/fit", { pairs: [] })).status).toBe(400);
    const tooMany = Array.from({ length: 101 }, (_, i) => ({
      prompt: "p",
      chosen: `a${i}`,
      rejected: `b${i}`,
    }));
    const big = await t.post("/v1/users/careful/fit", { pairs: tooMany });
    expect(big.status).toBe(413);
    const inf = await t.post(
      "/v1/users/careful/fit",
      '{"pairs":[{"prompt":"p","chosen":"a","rejected":"b"}],"l2":1e999}',
    );
    expect(inf.status).toBe(400);
    expect(inf.body.field).toBe("l2");
    expect((await t.post("/v1/users/careful/fit", { pairs: good, l2: -1 })).status).toBe(400);
    expect((await t.get("/v1/users/careful")).body.version).toBe(1);
  });
});
