import type { AdapterDraft } from "./types.js";

/** A user's W as fitted against a head, with what the fit measured. */
export interface FittedAdapter {
  head: { hash: string; k: number; m: number };
  /** vec(W), k·m; stored as float32. */
  W: Float64Array;
  /** The pairs W was fitted on (g n×k·m, o n), kept so that a later `append` fit continues. */
  pairs: { g: Float64Array; o: Float64Array; n: number };
  /** The fit at W: Cholesky factor of the posterior precision, training accuracy, log-likelihood. */
  fit: { cholesky: Float64Array; trainAccuracy: number; logLikelihood: number };
  /** Prior strength (λ, or τ for a population prior): the l2 metric and the posterior's lambda. */
  strength: number;
  cvAccuracy: number;
  /** Accuracy of the head alone (W = 0) on the pairs. */
  globalAccuracy: number;
}

/** The draft an update stores for a fitted adapter. */
export function adapterDraft(fitted: FittedAdapter): AdapterDraft {
  const { head, pairs, fit, strength } = fitted;
  return {
    headHash: head.hash,
    k: head.k,
    m: head.m,
    W: Float32Array.from(fitted.W),
    nPairs: pairs.n,
    metrics: {
      train_accuracy: fit.trainAccuracy,
      cv_accuracy: fitted.cvAccuracy,
      global_accuracy: fitted.globalAccuracy,
      log_likelihood: fit.logLikelihood,
      l2: strength,
    },
    posterior: { cholesky: fit.cholesky, lambda: strength },
    pairs: { g: Float32Array.from(pairs.g), o: Float32Array.from(pairs.o) },
  };
}
