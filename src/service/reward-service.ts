import type { Adapter, AdapterPosterior, AdapterWeights } from "../adapters/types.js";
import { toProblemError } from "../errors.js";
import type { FeatureEngine, FeatureOptions, TextPair } from "../inference/engine.js";
import type { CachedFeatures } from "../inference/feature-cache.js";
import { personalReward } from "../inference/head-math.js";

export interface AdapterLookup {
  get(user: string): Promise<Adapter | undefined>;
  weights(user: string): Promise<AdapterWeights | undefined>;
  /** false while the adapter store is unreachable: what get() answers from memory may be stale. */
  healthy?(): boolean;
}

/** What scoring applies: W, plus the posterior when uncertainty was asked for. */
export type ScoringAdapter = AdapterWeights & { posterior?: AdapterPosterior };

export interface ScoreOptions extends FeatureOptions {
  /** Load the adapter's posterior too (for uncertainty); otherwise only W is read. */
  posterior?: boolean;
}

export interface Personalization {
  user: string | null;
  adapter: ScoringAdapter | undefined;
  personalized: boolean;
  staleAdapter: boolean;
  /** The store was unreachable: the adapter (or its absence) came from memory and may be outdated. */
  possiblyStale?: boolean;
}

export interface Scored {
  personalization: Personalization;
  features: CachedFeatures[];
  rewards: number[];
}

/**
 * Route-facing façade: resolves the user's adapter and the texts' features concurrently, then adds
 * the user's term. An adapter fitted against another head is never applied: the global reward is
 * served with `stale_adapter: true`.
 */
export class RewardService {
  readonly #engine: FeatureEngine;
  readonly #adapters: AdapterLookup;
  readonly #headHash: string;
  readonly modelId: string;

  constructor(options: {
    engine: FeatureEngine;
    adapters: AdapterLookup;
    headHash: string;
    modelId: string;
  }) {
    this.#engine = options.engine;
    this.#adapters = options.adapters;
    this.#headHash = options.headHash;
    this.modelId = options.modelId;
  }

  get engine(): FeatureEngine {
    return this.#engine;
  }

  async personalization(user: string | undefined, posterior = false): Promise<Personalization> {
    if (user === undefined)
      return { user: null, adapter: undefined, personalized: false, staleAdapter: false };
    let adapter: ScoringAdapter | undefined;
    try {
      adapter = await (posterior ? this.#adapters.get(user) : this.#adapters.weights(user));
    } catch (error) {
      throw toProblemError(error);
    }
    const possiblyStale = this.#adapters.healthy?.() === false;
    if (adapter === undefined)
      return { user, adapter: undefined, personalized: false, staleAdapter: false, possiblyStale };
    if (adapter.headHash !== this.#headHash) {
      return { user, adapter: undefined, personalized: false, staleAdapter: true, possiblyStale };
    }
    return { user, adapter, personalized: true, staleAdapter: false, possiblyStale };
  }

  async score(
    user: string | undefined,
    pairs: readonly TextPair[],
    options: ScoreOptions,
  ): Promise<Scored> {
    const { posterior = false, ...featureOptions } = options;
    const [personalization, features] = await Promise.all([
      this.personalization(user, posterior),
      this.#engine.features(pairs, featureOptions),
    ]);
    const W = personalization.adapter?.W;
    const rewards = features.map((f) => personalReward(f.base, f.proj, W));
    return { personalization, features, rewards };
  }
}
