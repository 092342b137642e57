import type { Head, HeadPrior } from "../src/model/head-file.js";
import { crossValidatePrior } from "../src/training/cross-validation.js";
import type { PriorSpec } from "../src/training/logistic-fit.js";
import { plantedPairs } from "../src/training/planted.js";
import { fitWithEvidence } from "../src/training/prior-evidence.js";
import type { HttpResponse, JsonClient } from "./http-client.js";
import type { Figures } from "./result.js";
import { median, round } from "./stats.js";
import type { BenchText } from "./texts.js";

export interface FitTiming {
  n: number;
  p: number;
  medianMs: number;
  runs: number;
  /** How the strength was chosen: leave-one-out or k-fold. */
  method: string;
  prior: PriorSpec["kind"];
}

const WARMUP_RUNS = 5;
const MIN_RUNS = 20;

/**
 * The fitter alone on planted pair statistics (features already cached), as the fit endpoint runs
 * it: the head's population prior when it has one, else isotropic, its strength chosen by the
 * Laplace evidence (no l2 given), then the cross-validated accuracy reported at that strength.
 */
export function timeFit(
  p: number,
  n: number,
  prior: HeadPrior | undefined,
  budgetMs: number,
): FitTiming {
  const { stats } = plantedPairs({ p, n, seed: 20_250_301 + n });
  const spec: PriorSpec = prior
    ? { kind: "population", mean: prior.mean, cov: prior.cov }
    : { kind: "isotropic" };
  const runFit = () => {
    const selected = fitWithEvidence(stats, spec);
    const strength =
      selected.prior.kind === "isotropic" ? selected.prior.lambda : selected.prior.tau;
    const family = prior
      ? { kind: "population" as const, mean: prior.mean, cov: prior.cov }
      : { kind: "isotropic" as const };
    return crossValidatePrior(stats, family, { grid: [strength] });
  };
  let method = "";
  for (let i = 0; i < WARMUP_RUNS; i++) method = `evidence, then ${runFit().method}`;
  const times: number[] = [];
  const started = performance.now();
  while (times.length < MIN_RUNS || performance.now() - started < budgetMs) {
    const t0 = performance.now();
    runFit();
    times.push(performance.now() - t0);
  }
  return { n, p, medianMs: median(times), runs: times.length, method, prior: spec.kind };
}

const FIT_SIZES = [8, 32, 128] as const;

/** fit_ms_8, fit_ms_32, fit_ms_128 for the head's p = k·m and prior. */
export function fitterReport(
  head: Pick<Head, "k" | "m" | "prior">,
  budgetMs: number,
): { figures: Partial<Figures>; details: unknown; note: string } {
  const p = head.k * head.m;
  const timings = FIT_SIZES.map((n) => timeFit(p, n, head.prior, budgetMs));
  const [ms8, ms32, ms128] = timings.map((t) => round(t.medianMs, 3));
  return {
    figures: { fit_ms_8: ms8!, fit_ms_32: ms32!, fit_ms_128: ms128! },
    details: timings.map((t) => ({ n: t.n, runs: t.runs, method: t.method, prior: t.prior })),
    note:
      `fit_ms_n: the onboarding fit on planted pair statistics (p = k·m = ${p}, the head's ` +
      "prior, strength by the Laplace evidence, accuracy cross-validated at it), median after " +
      "warm-up; fit_e2e_ms_32: POST " +
      "/v1/users/:user/fit with 32 never-seen pairs, so the backbone runs for all 64 texts.",
  };
}

export type EndToEndFit = { ms: number; runs: number } | { ms: null; note: string };

const POLL_MS = 25;
const POLL_LIMIT_MS = 120_000;

/**
 * POST /v1/users/:user/fit with fresh pairs (so the backbone runs for every text), timed from
 * the request to the fitted answer; a 202 (background job) is polled at its status_url until done.
 */
export async function timeEndToEndFit(
  client: JsonClient,
  user: (run: number) => string,
  pairsFor: (run: number) => BenchText[][],
  runs: number,
): Promise<EndToEndFit> {
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const pairs = pairsFor(run).map(([chosen, rejected]) => ({
      prompt: chosen!.prompt,
      chosen: chosen!.response,
      rejected: rejected!.response,
    }));
    const started = performance.now();
    let response = await client.post(`/v1/users/${user(run)}/fit`, { pairs });
    if (response.status === 404 && problemCode(response) === "NOT_FOUND") {
      return { ms: null, note: "POST /v1/users/:user/fit answered 404 (no such route yet)" };
    }
    if (response.status === 202) response = await pollJob(client, response);
    if (response.status < 200 || response.status >= 300) {
      return {
        ms: null,
        note: `POST /v1/users/:user/fit answered ${response.status}: ${JSON.stringify(response.body).slice(0, 200)}`,
      };
    }
    times.push(performance.now() - started);
  }
  return { ms: median(times), runs };
}

function problemCode(response: HttpResponse): unknown {
  return (response.body as { code?: unknown } | null)?.code;
}

async function pollJob(client: JsonClient, accepted: HttpResponse): Promise<HttpResponse> {
  const body = accepted.body as { status_url?: unknown } | null;
  const location =
    typeof body?.status_url === "string" ? body.status_url : accepted.headers["location"];
  if (typeof location !== "string") {
    return { ...accepted, status: 599, body: "202 Accepted without a status_url to poll" };
  }
  const path = new URL(location, "http://localhost").pathname;
  const started = performance.now();
  while (performance.now() - started < POLL_LIMIT_MS) {
    const state = await client.get(path);
    const job = state.body as { phase?: unknown; result?: unknown } | null;
    if (state.status !== 200) return state;
    if (job?.phase === "failed") return { ...state, status: 500 };
    if (job?.phase === "done") return { ...state, body: job.result };
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return { ...accepted, status: 599, body: `the fit job was not done after ${POLL_LIMIT_MS} ms` };
}
