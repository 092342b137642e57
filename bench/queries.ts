import type { JsonClient } from "./http-client.js";
import { median } from "./stats.js";
import { benchTexts } from "./texts.js";

export const QUERY_PROMPTS = 64;
export const QUERY_RESPONSES = 8;
export const QUERY_N = 8;

export type QueryTiming = { ms: number; runs: number } | { ms: null; note: string };

/**
 * POST /v1/users/:user/queries choosing 8 pairs from 64 prompts × 8 responses (1,792 pairs),
 * timed from request to answer once every text is in the feature cache (one untimed request
 * first computes them), for a user without an adapter (the population prior).
 */
export async function timeQueries(
  client: JsonClient,
  user: string,
  runs: number,
): Promise<QueryTiming> {
  const texts = benchTexts("q", 0, QUERY_PROMPTS * QUERY_RESPONSES);
  const candidates = Array.from({ length: QUERY_PROMPTS }, (_, c) => ({
    prompt: texts[c * QUERY_RESPONSES]!.prompt,
    responses: texts.slice(c * QUERY_RESPONSES, (c + 1) * QUERY_RESPONSES).map((t) => t.response),
  }));
  const body = { candidates, n: QUERY_N, strategy: "information" };
  const warm = await client.post(`/v1/users/${user}/queries`, body);
  if (warm.status !== 200) {
    return {
      ms: null,
      note: `POST /v1/users/:user/queries answered ${warm.status}: ${JSON.stringify(warm.body).slice(0, 200)}`,
    };
  }
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    const res = await client.post(`/v1/users/${user}/queries`, body);
    if (res.status !== 200) return { ms: null, note: `run ${run} answered ${res.status}` };
    times.push(performance.now() - started);
  }
  return { ms: median(times), runs };
}
