import type { Adapter, AdapterPosterior, AdapterWeights } from "../adapters/types.js";
import type { FeatureEngine, FeatureOptions, TextPair } from "../inference/engine.js";
import type { CachedFeatures } from "../inference/feature-cache.js";
import { personalReward, sigmoid, softmax } from "../inference/head-math.js";
import type { RewardItem } from "../inference/render.js";
import type { ItemTexts } from "./item-texts.js";
import type { Uncertainty } from "./uncertainty.js";

export interface AdapterLookup {
  get(user: string): Promise<Adapter | undefined>;
  weights(user: string): Promise<AdapterWeights | undefined>;
  /** false while the adapter store is unreachable: what get() answers from memory may be stale. */
  healthy?(): boolean;
}

/** What scoring applies: W, plus the posterior when uncertainty was asked for. */
export type ScoringAdapter = AdapterWeights & { posterior?: AdapterPosterior };

export interface Personalization {
  user: string | null;
  adapter: ScoringAdapter | undefined;
  personalized: boolean;
  staleAdapter: boolean;
  /** The store was unreachable: the adapter (or its absence) came from memory and may be outdated. */
  possiblyStale?: boolean;
}

export interface ScoringOptions extends Pick<FeatureOptions, "signal" | "truncate"> {
  /** β ≥ 0: rewards become lower confidence bounds r − β·σ under the user's posterior. */
  pessimism?: number | undefined;
}

export interface Scores {
  personalization: Personalization;
  rewards: number[];
  truncated: boolean[];
  /** σ of each reward, when pessimism was asked for. */
  uncertainty?: number[];
}

export interface Comparison {
  p_a: number;
  margin: number;
  /** σ(margin − β·σ_Δ), the pessimistic probability, when pessimism was asked for. */
  p_a_lcb?: number;
  truncated?: boolean;
}

export interface Ranking {
  personalization: Personalization;
  /** Indices of the responses, best first (ties keep their order). */
  order: number[];
  rewards: number[];
  /** Plackett-Luce probability of each response being ranked first: softmax of the rewards. */
  probabilities: number[];
  truncated: boolean[];
}

interface Scored {
  personalization: Personalization;
  features: CachedFeatures[];
  rewards: number[];
}

/**
 * Scoring semantics, free of HTTP: resolves the user's adapter and the texts' features
 * concurrently, adds the user's term, and derives comparisons, rankings and pessimistic bounds.
 * An adapter fitted against another head is never applied: the global reward is served with
 * `staleAdapter` set.
 */
export class ScoringService {
  readonly #engine: FeatureEngine;
  readonly #adapters: AdapterLookup;
  readonly #headHash: string;
  readonly #texts: ItemTexts;
  readonly #uncertainty: Uncertainty;
  readonly modelId: string;

  constructor(options: {
    engine: FeatureEngine;
    adapters: AdapterLookup;
    headHash: string;
    modelId: string;
    texts: ItemTexts;
    uncertainty: Uncertainty;
  }) {
    this.#engine = options.engine;
    this.#adapters = options.adapters;
    this.#headHash = options.headHash;
    this.#texts = options.texts;
    this.#uncertainty = options.uncertainty;
    this.modelId = options.modelId;
  }

  async personalization(user: string | undefined, posterior = false): Promise<Personalization> {
    if (user === undefined)
      return { user: null, adapter: undefined, personalized: false, staleAdapter: false };
    const adapter: ScoringAdapter | undefined = await (posterior
      ? this.#adapters.get(user)
      : this.#adapters.weights(user));
    const possiblyStale = this.#adapters.healthy?.() === false;
    if (adapter === undefined)
      return { user, adapter: undefined, personalized: false, staleAdapter: false, possiblyStale };
    if (adapter.headHash !== this.#headHash) {
      return { user, adapter: undefined, personalized: false, staleAdapter: true, possiblyStale };
    }
    return { user, adapter, personalized: true, staleAdapter: false, possiblyStale };
  }

  /** Rewards of (prompt, response) texts as they stand, without pessimism. */
  async rewards(
    user: string | undefined,
    pairs: readonly TextPair[],
    options: Pick<FeatureOptions, "signal" | "truncate">,
  ): Promise<Scores> {
    const scored = await this.#score(user, pairs, options, false);
    return {
      personalization: scored.personalization,
      rewards: scored.rewards,
      truncated: scored.features.map((f) => f.truncated),
    };
  }

  /** Rewards of request items (`items[i]`), lowered by β·σ under pessimism. */
  async score(
    user: string | undefined,
    items: readonly RewardItem[],
    options: ScoringOptions,
  ): Promise<Scores> {
    const pairs = items.map((item, i) => ({
      ...this.#texts.render(item, `items[${i}]`),
      field: `items[${i}]`,
    }));
    const beta = options.pessimism;
    const scored = await this.#score(user, pairs, options, beta !== undefined);
    const truncated = scored.features.map((f) => f.truncated);
    if (beta === undefined) {
      return { personalization: scored.personalization, rewards: scored.rewards, truncated };
    }
    const uncertainty = this.#sigmas(scored);
    return {
      personalization: scored.personalization,
      rewards: scored.rewards.map((r, i) => r - beta * uncertainty[i]!),
      truncated,
      uncertainty,
    };
  }

  /** Bradley-Terry P(a ≻ b) of each pair; under pessimism also σ(margin − β·σ_Δ). */
  async compare(
    user: string | undefined,
    pairs: readonly { prompt: string; a: string; b: string }[],
    options: ScoringOptions,
  ): Promise<{ personalization: Personalization; results: Comparison[] }> {
    const texts = pairs.flatMap((pair, i) => [
      { prompt: pair.prompt, response: pair.a, field: `pairs[${i}].a` },
      { prompt: pair.prompt, response: pair.b, field: `pairs[${i}].b` },
    ]);
    const beta = options.pessimism;
    const scored = await this.#score(user, texts, options, beta !== undefined);
    const posterior = scored.personalization.adapter?.posterior;
    const results = pairs.map((_, i) => {
      const fa = scored.features[2 * i]!;
      const fb = scored.features[2 * i + 1]!;
      const margin = scored.rewards[2 * i]! - scored.rewards[2 * i + 1]!;
      const result: Comparison = { p_a: sigmoid(margin), margin };
      if (beta !== undefined) {
        const diff = new Float32Array(fa.proj.length);
        for (let j = 0; j < diff.length; j++) diff[j] = fa.proj[j]! - fb.proj[j]!;
        result.p_a_lcb = sigmoid(margin - beta * this.#uncertainty.sigma(posterior, diff));
      }
      if (fa.truncated || fb.truncated) result.truncated = true;
      return result;
    });
    return { personalization: scored.personalization, results };
  }

  /** Candidate responses to one prompt, best first, with Plackett-Luce first-place probabilities. */
  async rank(
    user: string | undefined,
    prompt: string,
    responses: readonly string[],
    options: ScoringOptions,
  ): Promise<Ranking> {
    const texts = responses.map((response, i) => ({ prompt, response, field: `responses[${i}]` }));
    const beta = options.pessimism;
    const scored = await this.#score(user, texts, options, beta !== undefined);
    const rewards =
      beta === undefined
        ? scored.rewards
        : this.#sigmas(scored).map((sigma, i) => scored.rewards[i]! - beta * sigma);
    const order = rewards.map((_, i) => i).sort((a, b) => rewards[b]! - rewards[a]! || a - b);
    return {
      personalization: scored.personalization,
      order,
      rewards,
      probabilities: softmax(rewards),
      truncated: scored.features.map((f) => f.truncated),
    };
  }

  async #score(
    user: string | undefined,
    pairs: readonly TextPair[],
    options: Pick<FeatureOptions, "signal" | "truncate">,
    posterior: boolean,
  ): Promise<Scored> {
    const featureOptions: FeatureOptions = {};
    if (options.signal !== undefined) featureOptions.signal = options.signal;
    if (options.truncate !== undefined) featureOptions.truncate = options.truncate;
    const [personalization, features] = await Promise.all([
      this.personalization(user, posterior),
      this.#engine.features(pairs, featureOptions),
    ]);
    const W = personalization.adapter?.W;
    const rewards = features.map((f) => personalReward(f.base, f.proj, W));
    return { personalization, features, rewards };
  }

  #sigmas(scored: Scored): number[] {
    const posterior = scored.personalization.adapter?.posterior;
    return scored.features.map((f) => this.#uncertainty.sigma(posterior, f.proj));
  }
}
