import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeAdapter } from "../../src/adapters/format.js";
import { openAdapterStore } from "../../src/adapters/open-store.js";
import { PACKAGE_ROOT } from "../../src/config.js";
import { startTestServer } from "../helpers/server.js";
import { pairs } from "./fixtures.js";

interface Child {
  process: ChildProcess;
  lines: Record<string, any>[];
  stderr: string[];
  /** Resolves with the first log record the predicate accepts. */
  waitFor(predicate: (record: Record<string, any>) => boolean): Promise<Record<string, any>>;
  exited: Promise<number | null>;
}

function serve(args: string[]): Child {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("SHARELORA_")),
  );
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "src/cli.ts", "serve", "--port", "0", ...args],
    { cwd: PACKAGE_ROOT, env, stdio: ["ignore", "pipe", "pipe"] },
  );
  const lines: Record<string, any>[] = [];
  const stderr: string[] = [];
  const waiters: { predicate: (r: Record<string, any>) => boolean; resolve: (r: any) => void }[] =
    [];
  createInterface({ input: child.stdout! }).on("line", (line) => {
    let record: Record<string, any>;
    try {
      record = JSON.parse(line);
    } catch {
      return;
    }
    lines.push(record);
    for (const waiter of waiters.filter((w) => w.predicate(record))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(record);
    }
  });
  child.stderr!.on("data", (chunk) => stderr.push(String(chunk)));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  return {
    process: child,
    lines,
    stderr,
    exited,
    waitFor: (predicate) =>
      new Promise((resolve, reject) => {
        const found = lines.find(predicate);
        if (found) return resolve(found);
        waiters.push({ predicate, resolve });
        void exited.then((code) =>
          reject(new Error(`server exited (${code}) first: ${stderr.join("")}`)),
        );
      }),
  };
}

describe("close() on a running server", () => {
  it("answers /ready 503 at once, refuses new connections, and finishes the work in flight", async () => {
    const t = await startTestServer({ maxBatchSize: 1, featureCacheBytes: 0 });
    try {
      const items = Array.from({ length: 8 }, (_, i) => ({
        prompt: `drain ${i}`,
        response: `a response that takes a backbone pass of its own, number ${i}`,
      }));
      const inFlight = t.post("/v1/score", { items });
      const engine = t.server.runtime.engine;
      while (engine.queueSize === 0) await new Promise((resolve) => setTimeout(resolve, 2));
      const closing = t.server.close();
      const ready = await t.server.app.inject({ method: "GET", url: "/ready" });
      expect(ready.statusCode).toBe(503);
      const refused = await fetch(`${t.url}/health`).then(
        () => false,
        () => true,
      );
      expect(refused).toBe(true);
      const done = await inFlight;
      expect(done.status).toBe(200);
      expect(done.body.rewards).toHaveLength(items.length);
      await closing;
    } finally {
      await t.close();
    }
  });
});

type Outcome = { kind: "fit" | "import" | "job"; user: string; status: number; body: any };

describe("SIGTERM during load", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sharelora-shutdown-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("turns /ready 503, drains the work, keeps every acknowledged write, and exits 0", async () => {
    const child = serve(["--adapters", dir, "--device", "cpu", "--fit-sync-max-pairs", "6"]);
    try {
      const ready = await child.waitFor((r) => r.msg === "ready");
      const url: string = ready.url;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const info = (await (await fetch(`${url}/v1/info`)).json()) as Record<string, any>;
      const { k, hash } = info.head as { k: number; hash: string };
      const m = info.model.m as number;

      const send = async (kind: Outcome["kind"], user: string, init: RequestInit) => {
        const path = kind === "import" ? `/v1/users/${user}/adapter` : `/v1/users/${user}/fit`;
        try {
          const res = await fetch(url + path, init);
          const text = await res.text();
          return { kind, user, status: res.status, body: text ? JSON.parse(text) : null };
        } catch {
          return { kind, user, status: 0, body: null };
        }
      };
      const postFit = (user: string, n: number) =>
        send(n > 6 ? "job" : "fit", user, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ pairs: pairs(n, user) }),
        });
      const putAdapter = (user: string, seed: number) => {
        const now = new Date().toISOString();
        const bytes = encodeAdapter({
          user,
          version: 1,
          headHash: hash,
          createdAt: now,
          updatedAt: now,
          k,
          m,
          W: new Float32Array(k * m).fill(seed / 100),
          nPairs: 0,
          metrics: {},
        });
        return send("import", user, {
          method: "PUT",
          headers: { "content-type": "application/octet-stream" },
          body: bytes,
        });
      };
      const scores = Array.from({ length: 8 }, (_, i) =>
        fetch(`${url}/v1/score`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ items: [{ prompt: "p", response: `score ${i}` }] }),
        }).then(
          (res) => res.status,
          () => 0,
        ),
      );
      const writes: Promise<Outcome>[] = [];
      for (let i = 0; i < 6; i++) writes.push(postFit(`fit-${i}`, 4 + (i % 3)));
      for (let i = 0; i < 2; i++) writes.push(postFit(`job-${i}`, 12));
      for (let i = 0; i < 6; i++) writes.push(putAdapter(`import-${i}`, i + 1));

      await Promise.race(writes);
      child.process.kill("SIGTERM");
      await child.waitFor((r) => r.msg === "shutting down");
      const late: Promise<Outcome>[] = [putAdapter("late-import", 9), postFit("late-fit", 4)];
      const readyAfter = await fetch(`${url}/ready`).then(
        (res) => res.status,
        () => 0,
      );
      expect([0, 503]).toContain(readyAfter);

      const outcomes = await Promise.all([...writes, ...late]);
      const statuses = await Promise.all(scores);
      const code = await child.exited;
      expect(child.stderr.join("")).toBe("");
      expect(code).toBe(0);

      for (const status of statuses) expect([0, 200, 503]).toContain(status);
      for (const o of outcomes)
        expect([0, 200, 202, 503], `${o.kind} ${o.user}`).toContain(o.status);
      const acknowledged = outcomes.filter((o) => o.status === 200 || o.status === 202);
      expect(acknowledged.length).toBeGreaterThan(0);
      const store = await openAdapterStore(dir, { k, m });
      try {
        for (const o of acknowledged) {
          const stored = await store.get(o.user);
          expect(stored, `${o.kind} ${o.user} is on disk`).toBeDefined();
          if (o.status === 200) expect(stored!.version).toBe(o.body.version);
        }
        for (const o of outcomes.filter((x) => x.status !== 200 && x.status !== 202)) {
          expect(await store.get(o.user), `${o.user} was refused and not stored`).toBeUndefined();
        }
      } finally {
        await store.close();
      }
      expect(child.lines.some((r) => r.msg === "shutting down" && r.signal === "SIGTERM")).toBe(
        true,
      );
    } finally {
      if (child.process.exitCode === null) child.process.kill("SIGKILL");
    }
  });
});
