/** What the scoring service takes and answers, and the user it scores for. */
import type { Adapter, AdapterPosterior, AdapterWeights } from "../adapters/types.js";
import type { FeatureOptions } from "../inference/engine.js";
import { sigmoid } from "../math/logistic.js";

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

/** σ(r): the Bradley-Terry probability that a text beats one of reward 0, in [0, 1]. */
export function rewardProbability(reward: number): number {
  return sigmoid(reward);
}

/** What a user without an adapter gets: the global reward, or an UNKNOWN_USER error. */
export type UnknownUserPolicy = "global" | "error";

export interface ScoringOptions extends Pick<FeatureOptions, "signal" | "truncate"> {
  /** β ≥ 0: rewards become lower confidence bounds r − β·σ under the user's posterior. */
  pessimism?: number | undefined;
  /** Default: the service's own policy. */
  unknownUser?: UnknownUserPolicy | undefined;
  /** The request field that named the request's user, for errors; default "user". */
  userField?: string;
}

export interface Scores {
  personalization: Personalization;
  rewards: number[];
  truncated: boolean[];
  /** Tokens each text took in the backbone (after truncation). */
  tokens: number[];
  /** σ of each reward, when pessimism was asked for. */
  uncertainty?: number[];
  /** Who each item was scored for, when some item names its own user. */
  items?: Personalization[];
}

export interface ScoreMatrix {
  /** The listed users, in order. */
  users: Personalization[];
  /** rewards[u][i]: item i for users[u]. */
  rewards: number[][];
  truncated: boolean[];
  uncertainty?: number[][];
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
