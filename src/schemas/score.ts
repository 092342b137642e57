import { z } from "zod";
import {
  type Limits,
  personalization,
  pessimism,
  scoredItem,
  text,
  truncate,
  userId,
} from "./common.js";

export function scoreRequest(limits: Limits) {
  return z
    .object({
      user: userId.optional(),
      items: z.array(scoredItem(limits)).min(1).max(limits.maxItems),
      pessimism,
      truncate,
    })
    .strict();
}

export const scoreResponse = z.object({
  ...personalization,
  rewards: z
    .array(z.number())
    .describe("One reward per item (lower confidence bounds when pessimism > 0)"),
  truncated: z.array(z.boolean()).describe("Whether each item was cut to the model's max_length"),
  uncertainty: z
    .array(z.number())
    .optional()
    .describe("Posterior standard deviation σ(x) per item"),
});

export function compareRequest(limits: Limits) {
  return z
    .object({
      user: userId.optional(),
      pairs: z
        .array(
          z
            .object({
              prompt: text(limits, "Prompt"),
              a: text(limits, "First response"),
              b: text(limits, "Second response"),
            })
            .strict(),
        )
        .min(1)
        .max(limits.maxItems),
      pessimism,
      truncate,
    })
    .strict();
}

export const compareResponse = z.object({
  ...personalization,
  results: z.array(
    z.object({
      p_a: z.number().describe("P(a ≻ b) = σ(margin)"),
      margin: z.number().describe("r(a) − r(b)"),
      p_a_lcb: z.number().optional().describe("σ(margin − β·σ_Δ), present when pessimism is given"),
      truncated: z.boolean().optional(),
    }),
  ),
});

export function rankRequest(limits: Limits) {
  return z
    .object({
      user: userId.optional(),
      prompt: text(limits, "Prompt"),
      responses: z.array(text(limits, "Candidate response")).min(1).max(limits.maxItems),
      pessimism,
      truncate,
    })
    .strict();
}

export const rankResponse = z.object({
  ...personalization,
  order: z.array(z.number().int()).describe("Indices of responses, best first"),
  rewards: z.array(z.number()).describe("Reward of each response, in request order"),
  probabilities: z
    .array(z.number())
    .describe("softmax(rewards): Plackett-Luce probability that each response is chosen first"),
  truncated: z.array(z.boolean()),
});
