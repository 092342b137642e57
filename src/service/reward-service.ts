import type { Adapter } from "../adapters/types.js";
import { toProblemError } from "../errors.js";
import type { FeatureEngine, FeatureOptions, TextPair } from "../inference/engine.js";
import type { CachedFeatures } from "../inference/feature-cache.js";
import { personalReward } from "../inference/head-math.js";

export interface AdapterLookup {
  get(user: string): Promise<Adapter | undefined>;
  /** false while the adapter store is unreachable: what get() answers from memory may be stale. */
  healthy?(): boolean;
}

export interface Personalization {
  user: string | null;
  adapter: Adapter | undefined;
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

  async personalization(user: string | undefined): Promise<Personalization> {
    if (user === undefined)
      return { user: null, adapter: undefined, personalized: false, staleAdapter: false };
    let adapter: Adapter | undefined;
    try {
      adapter = await this.#adapters.get(user);
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
    options: FeatureOptions,
  ): Promise<Scored> {
    const [personalization, features] = await Promise.all([
      this.personalization(user),
      this.#engine.features(pairs, options),
    ]);
    const W = personalization.adapter?.W;
    const rewards = features.map((f) => personalReward(f.base, f.proj, W));
    return { personalization, features, rewards };
  }
}
