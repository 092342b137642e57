import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adapterPath } from "../../src/adapters/file/paths.js";
import { encodeAdapter } from "../../src/adapters/format.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { planted, putAdapter } from "../helpers/teacher.js";

const items = [
  { prompt: "hi", response: "hello!" },
  { prompt: "hi", response: "- one\n- two" },
];

describe("per-user adapters over HTTP", () => {
  let t: TestServer;
  let p: number;
  beforeAll(async () => {
    t = await startTestServer();
    const info = await t.get("/v1/info");
    p = info.body.head.k * info.body.model.m;
  });
  afterAll(async () => {
    await t.close();
  });

  it("PUT imports a version that the very next score uses; GET shows metadata; DELETE is idempotent", async () => {
    expect((await t.get("/v1/users/alice")).status).toBe(404);
    const global = await t.post("/v1/score", { items });
    const v1 = await putAdapter(t, "alice", planted(1, p, 0.5));
    expect(v1).toBe(1);
    const first = await t.post("/v1/score", { user: "alice", items });
    expect(first.body.personalized).toBe(true);
    expect(first.body.adapter_version).toBe(1);
    expect(first.body.rewards).not.toEqual(global.body.rewards);

    const v2 = await putAdapter(t, "alice", planted(2, p, 0.5));
    expect(v2).toBe(2);
    const second = await t.post("/v1/score", { user: "alice", items });
    expect(second.body.adapter_version).toBe(2);
    expect(second.body.rewards).not.toEqual(first.body.rewards);

    const meta = await t.get("/v1/users/alice");
    expect(meta.status).toBe(200);
    expect(meta.body).toMatchObject({ user: "alice", version: 2, stale: false, k: p / 2, m: 2 });

    const exported = await fetch(`${t.url}/v1/users/alice/adapter`);
    expect(exported.status).toBe(200);
    expect(exported.headers.get("content-type")).toBe("application/octet-stream");
    const bytes = new Uint8Array(await exported.arrayBuffer());
    expect(bytes.length).toBeGreaterThan(8);

    const del = await fetch(`${t.url}/v1/users/alice`, { method: "DELETE" });
    expect(del.status).toBe(204);
    expect((await fetch(`${t.url}/v1/users/alice`, { method: "DELETE" })).status).toBe(204);
    expect((await t.get("/v1/users/alice")).status).toBe(404);
    const after = await t.post("/v1/score", { user: "alice", items });
    expect(after.body.personalized).toBe(false);
    expect(after.body.rewards).toEqual(global.body.rewards);

    // The exported file re-imports as the next version.
    const reimport = await fetch(`${t.url}/v1/users/alice/adapter`, {
      method: "PUT",
      headers: { "content-type": "application/octet-stream" },
      body: bytes,
    });
    expect(reimport.status).toBe(200);
    const again = await t.post("/v1/score", { user: "alice", items });
    expect(again.body.rewards).toEqual(second.body.rewards);
  });

  it("never applies an adapter fitted against another head", async () => {
    await putAdapter(t, "stale-user", planted(3, p), "0000000000000000");
    const res = await t.post("/v1/score", { user: "stale-user", items });
    const global = await t.post("/v1/score", { items });
    expect(res.body.personalized).toBe(false);
    expect(res.body.stale_adapter).toBe(true);
    expect(res.body.rewards).toEqual(global.body.rewards);
    expect((await t.get("/v1/users/stale-user")).body.stale).toBe(true);
  });

  it("rejects bad ids and bad adapter files with problems, and serves everyone else", async () => {
    expect((await t.get("/v1/users/bad%20id")).status).toBe(400);
    const garbage = await fetch(`${t.url}/v1/users/bob/adapter`, {
      method: "PUT",
      headers: { "content-type": "application/octet-stream" },
      body: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]),
    });
    expect(garbage.status).toBe(400);
    expect(((await garbage.json()) as { code: string }).code).toBe("INVALID_ADAPTER");
    const k = p / 2 + 1;
    const now = new Date().toISOString();
    const wrongShape = encodeAdapter({
      user: "carol",
      version: 1,
      headHash: "x",
      createdAt: now,
      updatedAt: now,
      k,
      m: 2,
      W: planted(4, k * 2),
      nPairs: 0,
      metrics: {},
    });
    const shapeRes = await fetch(`${t.url}/v1/users/carol/adapter`, {
      method: "PUT",
      headers: { "content-type": "application/octet-stream" },
      body: wrongShape,
    });
    expect(shapeRes.status).toBe(400);
    const otherUser = await fetch(`${t.url}/v1/users/dave/adapter`, {
      method: "PUT",
      headers: { "content-type": "application/octet-stream" },
      body: wrongShape,
    });
    expect(otherUser.status).toBe(400);
    expect((await t.post("/v1/score", { user: "bob", items })).status).toBe(200);
  });

  it("a burst of 1,000 users, one item each, equals scoring each user alone", async () => {
    const users = Array.from({ length: 1000 }, (_, i) => `burst-${i}`);
    for (let i = 0; i < 20; i++) await putAdapter(t, users[i * 50]!, planted(100 + i, p, 0.5));
    const bodies = users.map((user, i) => ({
      user,
      items: [{ prompt: "q", response: `answer ${i % 10}` }],
    }));
    const alone: number[] = [];
    for (const i of [0, 1, 50, 51, 100, 999])
      alone[i] = (await t.post("/v1/score", bodies[i])).body.rewards[0];
    const burst = await Promise.all(bodies.map((b) => t.post("/v1/score", b)));
    for (const res of burst) expect(res.status).toBe(200);
    for (const i of [0, 1, 50, 51, 100, 999]) {
      expect(Math.abs(burst[i]!.body.rewards[0] - alone[i]!)).toBeLessThan(1e-6);
    }
    expect(burst[50]!.body.personalized).toBe(true);
    expect(burst[51]!.body.personalized).toBe(false);
  });

  it("a corrupt file on disk fails that user alone", async () => {
    await putAdapter(t, "corrupt-user", planted(9, p));
    await putAdapter(t, "healthy-user", planted(10, p));
    const path = adapterPath(t.adaptersDir, "corrupt-user");
    const bytes = await readFile(path);
    await writeFile(path, bytes.subarray(0, bytes.length - 7));
    t.server.runtime.adapters.clear();
    const broken = await t.post("/v1/score", { user: "corrupt-user", items });
    expect(broken.status).toBe(500);
    expect(broken.body.code).toBe("ADAPTER_CORRUPT");
    const fine = await t.post("/v1/score", { user: "healthy-user", items });
    expect(fine.status).toBe(200);
    expect(fine.body.personalized).toBe(true);
    expect((await t.post("/v1/score", { items })).status).toBe(200);
  });

  it("an adapter of a head of another rank is stale: global reward, metadata, and a refit that says what to resend", async () => {
    // What a head of k = 8 left in the store before the served head (k = 2) replaced it.
    const k = 8;
    const m = 2;
    const q = k * m;
    const cholesky = new Float64Array(q * q);
    for (let i = 0; i < q; i++) cholesky[i * q + i] = 1;
    const path = adapterPath(t.adaptersDir, "bob-rank8");
    await mkdir(dirname(path), { recursive: true });
    await writeFile(
      path,
      encodeAdapter({
        user: "bob-rank8",
        version: 4,
        headHash: "35425524347772e2",
        createdAt: "2025-01-01T00:00:00Z",
        updatedAt: "2025-01-01T00:00:00Z",
        k,
        m,
        W: planted(11, q),
        nPairs: 3,
        metrics: { train_accuracy: 1 },
        posterior: { cholesky, lambda: 1 },
        pairs: { g: planted(12, 3 * q, 0.1), o: planted(13, 3) },
      }),
    );
    t.server.runtime.adapters.clear();
    const global = await t.post("/v1/score", { items });
    for (const pessimism of [undefined, 1]) {
      const res = await t.post("/v1/score", { user: "bob-rank8", items, pessimism });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ personalized: false, stale_adapter: true });
      if (pessimism === undefined) expect(res.body.rewards).toEqual(global.body.rewards);
    }
    const meta = await t.get("/v1/users/bob-rank8");
    expect(meta.status).toBe(200);
    expect(meta.body).toMatchObject({ stale: true, k: 8, m: 2, version: 4, stored_pairs: 3 });

    // Its pair statistics are of the old head and the texts are not stored: an append cannot go on.
    const pairs = [
      { prompt: "hi", chosen: "hello!", rejected: "- one\n- two" },
      { prompt: "q", chosen: "yes!!", rejected: "no" },
    ];
    const append = await t.post("/v1/users/bob-rank8/fit", { pairs });
    expect(append.status).toBe(409);
    expect(append.body).toMatchObject({ code: "CONFLICT", field: "mode" });
    expect(append.body.detail).toMatch(/"mode": "replace"/);
    const replace = await t.post("/v1/users/bob-rank8/fit", { pairs, mode: "replace" });
    expect(replace.status).toBe(200);
    expect(replace.body).toMatchObject({ version: 5, n_pairs: 2 });
    const after = await t.post("/v1/score", { user: "bob-rank8", items });
    expect(after.body).toMatchObject({ personalized: true, adapter_version: 5 });
    expect((await t.get("/v1/users/bob-rank8")).body).toMatchObject({ stale: false, k: p / 2 });
  });

  it("refuses imports that would break pessimism or rewards, naming the tensor or key at fault", async () => {
    const now = new Date().toISOString();
    const cholesky = new Float64Array(p * p);
    for (let i = 0; i < p; i++) cholesky[i * p + i] = 1;
    const file = (
      change: (a: Parameters<typeof encodeAdapter>[0]) => void,
      user = "eve",
    ): Uint8Array => {
      const adapter: Parameters<typeof encodeAdapter>[0] = {
        user,
        version: 1,
        headHash: t.server.runtime.head.hash,
        createdAt: now,
        updatedAt: now,
        k: p / 2,
        m: 2,
        W: planted(21, p, 0.5),
        nPairs: 2,
        metrics: {},
        posterior: { cholesky: cholesky.slice(), lambda: 1 },
        pairs: { g: planted(22, 2 * p, 0.1), o: planted(23, 2) },
      };
      change(adapter);
      return encodeAdapter(adapter);
    };
    const put = (bytes: Uint8Array, user = "eve") =>
      t.send("PUT", `/v1/users/${user}/adapter`, { body: bytes });
    const refused: [Uint8Array, string][] = [
      [file((a) => (a.posterior!.cholesky[0] = 1e-300)), "posterior_cholesky"],
      [file((a) => (a.posterior!.cholesky[p + 1] = 5e-324)), "posterior_cholesky"],
      [file((a) => (a.W[0] = 3.4e38)), "W"],
      [file((a) => (a.pairs!.g[0] = 1e30)), "pairs_g"],
      [file((a) => (a.metrics = { loss: 1e300 })), "metadata.metrics"],
      [
        file((a) => {
          a.nPairs = 1025;
          a.pairs = { g: new Float32Array(1025 * p), o: new Float32Array(1025) };
        }),
        "pairs_o",
      ],
      [file(() => {}, "mallory"), "metadata.user"],
    ];
    for (const [bytes, field] of refused) {
      const res = await put(bytes);
      expect(res.status, field).toBe(400);
      expect(res.body, field).toMatchObject({ code: "INVALID_ADAPTER", field });
    }
    expect((await t.get("/v1/users/eve")).status).toBe(404);
    const pessimistic = await t.post("/v1/score", { user: "eve", items, pessimism: 1 });
    expect(pessimistic.status).toBe(200);
    // The same adapter with a sound posterior is taken, and pessimism works on it.
    expect((await put(file(() => {}))).status).toBe(200);
    const res = await t.post("/v1/score", { user: "eve", items, pessimism: 1 });
    expect(res.status).toBe(200);
    expect(res.body.personalized).toBe(true);
    for (const sigma of res.body.uncertainty) expect(Number.isFinite(sigma)).toBe(true);
  });

  it("an import repairs a corrupt adapter, and its version keeps rising", async () => {
    await putAdapter(t, "mended", planted(31, p));
    await putAdapter(t, "mended", planted(32, p));
    const path = adapterPath(t.adaptersDir, "mended");
    const bytes = await readFile(path);
    await writeFile(path, bytes.subarray(0, bytes.length - 7));
    t.server.runtime.adapters.clear();
    expect((await t.post("/v1/score", { user: "mended", items })).body.code).toBe(
      "ADAPTER_CORRUPT",
    );
    expect(await putAdapter(t, "mended", planted(33, p))).toBe(3);
    const score = await t.post("/v1/score", { user: "mended", items });
    expect(score.body).toMatchObject({ personalized: true, adapter_version: 3 });
    // Bytes with nothing left of a version: the next one is above any counted one.
    await writeFile(path, "garbage");
    t.server.runtime.adapters.clear();
    expect(await putAdapter(t, "mended", planted(34, p))).toBeGreaterThan(3);
  });

  it("races between PUT, DELETE and score leave a consistent state", async () => {
    const ops: Promise<unknown>[] = [];
    for (let i = 0; i < 30; i++) {
      if (i % 3 === 0) ops.push(putAdapter(t, "racer", planted(200 + i, p)));
      else if (i % 3 === 1) ops.push(fetch(`${t.url}/v1/users/racer`, { method: "DELETE" }));
      else ops.push(t.post("/v1/score", { user: "racer", items }));
    }
    const results = await Promise.allSettled(ops);
    for (const r of results) expect(r.status).toBe("fulfilled");
    const meta = await t.get("/v1/users/racer");
    const score = await t.post("/v1/score", { user: "racer", items });
    if (meta.status === 404) expect(score.body.personalized).toBe(false);
    else expect(score.body.adapter_version).toBe(meta.body.version);
  });
});
