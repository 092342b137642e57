import { benchUserId } from "./adapters.js";
import type { Durations } from "./options.js";
import type { Figures } from "./result.js";
import { perRequest, rates, type Sample, sampled } from "./samples.js";
import { cycling, usersLoad, warmFeatures } from "./scenarios.js";
import type { ChildServer } from "./server.js";
import { median, ratioOfMedians, round } from "./stats.js";
import { type BenchText, benchTexts } from "./texts.js";

export const USERS_10K = 10_000;
const WARM_TEXTS = 64;
const CACHED_CONCURRENCY = 32;

export interface UsersOutcome {
  figures: Partial<Figures>;
  details: Record<string, unknown>;
  notes: string[];
}

/**
 * One user on a default server (`hot`: its adapter stays cached) against 10k users on a server
 * with a 1-byte adapter cache and no negative cache (`cold`: every request reads and decodes the
 * user's file), on the same texts, already in both feature caches, so the adapter path is all
 * that differs.
 */
export class UsersComparison {
  readonly #hot: ChildServer;
  readonly #cold: ChildServer;
  readonly #durations: Durations;
  readonly #warmTexts: BenchText[] = benchTexts("w", 0, WARM_TEXTS);
  #nextColdUser = 0;
  readonly #one: Sample[] = [];
  readonly #many: Sample[] = [];

  constructor(hot: ChildServer, cold: ChildServer, durations: Durations) {
    this.#hot = hot;
    this.#cold = cold;
    this.#durations = durations;
  }

  /** Fills both feature caches with the texts and runs both adapter paths once, unmeasured. */
  async warm(): Promise<void> {
    await warmFeatures(this.#hot.client, this.#warmTexts);
    await warmFeatures(this.#cold.client, this.#warmTexts);
    const warm = { concurrency: CACHED_CONCURRENCY, durationMs: this.#durations.serverWarmupMs };
    const texts = cycling(this.#warmTexts);
    await usersLoad(this.#hot.client, () => benchUserId(0), texts, warm);
    await usersLoad(
      this.#cold.client,
      (n) => benchUserId(USERS_10K - 1 - (n % USERS_10K)),
      texts,
      warm,
    );
  }

  /** One, 10k, 10k, one (so a drift in the machine's load favours neither side). */
  async round(): Promise<void> {
    const settings = { concurrency: CACHED_CONCURRENCY, durationMs: this.#durations.usersMs / 2 };
    const texts = cycling(this.#warmTexts);
    await this.#runOne(texts, settings);
    await this.#runMany(texts, settings);
    await this.#runMany(texts, settings);
    await this.#runOne(texts, settings);
  }

  outcome(): UsersOutcome {
    const figures: Partial<Figures> = {};
    const details: Record<string, unknown> = {};
    if (this.#many.length === 0) return { figures, details, notes: [] };
    figures.one_user_scores_per_s = round(median(rates(this.#one)), 1);
    figures.users_10k_scores_per_s = round(median(rates(this.#many)), 1);
    figures.ratio_10k_users = round(ratioOfMedians(rates(this.#many), rates(this.#one)), 3);
    details["users_10k"] = {
      one_user_runs: rates(this.#one),
      users_10k_runs: rates(this.#many),
      one_user_adapter_hits_per_request: perRequest(
        this.#one,
        "sharelora_adapter_cache_hits_total",
      ),
      users_10k_adapter_loads_per_request: perRequest(
        this.#many,
        "sharelora_adapter_cache_misses_total",
      ),
      distinct_users_scored: Math.min(USERS_10K, this.#coldRequests()),
    };
    const notes = [
      `ratio_10k_users: both sides score the same ${WARM_TEXTS} texts, put in the feature caches ` +
        `first, one text per request, ${CACHED_CONCURRENCY} in flight, so the adapter path is all ` +
        "that differs: one user on a default server (adapter cached) against 10k users on a " +
        "server with --adapter-cache-bytes 1 --negative-cache-ms 0 (each request reads and " +
        "decodes the user's file, on the store's reader thread by default), alternating one, " +
        "10k, 10k, one.",
    ];
    return { figures, details, notes };
  }

  #coldRequests(): number {
    return this.#many.reduce((n, s) => n + s.load.requests, 0);
  }

  async #runOne(
    textOf: (n: number) => BenchText,
    settings: Parameters<typeof usersLoad>[3],
  ): Promise<void> {
    const hot = this.#hot;
    this.#one.push(
      await sampled(hot, -1, () => usersLoad(hot.client, () => benchUserId(0), textOf, settings)),
    );
  }

  async #runMany(
    textOf: (n: number) => BenchText,
    settings: Parameters<typeof usersLoad>[3],
  ): Promise<void> {
    const cold = this.#cold;
    const offset = this.#nextColdUser;
    const userOf = (n: number) => benchUserId((offset + n) % USERS_10K);
    const sample = await sampled(cold, -1, () => usersLoad(cold.client, userOf, textOf, settings));
    this.#nextColdUser = (offset + sample.load.requests) % USERS_10K;
    this.#many.push(sample);
  }
}
