import { z } from "zod";
import { type Limits, personalization, text, truncate, userId } from "./common.js";

export const MAX_TOKENS_PER_ITEM = 32768;

const logprobs = (description: string) =>
  z.array(z.number()).min(1).max(MAX_TOKENS_PER_ITEM).describe(description);

export function shapedRequest(limits: Limits) {
  return z
    .object({
      user: userId.optional(),
      items: z
        .array(
          z
            .object({
              prompt: text(limits, "Prompt"),
              response: text(limits, "Response"),
              policy_logprobs: logprobs(
                "log π(token) of each response token under the policy (≤ 0)",
              ),
              ref_logprobs: logprobs(
                "log π_ref(token) of each response token under the reference (≤ 0)",
              ),
            })
            .strict(),
        )
        .min(1)
        .max(limits.maxItems),
      estimator: z
        .enum(["kl", "abs", "k2", "k3", "js", "none"])
        .describe(
          "Per-token penalty: kl = l, abs = |l|, k2 = ½l², k3 = (ρ−1)−log ρ, js = one-sample Jensen-Shannon",
        ),
      beta: z.number().min(0).describe("Penalty weight β ≥ 0"),
      truncate,
    })
    .strict();
}

export const shapedResponse = z.object({
  ...personalization,
  items: z.array(
    z.object({
      reward: z.number().describe("The personalized reward of the response"),
      penalties: z.array(z.number()).describe("Per-token penalty"),
      shaped: z
        .array(z.number())
        .describe("−β·penalty per token, plus the reward at the last token"),
      total: z.number().describe("Sum of shaped"),
      truncated: z.boolean(),
    }),
  ),
});
