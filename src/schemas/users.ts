import { z } from "zod";
import { userId } from "./common.js";

export const userParams = z.object({ user: userId });

export const userMetadata = z.object({
  user: z.string(),
  version: z.number().int().describe("Monotonic per user; starts at 1 again after a DELETE"),
  head_hash: z.string().describe("Hash of the head the adapter was fitted against"),
  stale: z
    .boolean()
    .describe("true when head_hash is not the served head's: the adapter is not applied"),
  created_at: z.string(),
  updated_at: z.string(),
  k: z.number().int(),
  m: z.number().int(),
  n_pairs: z.number().int().describe("Preference pairs the adapter was fitted on"),
  stored_pairs: z.number().int().describe("Pair statistics kept for incremental refits"),
  has_posterior: z.boolean().describe("Whether the Laplace posterior (for pessimism) is stored"),
  metrics: z.record(z.string(), z.number()),
});

export const adapterImported = z.object({
  user: z.string(),
  version: z.number().int(),
  stale: z.boolean(),
});
