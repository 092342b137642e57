import type { FeatureEngine, FeatureOptions, TextPair } from "../inference/engine.js";
import type { CachedFeatures } from "../inference/feature-cache.js";
import { personalReward } from "../inference/head-math.js";
import { sigmoid, softmax } from "../math/logistic.js";
import { ServiceError } from "./errors.js";
import type { ItemTexts, ScoreItem } from "./item-texts.js";
import type {
  AdapterLookup,
  Comparison,
  Personalization,
  Ranking,
  ScoreMatrix,
  Scores,
  ScoringAdapter,
  ScoringOptions,
  UnknownUserPolicy,
} from "./scores.js";
import type { Uncertainty } from "./uncertainty.js";

/** Who a text is scored for, and the request field that named them. */
interface Subject {
  user: string | undefined;
  field: string;
}

interface Scored {
  /** One per text. */
  personalizations: Personalization[];
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
  readonly #unknownUser: UnknownUserPolicy;
  readonly modelId: string;

  constructor(options: {
    engine: FeatureEngine;
    adapters: AdapterLookup;
    headHash: string;
    modelId: string;
    texts: ItemTexts;
    uncertainty: Uncertainty;
    unknownUser?: UnknownUserPolicy;
  }) {
    this.#engine = options.engine;
    this.#adapters = options.adapters;
    this.#headHash = options.headHash;
    this.#texts = options.texts;
    this.#uncertainty = options.uncertainty;
    this.#unknownUser = options.unknownUser ?? "global";
    this.modelId = options.modelId;
  }

  async personalization(
    user: string | undefined,
    posterior = false,
    options: { unknownUser?: UnknownUserPolicy | undefined; field?: string } = {},
  ): Promise<Personalization> {
    if (user === undefined)
      return { user: null, adapter: undefined, personalized: false, staleAdapter: false };
    const adapter: ScoringAdapter | undefined = await (posterior
      ? this.#adapters.get(user)
      : this.#adapters.weights(user));
    const possiblyStale = this.#adapters.healthy?.() === false;
    if (adapter === undefined) {
      if ((options.unknownUser ?? this.#unknownUser) === "error") {
        throw new ServiceError("UNKNOWN_USER", `No adapter is stored for user ${user}`, {
          field: options.field ?? "user",
        });
      }
      return { user, adapter: undefined, personalized: false, staleAdapter: false, possiblyStale };
    }
    if (adapter.headHash !== this.#headHash) {
      return { user, adapter: undefined, personalized: false, staleAdapter: true, possiblyStale };
    }
    return { user, adapter, personalized: true, staleAdapter: false, possiblyStale };
  }

  /** Rewards of (prompt, response) texts, without pessimism. */
  async rewards(
    user: string | undefined,
    pairs: readonly TextPair[],
    options: Pick<FeatureOptions, "signal" | "truncate">,
  ): Promise<Scores> {
    const { scored, personalization } = await this.#scoreForOne(user, pairs, options);
    return {
      personalization,
      rewards: scored.rewards,
      truncated: scored.features.map((f) => f.truncated),
      tokens: scored.features.map((f) => f.tokens),
    };
  }

  /**
   * Rewards of request items (`items[i]`), each for its own `user` or the request's, lowered by
   * β·σ under pessimism.
   */
  async score(
    user: string | undefined,
    items: readonly ScoreItem[],
    options: ScoringOptions,
  ): Promise<Scores> {
    const top = { user, field: options.userField ?? "user" };
    const subjects = items.map((item, i) =>
      item.user === undefined
        ? top
        : { user: item.user, field: item.userField ?? `items[${i}].user` },
    );
    const pairs = items.map((item, i) => ({
      ...this.#texts.render(item, `items[${i}]`),
      field: `items[${i}]`,
    }));
    const beta = options.pessimism;
    const scored = await this.#score(subjects, pairs, options, beta !== undefined);
    const scores: Scores = {
      personalization: await this.#top(scored, top, options, beta !== undefined),
      rewards: scored.rewards,
      truncated: scored.features.map((f) => f.truncated),
      tokens: scored.features.map((f) => f.tokens),
    };
    if (items.some((item) => item.user !== undefined)) scores.items = scored.personalizations;
    if (beta === undefined) return scores;
    const uncertainty = scored.features.map((f, i) =>
      this.#uncertainty.sigma(scored.personalizations[i]!.adapter?.posterior, f.proj),
    );
    scores.rewards = scored.rewards.map((r, i) => r - beta * uncertainty[i]!);
    scores.uncertainty = uncertainty;
    return scores;
  }

  /**
   * Every item for every listed user (`users[u]`): the texts go through the backbone once, and each
   * user adds k·m multiply-adds per item and one adapter lookup.
   */
  async scoreMatrix(
    users: readonly string[],
    items: readonly ScoreItem[],
    options: ScoringOptions,
  ): Promise<ScoreMatrix> {
    const pairs = items.map((item, i) => ({
      ...this.#texts.render(item, `items[${i}]`),
      field: `items[${i}]`,
    }));
    const beta = options.pessimism;
    const posterior = beta !== undefined;
    const [personalizations, features] = await Promise.all([
      this.#personalizations(
        users.map((user, u) => ({ user, field: `users[${u}]` })),
        posterior,
        options.unknownUser,
      ),
      this.#engine.features(pairs, featureOptions(options)),
    ]);
    const rewards = personalizations.map((p) =>
      features.map((f) => personalReward(f.base, f.proj, p.adapter?.W)),
    );
    const matrix: ScoreMatrix = {
      users: personalizations,
      rewards,
      truncated: features.map((f) => f.truncated),
    };
    if (beta === undefined) return matrix;
    matrix.uncertainty = personalizations.map((p) =>
      features.map((f) => this.#uncertainty.sigma(p.adapter?.posterior, f.proj)),
    );
    matrix.rewards = rewards.map((row, u) =>
      row.map((r, i) => r - beta * matrix.uncertainty![u]![i]!),
    );
    return matrix;
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
    const { scored, personalization } = await this.#scoreForOne(user, texts, options);
    const posterior = personalization.adapter?.posterior;
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
    return { personalization, results };
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
    const { scored, personalization } = await this.#scoreForOne(user, texts, options);
    const posterior = personalization.adapter?.posterior;
    const rewards =
      beta === undefined
        ? scored.rewards
        : scored.features.map(
            (f, i) => scored.rewards[i]! - beta * this.#uncertainty.sigma(posterior, f.proj),
          );
    const order = rewards.map((_, i) => i).sort((a, b) => rewards[b]! - rewards[a]! || a - b);
    return {
      personalization,
      order,
      rewards,
      probabilities: softmax(rewards),
      truncated: scored.features.map((f) => f.truncated),
    };
  }

  /** Texts all scored for one user (with their posterior under pessimism), and who that is. */
  async #scoreForOne(
    user: string | undefined,
    texts: readonly TextPair[],
    options: ScoringOptions,
  ): Promise<{ scored: Scored; personalization: Personalization }> {
    const posterior = options.pessimism !== undefined;
    const subject = { user, field: options.userField ?? "user" };
    // (prompt, response) as the model encodes it: unchanged for a pair model, the conversation
    // [user: prompt, assistant: response] rendered by the template for a sequence model.
    const rendered = texts.map((text) => ({
      ...this.#texts.render({ prompt: text.prompt, response: text.response }, text.field ?? "item"),
      ...(text.field === undefined ? {} : { field: text.field }),
    }));
    const scored = await this.#score(
      texts.map(() => subject),
      rendered,
      options,
      posterior,
    );
    return { scored, personalization: await this.#top(scored, subject, options, posterior) };
  }

  async #score(
    subjects: readonly Subject[],
    pairs: readonly TextPair[],
    options: ScoringOptions,
    posterior: boolean,
  ): Promise<Scored> {
    const [personalizations, features] = await Promise.all([
      this.#personalizations(subjects, posterior, options.unknownUser),
      this.#engine.features(pairs, featureOptions(options)),
    ]);
    const rewards = features.map((f, i) =>
      personalReward(f.base, f.proj, personalizations[i]!.adapter?.W),
    );
    return { personalizations, features, rewards };
  }

  /** One lookup per distinct user; an unknown user's error names the first field naming them. */
  #personalizations(
    subjects: readonly Subject[],
    posterior: boolean,
    unknownUser: UnknownUserPolicy | undefined,
  ): Promise<Personalization[]> {
    const byUser = new Map<string | undefined, Promise<Personalization>>();
    return Promise.all(
      subjects.map(({ user, field }) => {
        let found = byUser.get(user);
        if (found === undefined) {
          found = this.personalization(user, posterior, { unknownUser, field });
          byUser.set(user, found);
        }
        return found;
      }),
    );
  }

  /** The request's own user: already looked up when some text was scored for them. */
  #top(
    scored: Scored,
    subject: Subject,
    options: ScoringOptions,
    posterior: boolean,
  ): Promise<Personalization> {
    const found = scored.personalizations.find((p) => p.user === (subject.user ?? null));
    if (found !== undefined) return Promise.resolve(found);
    return this.personalization(subject.user, posterior, {
      unknownUser: options.unknownUser,
      field: subject.field,
    });
  }
}

function featureOptions(options: Pick<FeatureOptions, "signal" | "truncate">): FeatureOptions {
  const out: FeatureOptions = {};
  if (options.signal !== undefined) out.signal = options.signal;
  if (options.truncate !== undefined) out.truncate = options.truncate;
  return out;
}
