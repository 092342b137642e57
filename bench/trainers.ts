import { benchUserId } from "./adapters.js";
import type { JsonClient, TimedResponse } from "./http-client.js";
import { type LoadResult, runLoad } from "./load.js";
import type { Durations } from "./options.js";
import type { Figures } from "./result.js";
import { scoreBody, type TextCursor, warmFeatures } from "./scenarios.js";
import type { ChildServer } from "./server.js";
import { median, round } from "./stats.js";
import { type BenchText, benchTexts } from "./texts.js";

/** OpenRLHF's remote reward model: clients in flight, one sample per POST /get_reward. */
export const OPENRLHF_CONCURRENCY = 256;
/** The users the samples are labelled with, in turn (bench adapters, cached after warm-up). */
export const OPENRLHF_USERS = 8;
export const MATRIX_USERS = 1000;
export const MATRIX_TEXTS = 64;

/** OpenRLHF's body for one sample: the rendered query, its prompt, the user as its label. */
export function getRewardBody(text: BenchText, user: string): unknown {
  return {
    query: [text.prompt + text.response],
    prompts: [text.prompt],
    labels: [user],
  };
}

/** Why a /get_reward answer for one labelled sample is wrong, or undefined when it is right. */
export function checkGetReward(body: unknown): string | undefined {
  const b = body as {
    rewards?: unknown;
    extra_logs?: { personalized?: unknown; prompt_matched?: unknown };
  };
  const fine =
    Array.isArray(b?.rewards) &&
    b.rewards.length === 1 &&
    typeof b.rewards[0] === "number" &&
    Array.isArray(b.extra_logs?.personalized) &&
    b.extra_logs.personalized[0] === 1 &&
    Array.isArray(b.extra_logs?.prompt_matched) &&
    b.extra_logs.prompt_matched[0] === 1;
  return fine
    ? undefined
    : `expected one personalized reward with its prompt split off, got ${JSON.stringify(body).slice(0, 200)}`;
}

/**
 * OpenRLHF's pattern: `concurrency` clients each POST one never-seen sample to /get_reward,
 * labelled with one of `users` in turn; every sample costs a backbone pass. Units are texts.
 */
export function openrlhfLoad(
  client: JsonClient,
  cursor: TextCursor,
  users: readonly string[],
  concurrency: number,
  length: { durationMs: number; minBursts: number; maxDurationMs: number },
): Promise<LoadResult> {
  let n = 0;
  return runLoad({
    client,
    concurrency,
    ...length,
    next: () => {
      const [text] = cursor.take(1);
      return {
        path: "/get_reward",
        body: getRewardBody(text!, users[n++ % users.length]!),
        units: 1,
      };
    },
    check: checkGetReward,
  });
}

export function matrixBody(users: readonly string[], texts: readonly BenchText[]): unknown {
  return { users, items: (scoreBody(texts) as { items: unknown[] }).items };
}

/**
 * Why a /v1/score answer with `users` is wrong: it must hold a row of `items` rewards for each
 * of `users`, in order, every one of them personalized.
 */
export function checkMatrix(
  body: unknown,
  users: readonly string[],
  items: number,
): string | undefined {
  const b = body as { users?: unknown; rewards?: unknown };
  if (!Array.isArray(b?.users) || !Array.isArray(b.rewards)) {
    return `expected users and rewards, got ${JSON.stringify(body).slice(0, 200)}`;
  }
  if (b.users.length !== users.length || b.rewards.length !== users.length) {
    return `expected ${users.length} users and rows, got ${b.users.length} and ${b.rewards.length}`;
  }
  for (let u = 0; u < users.length; u++) {
    const who = b.users[u] as { user?: unknown; personalized?: unknown };
    if (who?.user !== users[u] || who.personalized !== true) {
      return `users[${u}]: expected ${users[u]}, personalized, got ${JSON.stringify(who)}`;
    }
    const row = b.rewards[u] as unknown;
    if (!Array.isArray(row) || row.length !== items || row.some((r) => typeof r !== "number")) {
      return `rewards[${u}]: expected ${items} numbers`;
    }
  }
  return undefined;
}

/** Why a one-user /v1/score answer for `items` texts is wrong. */
export function checkOneUser(body: unknown, user: string, items: number): string | undefined {
  const b = body as { user?: unknown; personalized?: unknown; rewards?: unknown };
  return b?.user === user &&
    b.personalized === true &&
    Array.isArray(b.rewards) &&
    b.rewards.length === items
    ? undefined
    : `expected ${items} personalized rewards for ${user}, got ${JSON.stringify(body).slice(0, 200)}`;
}

/** User-scores per second of requests that each score `users × items`, from their times. */
export function userScoresPerS(users: number, items: number, ms: readonly number[]): number {
  return (users * items * 1000) / median(ms);
}

/**
 * The end-to-end ratio as the cached requests predict it: one user's never-seen-text time plus
 * what 999 more users add on cached texts (many − one), over that time. Far less noisy than the
 * measured ratio on a loaded machine, where backbone time swings between runs.
 */
export function e2eRatioFromCached(manyCachedMs: number, oneCachedMs: number, oneE2eMs: number) {
  return (oneE2eMs + manyCachedMs - oneCachedMs) / oneE2eMs;
}

export interface MatrixOutcome {
  figures: Partial<Figures>;
  details: Record<string, unknown>;
  notes: string[];
}

/**
 * 1,000 users with adapters (cached once warm) in one POST /v1/score with `users`:
 * - on MATRIX_TEXTS texts already in the feature cache, user-scores per second (the per-user
 *   work and the answer alone);
 * - on never-seen texts, end to end, against the same request for one user (`user`), run in
 *   pairs, one-many then many-one (the other way round every other round), so a drift in the
 *   machine's load favours neither side.
 */
export class MatrixComparison {
  readonly #client: JsonClient;
  readonly #durations: Durations;
  readonly #cursor: TextCursor;
  readonly #users = Array.from({ length: MATRIX_USERS }, (_, i) => benchUserId(i));
  readonly #one = benchUserId(0);
  readonly #cached = benchTexts("mc", 0, MATRIX_TEXTS);
  readonly #cachedPayload = JSON.stringify(matrixBody(this.#users, this.#cached));
  readonly #cachedOnePayload = JSON.stringify(scoreBody(this.#cached, this.#one));
  readonly #cachedOneMs: number[] = [];
  /** Per round: times (ms to the last byte) of the cached-text requests. */
  readonly #cachedRuns: number[][] = [];
  readonly #parseMs: number[] = [];
  #answerBytes = 0;
  readonly #oneMs: number[] = [];
  readonly #manyMs: number[] = [];

  constructor(server: ChildServer, cursor: TextCursor, durations: Durations) {
    this.#client = server.client;
    this.#cursor = cursor;
    this.#durations = durations;
  }

  /**
   * The cached texts into the feature cache, every user's adapter into the adapter cache (the
   * first request reads 1,000 files), and both request shapes run once, unmeasured.
   */
  async warm(): Promise<void> {
    await warmFeatures(this.#client, this.#cached);
    await this.#cachedRequest();
    await this.#cachedRequest();
    await this.#oneUser();
    await this.#manyUsers();
  }

  async round(): Promise<void> {
    // One untimed request first: whatever ran in between (other phases) may have left garbage.
    await this.#cachedRequest();
    const times: number[] = [];
    for (let i = 0; i < this.#durations.matrixRequests; i++) {
      // Each next to the same cached texts for one user, which times what 999 more users add.
      if (i % 2 === 1) this.#cachedOneMs.push((await this.#cachedOneUser()).ms);
      const answer = await this.#cachedRequest();
      times.push(answer.ms);
      this.#parseMs.push(answer.parseMs);
      this.#answerBytes = answer.bytes;
      if (i % 2 === 0) this.#cachedOneMs.push((await this.#cachedOneUser()).ms);
    }
    this.#cachedRuns.push(times);
    // An untimed never-seen request first, so the pairs start from the same state every round.
    await this.#oneUser();
    const roundIndex = this.#cachedRuns.length - 1;
    for (let pair = 0; pair < this.#durations.matrixPairs; pair++) {
      if ((roundIndex + pair) % 2 === 0) {
        this.#oneMs.push((await this.#oneUser()).ms);
        this.#manyMs.push((await this.#manyUsers()).ms);
      } else {
        this.#manyMs.push((await this.#manyUsers()).ms);
        this.#oneMs.push((await this.#oneUser()).ms);
      }
    }
  }

  outcome(): MatrixOutcome {
    const figures: Partial<Figures> = {};
    const details: Record<string, unknown> = {};
    const cached = this.#cachedRuns.flat();
    if (cached.length === 0) return { figures, details, notes: [] };
    figures.matrix_user_scores_per_s = round(userScoresPerS(MATRIX_USERS, MATRIX_TEXTS, cached), 0);
    figures.one_user_e2e_ms_64 = round(median(this.#oneMs), 1);
    figures.users_1000_e2e_ms_64 = round(median(this.#manyMs), 1);
    figures.ratio_1000_users_e2e = round(median(this.#manyMs) / median(this.#oneMs), 3);
    const r1 = (xs: readonly number[]) => xs.map((x) => round(x, 1));
    const paired = this.#manyMs.map((ms, i) => round(ms / this.#oneMs[i]!, 3));
    details["matrix"] = {
      cached_ms_by_round: this.#cachedRuns.map(r1),
      cached_median_ms: round(median(cached), 1),
      user_scores_per_s_by_round: this.#cachedRuns.map((ms) =>
        round(userScoresPerS(MATRIX_USERS, MATRIX_TEXTS, ms), 0),
      ),
      cached_one_user_median_ms: round(median(this.#cachedOneMs), 2),
      client_parse_median_ms: round(median(this.#parseMs), 1),
      answer_bytes: this.#answerBytes,
      e2e_one_user_ms: r1(this.#oneMs),
      e2e_1000_users_ms: r1(this.#manyMs),
      e2e_paired_ratios: paired,
      e2e_median_paired_ratio: round(median(paired), 3),
      e2e_ratio_from_cached: round(
        e2eRatioFromCached(median(cached), median(this.#cachedOneMs), median(this.#oneMs)),
        3,
      ),
    };
    const notes = [
      `matrix_user_scores_per_s: one POST /v1/score with users = ${MATRIX_USERS} users whose ` +
        `adapters are cached × ${MATRIX_TEXTS} texts already in the feature cache, ` +
        `${MATRIX_USERS}·${MATRIX_TEXTS} over the median request time (sent to the last byte ` +
        "of the answer; the client's JSON.parse of it is details.matrix.client_parse_median_ms).",
      `ratio_1000_users_e2e: ${MATRIX_TEXTS} never-seen texts for the same ${MATRIX_USERS} users ` +
        "in one request over the same request for one user (user), time over time, ratio of " +
        "medians of pairs run one-many, many-one (details.matrix.e2e_paired_ratios: each pair; " +
        "e2e_ratio_from_cached: the one-user time plus what the 999 other users add on cached " +
        "texts, over the one-user time).",
    ];
    return { figures, details, notes };
  }

  async #cachedRequest(): Promise<TimedResponse> {
    const answer = await this.#client.postTimed("/v1/score", this.#cachedPayload);
    return this.#checked(answer, checkMatrix(answer.body, this.#users, MATRIX_TEXTS));
  }

  async #cachedOneUser(): Promise<TimedResponse> {
    const answer = await this.#client.postTimed("/v1/score", this.#cachedOnePayload);
    return this.#checked(answer, checkOneUser(answer.body, this.#one, MATRIX_TEXTS));
  }

  async #oneUser(): Promise<TimedResponse> {
    const payload = JSON.stringify(scoreBody(this.#cursor.take(MATRIX_TEXTS), this.#one));
    const answer = await this.#client.postTimed("/v1/score", payload);
    return this.#checked(answer, checkOneUser(answer.body, this.#one, MATRIX_TEXTS));
  }

  async #manyUsers(): Promise<TimedResponse> {
    const payload = JSON.stringify(matrixBody(this.#users, this.#cursor.take(MATRIX_TEXTS)));
    const answer = await this.#client.postTimed("/v1/score", payload);
    return this.#checked(answer, checkMatrix(answer.body, this.#users, MATRIX_TEXTS));
  }

  #checked(answer: TimedResponse, problem: string | undefined): TimedResponse {
    if (answer.status !== 200) {
      throw new Error(
        `POST /v1/score answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 300)}`,
      );
    }
    if (problem !== undefined) throw new Error(`POST /v1/score: ${problem}`);
    return answer;
  }
}
