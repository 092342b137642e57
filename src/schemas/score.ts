import { z } from "zod";
import {
  type Limits,
  personalization,
  personalizationOf,
  pessimism,
  scoredItem,
  text,
  truncate,
  unknownUser,
  userId,
} from "./common.js";

export interface ScoreLimits extends Limits {
  maxUsers: number;
}

export function scoreRequest(limits: ScoreLimits) {
  return z
    .object({
      user: userId.optional(),
      users: z
        .array(userId)
        .min(1)
        .max(limits.maxUsers)
        .optional()
        .describe(
          "Score every item for every listed user: rewards becomes one row per user (the texts go through the backbone once)",
        ),
      items: z.array(scoredItem(limits)).min(1).max(limits.maxItems),
      pessimism,
      truncate,
      unknown_user: unknownUser,
    })
    .strict();
}

const truncatedItems = z
  .array(z.boolean())
  .describe("Whether each item was cut to the model's max_length");

export const scoreResponse = z.object({
  ...personalization,
  rewards: z
    .array(z.number())
    .describe("One reward per item (lower confidence bounds when pessimism > 0)"),
  truncated: truncatedItems,
  uncertainty: z
    .array(z.number())
    .optional()
    .describe("Posterior standard deviation σ(x) per item"),
  item_personalization: z
    .array(z.object(personalizationOf))
    .optional()
    .describe("Who each item was scored for, present when some item names its own user"),
});

export const scoreMatrixResponse = z.object({
  model: z.string().describe("Model id"),
  users: z
    .array(z.object(personalizationOf))
    .describe("The listed users, in request order, and whether each one's adapter was applied"),
  rewards: z
    .array(z.array(z.number()))
    .describe("rewards[u][i]: the reward of item i for users[u]"),
  truncated: truncatedItems,
  uncertainty: z
    .array(z.array(z.number()))
    .optional()
    .describe("uncertainty[u][i]: posterior standard deviation of rewards[u][i]"),
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
      unknown_user: unknownUser,
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
      unknown_user: unknownUser,
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
