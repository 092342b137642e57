import { spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServiceMetrics } from "../../src/metrics/service-metrics.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { adapterFile, KEY_LIST, KEYS, pairs } from "./fixtures.js";

const promtoolAvailable = spawnSync("promtool", ["--version"], { stdio: "ignore" }).status === 0;

/** Series → value, from the Prometheus text format. */
function parse(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const cut = line.lastIndexOf(" ");
    series.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return series;
}

function value(series: Map<string, number>, key: string): number {
  return series.get(key) ?? 0;
}

describe("GET /metrics after traffic", () => {
  let t: TestServer;
  let before: Map<string, number>;
  let after: Map<string, number>;
  let text: string;
  const users = Array.from({ length: 8 }, (_, i) => `acme:user-${i}`);

  beforeAll(async () => {
    t = await startTestServer({ adapterCacheBytes: 2048 });
    before = parse((await t.get("/metrics")).body);
    for (const user of users) {
      const put = await t.send("PUT", `/v1/users/${user}/adapter`, {
        body: adapterFile(t.server.runtime, user),
      });
      expect(put.status).toBe(200);
    }
    const items = [
      { prompt: "hi", response: "hello" },
      { prompt: "hi", response: "hello there, how are you?" },
    ];
    for (const user of [...users, ...users, "nobody-here"]) {
      expect((await t.post("/v1/score", { user, items })).status).toBe(200);
    }
    expect((await t.get(`/v1/users/${users[0]}`)).status).toBe(200);
    expect((await t.post("/v1/users/acme:fitted/fit", { pairs: pairs(5) })).status).toBe(200);
    expect((await t.get("/v1/no-such-route/acme:secret")).status).toBe(404);
    const res = await t.get("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    text = res.body;
    after = parse(text);
  });
  afterAll(async () => {
    await t.close();
  });

  it("counts and times requests by route pattern and status, never by URL or user", () => {
    const score = 'method="POST",route="/v1/score",status="200"';
    expect(value(after, `sharelora_http_requests_total{${score}}`)).toBe(17);
    expect(value(after, `sharelora_http_request_duration_seconds_count{${score}}`)).toBe(17);
    expect(
      value(
        after,
        'sharelora_http_requests_total{method="PUT",route="/v1/users/:user/adapter",status="200"}',
      ),
    ).toBe(8);
    expect(
      value(after, 'sharelora_http_requests_total{method="GET",route="(unmatched)",status="404"}'),
    ).toBe(1);
    expect(text).not.toMatch(/acme:|nobody-here|secret/);
  });

  it("covers the queue, batches, tokenization, queue wait and backbone inference", () => {
    for (const name of [
      "sharelora_queue_size_count",
      "sharelora_batch_size_count",
      "sharelora_batch_tokens_count",
      "sharelora_batch_padded_tokens_count",
      "sharelora_tokenize_duration_seconds_count",
      "sharelora_queue_wait_seconds_count",
      "sharelora_backbone_inference_duration_seconds_count",
    ]) {
      expect(value(after, name), name).toBeGreaterThan(value(before, name));
    }
    expect(value(after, "sharelora_batch_tokens_sum")).toBeGreaterThan(0);
    expect(after.has("sharelora_queue_depth")).toBe(true);
  });

  it("reads the feature cache, the adapter cache and the store at scrape time", () => {
    expect(value(after, "sharelora_feature_cache_hits_total")).toBeGreaterThan(0);
    expect(value(after, "sharelora_feature_cache_misses_total")).toBeGreaterThan(0);
    expect(value(after, "sharelora_feature_cache_entries")).toBeGreaterThan(0);
    expect(value(after, "sharelora_feature_cache_bytes")).toBeGreaterThan(0);
    expect(value(after, "sharelora_adapter_cache_misses_total")).toBeGreaterThan(0);
    expect(value(after, "sharelora_adapter_cache_evictions_total")).toBeGreaterThan(0);
    expect(value(after, "sharelora_adapter_cache_bytes")).toBeGreaterThan(0);
    expect(value(after, "sharelora_adapter_cache_bytes")).toBeLessThanOrEqual(2048);
    expect(
      value(after, 'sharelora_adapter_load_duration_seconds_count{outcome="found"}'),
    ).toBeGreaterThan(0);
    expect(
      value(after, 'sharelora_adapter_load_duration_seconds_count{outcome="absent"}'),
    ).toBeGreaterThan(0);
    expect(value(after, "sharelora_adapters_stored")).toBe(users.length + 1);
  });

  it("counts fits, their duration and their pairs", () => {
    expect(value(after, "sharelora_fits_total")).toBe(1);
    expect(value(after, "sharelora_fits_failed_total")).toBe(0);
    expect(value(after, 'sharelora_fit_duration_seconds_count{outcome="ok"}')).toBe(1);
    expect(value(after, "sharelora_fit_pairs_sum")).toBe(5);
  });

  it("includes the default process metrics, prefixed", () => {
    expect(text).toMatch(/^sharelora_process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^sharelora_nodejs_heap_size_used_bytes /m);
    expect(text).toMatch(/^sharelora_nodejs_active_handles\{type="/m);
  });

  it("has no gauge named like a counter (the *_total twins of nodejs_active_* are dropped)", () => {
    const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)];
    expect(types.length).toBeGreaterThan(20);
    for (const [, name, type] of types) {
      if (name!.endsWith("_total")) expect(type, name).toBe("counter");
    }
    expect(text).not.toMatch(/^sharelora_nodejs_active_(handles|requests|resources)_total/m);
  });

  it("passes promtool check metrics without a remark", (ctx) => {
    if (!promtoolAvailable) {
      const why = "promtool is not on PATH (install it: apt-get install -y prometheus)";
      if (process.env["CI"]) throw new Error(`${why}; .ci/run installs it`);
      ctx.skip(why);
    }
    const run = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    expect(`${run.stdout}${run.stderr}`).toBe("");
    expect(run.status).toBe(0);
  });
});

describe("ServiceMetrics", () => {
  it("keeps one registry per instance and counts failed fits", async () => {
    const a = new ServiceMetrics({ defaultMetrics: false });
    const b = new ServiceMetrics({ defaultMetrics: false });
    a.hooks().onFit(0.5, 10, false);
    a.onFit(0.2, 4, true);
    const textA = parse(await a.render());
    const textB = parse(await b.render());
    expect(value(textA, "sharelora_fits_total")).toBe(2);
    expect(value(textA, "sharelora_fits_failed_total")).toBe(1);
    expect(value(textA, 'sharelora_fit_duration_seconds_count{outcome="failed"}')).toBe(1);
    expect(value(textA, "sharelora_fit_pairs_sum")).toBe(14);
    expect(value(textB, "sharelora_fits_total")).toBe(0);
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

describe("--metrics-port with --protect-metrics", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({
      metricsPort: await freePort(),
      apiKeys: KEY_LIST,
      protectMetrics: true,
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it("serves /metrics on its own listener, and not on the API port", async () => {
    const scored = await t
      .as(KEYS.score)
      .post("/v1/score", { items: [{ prompt: "p", response: "r" }] });
    expect(scored.status).toBe(200);
    expect((await t.as(KEYS.score).get("/metrics")).status).toBe(404);
    const url = t.server.metricsUrl;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const anonymous = await fetch(url!);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const res = await fetch(url!, { headers: { authorization: `Bearer ${KEYS.fit}` } });
    expect(res.status).toBe(200);
    const series = parse(await res.text());
    expect(
      value(series, 'sharelora_http_requests_total{method="POST",route="/v1/score",status="200"}'),
    ).toBe(1);
  });
});
