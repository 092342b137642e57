import { z } from "zod";
import { type Limits, preferencePair } from "../domain/preference-pair.js";

export function fitRequest(limits: Limits) {
  return z
    .object({
      pairs: z
        .array(preferencePair(limits))
        .min(1)
        .describe("The user's comparisons: chosen ≻ rejected"),
      mode: z
        .enum(["append", "replace"])
        .default("append")
        .describe("append: refit on every pair given so far; replace: forget earlier pairs"),
      l2: z
        .number()
        .positive()
        .optional()
        .describe(
          "Prior strength (λ, or τ with a population prior); when left out, the one of highest Laplace evidence (with a log-normal hyperprior around 1)",
        ),
    })
    .strict();
}

export const fitResult = z.object({
  user: z.string(),
  version: z.number().int(),
  n_pairs: z.number().int().describe("Pairs the adapter is fitted on (stored ones plus new ones)"),
  train_accuracy: z.number(),
  cv_accuracy: z
    .number()
    .describe(
      "Cross-validated held-out accuracy at the chosen strength (leave-one-out when n ≤ 24, else 5-fold)",
    ),
  global_accuracy: z.number().describe("Accuracy of the global reward on the same pairs"),
  log_likelihood: z.number().describe("Σ log σ(margin) over the pairs at the fitted W"),
  l2: z.number().describe("The prior strength used"),
  prior: z.enum(["isotropic", "population"]),
  duration_ms: z.number(),
});

export const fitAccepted = z.object({
  job_id: z.string(),
  status_url: z.string(),
  n_new_pairs: z.number().int(),
});

export const jobStatus = z.object({
  job_id: z.string(),
  user: z.string(),
  phase: z.enum(["queued", "features", "fitting", "done", "failed"]),
  progress: z.object({ done: z.number().int(), total: z.number().int() }),
  result: fitResult.optional(),
  error: z.object({ code: z.string(), detail: z.string() }).optional(),
  created_at: z.string(),
  updated_at: z.string(),
});
