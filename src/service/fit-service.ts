import { adapterDraft } from "../adapters/adapter-draft.js";
import { isUnreadableAdapter } from "../adapters/errors.js";
import type { Adapter, AdapterStore } from "../adapters/types.js";
import type { FeatureEngine, TextPair } from "../inference/engine.js";
import { InferenceError } from "../inference/errors.js";
import type { CachedFeatures } from "../inference/feature-cache.js";
import type { Head } from "../model/head-file.js";
import { crossValidatePrior } from "../training/cross-validation.js";
import type { PriorSpec } from "../training/logistic-fit.js";
import { globalAccuracy, type PairStats } from "../training/logistic-fit.js";
import { fitWithEvidence } from "../training/prior-evidence.js";
import { AdapterError, ServiceError } from "./errors.js";
import { sharedBasisCheck } from "./shared-basis.js";

export interface FitRequest {
  chosen: readonly TextPair[];
  rejected: readonly TextPair[];
  mode: "append" | "replace";
  l2?: number | undefined;
}

export interface FitSummary {
  user: string;
  version: number;
  n_pairs: number;
  train_accuracy: number;
  cv_accuracy: number;
  global_accuracy: number;
  log_likelihood: number;
  l2: number;
  prior: "isotropic" | "population";
  duration_ms: number;
}

export interface FitProgress {
  phase: "features" | "fitting";
  done: number;
  total: number;
}

export interface FitObserver {
  onFit?(seconds: number, pairs: number, ok: boolean): void;
}

const FEATURE_CHUNK = 64;

/**
 * Onboards a user: features of both sides of every pair go through the shared batcher at low
 * priority, only each pair's statistics (g = P(chosen) − P(rejected), o = base(chosen) −
 * base(rejected)) are kept, and W is refitted with B frozen inside the store's per-user update, so
 * concurrent fits of one user are serialized and a failed fit leaves the old adapter untouched.
 */
export class FitService {
  readonly #engine: FeatureEngine;
  readonly #store: AdapterStore;
  readonly #head: Head;
  readonly #assertHasBasis: () => void;
  readonly #maxStoredPairs: number;
  readonly #observer: FitObserver;

  constructor(options: {
    engine: FeatureEngine;
    store: AdapterStore;
    head: Head;
    maxStoredPairs: number;
    observer?: FitObserver;
  }) {
    this.#engine = options.engine;
    this.#store = options.store;
    this.#head = options.head;
    this.#assertHasBasis = sharedBasisCheck(options.head);
    this.#maxStoredPairs = options.maxStoredPairs;
    this.#observer = options.observer ?? {};
  }

  get p(): number {
    return this.#head.k * this.#head.m;
  }

  async fit(
    user: string,
    request: FitRequest,
    options: { signal?: AbortSignal; onProgress?: (progress: FitProgress) => void } = {},
  ): Promise<FitSummary> {
    const started = performance.now();
    const n = request.chosen.length;
    try {
      await this.check(user, request.mode);
      const texts = [...request.chosen, ...request.rejected];
      const features: CachedFeatures[] = [];
      for (let i = 0; i < texts.length; i += FEATURE_CHUNK) {
        options.onProgress?.({ phase: "features", done: i, total: texts.length });
        const chunk = await this.#engine.features(texts.slice(i, i + FEATURE_CHUNK), {
          priority: "low",
          ...(options.signal ? { signal: options.signal } : {}),
        });
        features.push(...chunk);
      }
      options.onProgress?.({ phase: "fitting", done: texts.length, total: texts.length });
      const fresh = this.#pairStats(features.slice(0, n), features.slice(n));
      let summary: Omit<FitSummary, "user" | "version" | "duration_ms"> | undefined;
      const adapter = await this.#store
        .update(
          user,
          (current) => {
            if (request.mode === "append") this.#assertAppendable(user, current);
            const stats = this.#combine(current, fresh, request.mode);
            const result = this.#solve(stats, request.l2);
            summary = result.summary;
            return result.draft;
          },
          // A replace needs nothing of what is stored, so it may write over an unreadable adapter.
          { unreadable: request.mode === "replace" ? "replace" : "fail" },
        )
        .catch((error: unknown) => {
          throw withRepairHint(this.#unusableFit(error, request.l2));
        });
      const seconds = (performance.now() - started) / 1000;
      this.#observer.onFit?.(seconds, n, true);
      return { user, version: adapter.version, ...summary!, duration_ms: seconds * 1000 };
    } catch (error) {
      this.#observer.onFit?.((performance.now() - started) / 1000, n, false);
      if (isExpected(error)) throw error;
      throw new ServiceError("FIT_FAILED", "The fit failed; the previous adapter is unchanged", {
        cause: error,
      });
    }
  }

  /**
   * Fails at once, before any feature is computed, when a fit in `mode` cannot succeed: an append
   * to a stale adapter's stored pairs (STALE_ADAPTER) or to an unreadable one (ADAPTER_CORRUPT).
   * The same check runs again inside the store's update, where it is authoritative.
   */
  async check(user: string, mode: FitRequest["mode"]): Promise<void> {
    this.#assertHasBasis();
    if (mode !== "append") return;
    const current = await this.#store.get(user).catch((error: unknown) => {
      throw withRepairHint(error);
    });
    this.#assertAppendable(user, current);
  }

  /**
   * Stored pairs are g = P(chosen) − P(rejected) and o = base(chosen) − base(rejected) under the
   * head they were fitted on; under another head they mean nothing, and the texts they came from
   * are never stored, so they cannot be recomputed: an append must be sent again as a replace.
   */
  #assertAppendable(user: string, current: Adapter | undefined): void {
    if (current === undefined || current.headHash === this.#head.hash) return;
    const stored = current.pairs?.o.length ?? 0;
    if (stored === 0) return;
    throw new ServiceError(
      "STALE_ADAPTER",
      `The stored adapter of user ${user} was fitted against head ${current.headHash}, not the served head ${this.#head.hash}; ` +
        `its ${stored} stored pair statistics cannot be recomputed for this head because raw texts are never stored. ` +
        `Send all of the user's pairs again with "mode": "replace"`,
      { field: "mode" },
    );
  }

  /** The store refused the fit's own adapter: at a client's l2 that is the client's to change. */
  #unusableFit(error: unknown, l2: number | undefined): unknown {
    // A refusal of the draft's content names its field; one of its size (too many pairs) does not.
    if (!(error instanceof AdapterError && error.code === "INVALID_ADAPTER")) return error;
    if (l2 === undefined || error.field === undefined) return error;
    return new ServiceError(
      "INVALID_FIT",
      `At l2 = ${l2} the fit gives an adapter the server cannot use (${error.message}); choose another l2, or leave it out to have it cross-validated`,
      { field: "l2", cause: error },
    );
  }

  #pairStats(chosen: readonly CachedFeatures[], rejected: readonly CachedFeatures[]): PairStats {
    const p = this.p;
    const n = chosen.length;
    const g = new Float64Array(n * p);
    const o = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const c = chosen[j]!;
      const r = rejected[j]!;
      o[j] = c.base - r.base;
      for (let a = 0; a < p; a++) g[j * p + a] = c.proj[a]! - r.proj[a]!;
    }
    return { g, o, n, p };
  }

  /** Stored statistics of another head describe another subspace: they never reach here with an append. */
  #combine(current: Adapter | undefined, fresh: PairStats, mode: "append" | "replace"): PairStats {
    const p = this.p;
    const old =
      mode === "append" && current?.headHash === this.#head.hash ? current.pairs : undefined;
    const oldN = old ? old.o.length : 0;
    const total = Math.min(oldN + fresh.n, this.#maxStoredPairs);
    const skip = oldN + fresh.n - total;
    const g = new Float64Array(total * p);
    const o = new Float64Array(total);
    let row = 0;
    for (let j = skip; j < oldN + fresh.n; j++, row++) {
      if (j < oldN) {
        o[row] = old!.o[j]!;
        g.set(old!.g.subarray(j * p, (j + 1) * p), row * p);
      } else {
        const k = j - oldN;
        o[row] = fresh.o[k]!;
        g.set(fresh.g.subarray(k * p, (k + 1) * p), row * p);
      }
    }
    return { g, o, n: total, p };
  }

  #solve(stats: PairStats, l2: number | undefined) {
    const prior = this.#head.prior;
    const spec: PriorSpec = prior
      ? {
          kind: "population",
          mean: prior.mean,
          cov: prior.cov,
          ...(l2 === undefined ? {} : { tau: l2 }),
        }
      : { kind: "isotropic", ...(l2 === undefined ? {} : { lambda: l2 }) };
    const selected = fitWithEvidence(stats, spec);
    const strength =
      selected.prior.kind === "isotropic" ? selected.prior.lambda : selected.prior.tau;
    // The held-out accuracy at the chosen strength, reported beside the fit (no pairs: none).
    const cv =
      stats.n === 0
        ? { accuracy: 0 }
        : crossValidatePrior(
            stats,
            prior
              ? { kind: "population", mean: prior.mean, cov: prior.cov }
              : { kind: "isotropic" },
            {
              grid: [strength],
            },
          );
    const { fit } = selected;
    const draft = adapterDraft({
      head: this.#head,
      W: fit.w,
      pairs: stats,
      fit,
      strength,
      cvAccuracy: cv.accuracy,
      globalAccuracy: globalAccuracy(stats),
    });
    return {
      draft,
      summary: {
        n_pairs: stats.n,
        train_accuracy: fit.trainAccuracy,
        cv_accuracy: cv.accuracy,
        global_accuracy: globalAccuracy(stats),
        log_likelihood: fit.logLikelihood,
        l2: strength,
        prior: prior ? ("population" as const) : ("isotropic" as const),
      },
    };
  }
}

/** An unreadable stored adapter, saying how to get past it. */
function withRepairHint(error: unknown): unknown {
  if (!isUnreadableAdapter(error)) return error;
  return new AdapterError(
    error.code,
    `${error.message}. An append cannot build on it: a fit with "mode": "replace" (all of the user's pairs), an import or a DELETE replaces it`,
    { ...(error.user === undefined ? {} : { user: error.user }), cause: error },
  );
}

/** Failures with a meaning of their own for the client; anything else is the fit's own failure. */
function isExpected(error: unknown): boolean {
  return (
    error instanceof InferenceError ||
    error instanceof AdapterError ||
    error instanceof ServiceError ||
    (error instanceof Error && error.name === "AbortError")
  );
}
