import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_MODEL_DIR } from "../../src/config.js";
import { readHead, writeHead } from "../../src/model/head-file.js";
import { withBasis } from "../../src/model/import-model.js";
import { loadModelDir } from "../../src/model/manifest.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

/** A head as import-model writes it without --calibration: the default head's Θ0, B = 0. */
describe("a head without a shared basis", () => {
  let dir: string;
  let t: TestServer;
  let served: Awaited<ReturnType<typeof readHead>>;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sharelora-no-basis-"));
    const model = await loadModelDir(DEFAULT_MODEL_DIR);
    const trained = await readHead(model.headDir);
    served = withBasis(trained, new Float32Array(trained.d * trained.k), "none");
    await writeHead(dir, served);
    t = await startTestServer({ head: dir });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("says so in /v1/info and still serves the global reward", async () => {
    const info = await t.get("/v1/info");
    expect(info.body.head).toMatchObject({ hash: served.hash, basis: "none" });
    const score = await t.post("/v1/score", { items: [{ prompt: "Hi", response: "Hello!" }] });
    expect(score.status).toBe(200);
    expect(score.body.rewards).toHaveLength(1);
  });

  it("refuses onboarding with a 409 that says how to get a basis, before any feature is computed", async () => {
    const res = await t.post("/v1/users/alice/fit", {
      pairs: [{ prompt: "Hi", chosen: "Hello there, friend.", rejected: "Go away." }],
    });
    expect(res.status).toBe(409);
    expect(res.headers.get("content-type")).toMatch(/application\/problem\+json/);
    expect(res.body.code).toBe("CONFLICT");
    expect(res.body.detail).toMatch(/no shared basis \(B = 0/);
    expect(res.body.detail).toMatch(/sharelora fit --model DIR --keep-theta0/);
    expect((await t.get("/v1/users/alice")).status).toBe(404);
  });
  it("refuses to choose queries too: no answer could teach anything about W", async () => {
    const res = await t.post("/v1/users/alice/queries", {
      candidates: [{ prompt: "Hi", responses: ["Hello there, friend.", "Go away."] }],
      n: 1,
    });
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(/no shared basis \(B = 0/);
  });
});
