import type { Adapter } from "../adapters/types.js";
import type { FeatureEngine, TextPair } from "../inference/engine.js";
import type { Head } from "../model/head-file.js";
import { posteriorBelief, priorBelief } from "../training/active/belief.js";
import {
  pairKey,
  type QueryBelief,
  type QueryStrategy,
  selectQueries,
} from "../training/active/query-selection.js";
import { InferenceError, ServiceError } from "./errors.js";
import type { ItemTexts } from "./item-texts.js";
import { sharedBasisCheck } from "./shared-basis.js";
import { PRIOR_LAMBDA } from "./uncertainty.js";

export interface QueryCandidate {
  prompt: string;
  responses: readonly string[];
}

export interface QueryRequest {
  candidates: readonly QueryCandidate[];
  n: number;
  strategy: QueryStrategy;
  exclude: readonly { candidate: number; a: number; b: number }[];
  seed: number;
}

export interface QueryAnswer {
  user: string;
  /** Whether the user's own posterior was used (false: the population prior). */
  personalized: boolean;
  adapter_version: number | null;
  stale_adapter: boolean;
  strategy: QueryStrategy;
  /** Pairs of responses the candidates offer, and how many of them `exclude` removed. */
  available_pairs: number;
  excluded_pairs: number;
  queries: {
    candidate: number;
    a: number;
    b: number;
    information_gain: number;
    p_a: number;
  }[];
}

interface AdapterSource {
  get(user: string): Promise<Adapter | undefined>;
}

/**
 * Active onboarding: which comparisons to ask a user next, so each answer teaches the most about
 * their W. The candidates' features come through the shared batcher at low priority and its
 * cache (texts already seen cost nothing); the user's belief is their adapter's Laplace posterior,
 * or the head's population prior for a user without one (or with a stale one).
 */
export class QueryService {
  readonly #engine: FeatureEngine;
  readonly #adapters: AdapterSource;
  readonly #head: Head;
  readonly #assertHasBasis: () => void;
  readonly #texts: ItemTexts;
  readonly #maxPairs: number;

  constructor(options: {
    engine: FeatureEngine;
    adapters: AdapterSource;
    head: Head;
    texts: ItemTexts;
    /** Most pairs the candidates may offer in one request: the selection's cost grows with them. */
    maxPairs: number;
  }) {
    this.#engine = options.engine;
    this.#adapters = options.adapters;
    this.#head = options.head;
    this.#assertHasBasis = sharedBasisCheck(options.head);
    this.#texts = options.texts;
    this.#maxPairs = options.maxPairs;
  }

  async choose(
    user: string,
    request: QueryRequest,
    options: { signal?: AbortSignal } = {},
  ): Promise<QueryAnswer> {
    this.#assertHasBasis();
    const { candidates } = request;
    let available = 0;
    for (const c of candidates) available += (c.responses.length * (c.responses.length - 1)) / 2;
    if (available > this.#maxPairs) {
      throw new ServiceError(
        "TOO_MANY_QUERY_PAIRS",
        `candidates: their responses make ${available} pairs, more than the ${this.#maxPairs} allowed in one request (--max-query-pairs)`,
        { field: "candidates" },
      );
    }
    const exclude = this.#excluded(request);
    const open = available - exclude.size;
    if (request.n > open) {
      throw new ServiceError(
        "INVALID_QUERY",
        `n: ${request.n} pairs asked for, but the candidates offer ${open} pairs not excluded (${available} in all)`,
        { field: "n" },
      );
    }
    const adapter = await this.#adapters.get(user);
    const texts: TextPair[] = [];
    const offsets = new Int32Array(candidates.length + 1);
    candidates.forEach((c, i) => {
      c.responses.forEach((response, r) => {
        const field = `candidates[${i}].responses[${r}]`;
        texts.push({ ...this.#texts.render({ prompt: c.prompt, response }, field), field });
      });
      offsets[i + 1] = texts.length;
    });
    const features = await this.#engine.features(texts, {
      priority: "low",
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const p = this.#head.k * this.#head.m;
    const base = new Float64Array(texts.length);
    const proj = new Float64Array(texts.length * p);
    features.forEach((f, t) => {
      base[t] = f.base;
      for (let i = 0; i < p; i++) proj[t * p + i] = f.proj[i]!;
      if (!Number.isFinite(f.base) || !f.proj.every(Number.isFinite)) {
        throw new InferenceError(
          "INFERENCE_FAILED",
          `the model gave non-finite features for ${texts[t]!.field} (an overflow in a float16 export?)`,
        );
      }
    });
    const fresh = adapter !== undefined && adapter.headHash === this.#head.hash;
    const picks = selectQueries(
      { p, base, proj, offsets },
      this.#belief(fresh ? adapter : undefined),
      {
        n: request.n,
        strategy: request.strategy,
        exclude,
        seed: request.seed,
      },
    );
    return {
      user,
      personalized: fresh,
      adapter_version: fresh ? adapter.version : null,
      stale_adapter: adapter !== undefined && !fresh,
      strategy: request.strategy,
      available_pairs: available,
      excluded_pairs: exclude.size,
      queries: picks.map((q) => ({
        candidate: q.candidate,
        a: q.a,
        b: q.b,
        information_gain: q.gain,
        p_a: q.pA,
      })),
    };
  }

  #belief(adapter: Adapter | undefined): QueryBelief {
    const p = this.#head.k * this.#head.m;
    if (adapter?.posterior !== undefined) {
      return posteriorBelief(adapter.W, adapter.posterior.cholesky, p);
    }
    const prior = priorBelief(this.#head.prior, p, PRIOR_LAMBDA);
    if (adapter !== undefined) prior.mean.set(adapter.W);
    return prior;
  }

  /** The excluded pairs as keys, each checked against the candidates (field paths on failure). */
  #excluded(request: QueryRequest): Set<string> {
    const keys = new Set<string>();
    request.exclude.forEach((pair, i) => {
      const candidate = request.candidates[pair.candidate];
      if (candidate === undefined) {
        throw new ServiceError(
          "INVALID_QUERY",
          `exclude[${i}].candidate: ${pair.candidate} is not an index of candidates (0 to ${request.candidates.length - 1})`,
          { field: `exclude[${i}].candidate` },
        );
      }
      for (const side of ["a", "b"] as const) {
        if (pair[side] >= candidate.responses.length) {
          throw new ServiceError(
            "INVALID_QUERY",
            `exclude[${i}].${side}: ${pair[side]} is not an index of candidates[${pair.candidate}].responses (0 to ${candidate.responses.length - 1})`,
            { field: `exclude[${i}].${side}` },
          );
        }
      }
      if (pair.a === pair.b) {
        throw new ServiceError("INVALID_QUERY", `exclude[${i}]: a and b must differ`, {
          field: `exclude[${i}].b`,
        });
      }
      keys.add(pairKey(pair.candidate, pair.a, pair.b));
    });
    return keys;
  }
}
