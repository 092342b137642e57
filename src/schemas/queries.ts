import { z } from "zod";
import { type Limits, text } from "../domain/preference-pair.js";

const index = z.number().int().min(0);

export function queriesRequest(limits: Limits) {
  return z
    .object({
      candidates: z
        .array(
          z
            .object({
              prompt: text(limits, "Prompt"),
              responses: z
                .array(text(limits, "A response the user could be asked about"))
                .min(2)
                .max(limits.maxItems)
                .describe("Responses to the prompt; any two of them make a pair to ask"),
            })
            .strict(),
        )
        .min(1)
        .max(limits.maxItems)
        .describe("Prompts with responses to choose comparisons from"),
      n: z
        .number()
        .int()
        .min(1)
        .max(limits.maxItems)
        .describe("How many pairs to ask, at most the pairs the candidates offer outside exclude"),
      strategy: z
        .enum(["information", "uncertainty", "random"])
        .default("information")
        .describe(
          "information: greedy expected information gain about W, the posterior updated after each pick; " +
            "uncertainty: p_a closest to ½ (ties: larger predictive variance), no updates; random: a seeded draw",
        ),
      exclude: z
        .array(
          z
            .object({
              candidate: index.describe("Index into candidates"),
              a: index.describe("Index into the candidate's responses"),
              b: index.describe("Index into the candidate's responses"),
            })
            .strict(),
        )
        .max(4 * limits.maxItems * limits.maxItems)
        .default([])
        .describe("Pairs already asked, in either order: never chosen again"),
      seed: z
        .number()
        .int()
        .min(0)
        .max(2 ** 32 - 1)
        .default(0)
        .describe("Seed of the random strategy"),
    })
    .strict();
}

export const queriesResult = z.object({
  user: z.string(),
  personalized: z
    .boolean()
    .describe(
      "true: the user's own posterior; false: the population prior (no adapter, or a stale one)",
    ),
  adapter_version: z.number().int().nullable(),
  stale_adapter: z.boolean(),
  strategy: z.enum(["information", "uncertainty", "random"]),
  available_pairs: z.number().int().describe("Pairs the candidates offer"),
  excluded_pairs: z.number().int().describe("Distinct pairs of those that exclude removed"),
  queries: z
    .array(
      z.object({
        candidate: z.number().int(),
        a: z.number().int().describe("Index into the candidate's responses; a < b"),
        b: z.number().int(),
        information_gain: z
          .number()
          .describe(
            "Expected information (nats) the answer adds about W, given the answers to the pairs before it",
          ),
        p_a: z.number().describe("P(a ≻ b) under the user's current reward"),
      }),
    )
    .describe("The pairs to ask, in the order to ask them"),
});
