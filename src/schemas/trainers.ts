import { z } from "zod";
import { type Limits, text, truncate, unknownUser } from "./common.js";

/**
 * OpenRLHF's remote reward model (`--remote_rm_url`): one sample per POST from current clients,
 * `query` alone from older ones. Fields OpenRLHF may add later are ignored.
 */
export function getRewardRequest(limits: Limits) {
  // An empty batch is valid: OpenRLHF shards each batch over every --remote_rm_url it is given.
  const texts = (description: string) => z.array(text(limits, description)).max(limits.maxItems);
  return z
    .object({
      query: texts("Prompt + response, decoded with special tokens left in"),
      prompts: texts("The templated prompt of each query").optional(),
      labels: z
        .array(z.unknown())
        .optional()
        .describe(
          'The dataset\'s label column: a user id string, or an object with a "user" field, picks the user',
        ),
      unknown_user: unknownUser,
      truncate,
    })
    .superRefine((body, context) => {
      for (const key of ["prompts", "labels"] as const) {
        const list = body[key];
        if (list !== undefined && list.length !== body.query.length) {
          context.addIssue({
            code: "custom",
            path: [key],
            message: `expected ${body.query.length} entries, one per query, got ${list.length}`,
          });
        }
      }
    });
}

export const getRewardResponse = z.object({
  rewards: z.array(z.number()).describe("Reward of each query, in query order"),
  scores: z.array(z.number()).describe("σ(reward), in [0, 1], for OpenRLHF's dynamic filtering"),
  extra_logs: z
    .object({
      personalized: z.array(z.number()).describe("1 when the user's adapter was applied, else 0"),
      adapter_version: z
        .array(z.number())
        .describe("Version of the applied adapter, 0 for the global reward"),
      prompt_matched: z
        .array(z.number())
        .describe("1 when the prompt was a prefix of the query and was split off, else 0"),
    })
    .describe("Numbers per sample, which OpenRLHF logs next to the rewards"),
});

/** vLLM's pooling `/classify`, as verl's reward loop sends it. Other vLLM fields are ignored. */
export function classifyRequest(limits: Limits) {
  return z.object({
    model: z
      .string()
      .min(1)
      .max(512)
      .optional()
      .describe('A served model name, or "<name>:<user>" to score for a user; default: the model'),
    input: z
      .union([text(limits, "A rendered text"), z.array(text(limits, "A rendered text"))])
      .describe("A rendered text or a list of them")
      .refine(
        (input) =>
          typeof input === "string" || (input.length >= 1 && input.length <= limits.maxItems),
        {
          message: `expected 1 to ${limits.maxItems} texts`,
        },
      ),
    use_activation: z
      .boolean()
      .optional()
      .describe("true (vLLM's default): probs holds σ(reward); false: the raw reward"),
    activation: z.boolean().optional().describe("Older vLLM name of use_activation"),
    add_special_tokens: z
      .boolean()
      .optional()
      .describe(
        "Whether the tokenizer adds its special tokens; models that encode (prompt, response) pairs always use their pair template",
      ),
    unknown_user: unknownUser,
  });
}

export const classifyResponse = z.object({
  id: z.string(),
  object: z.literal("list"),
  created: z.number().int().describe("Unix time in seconds"),
  model: z.string(),
  data: z.array(
    z.object({
      index: z.number().int(),
      label: z.string(),
      probs: z.array(z.number()).describe("One entry: the reward, or σ(reward) with activation"),
      num_classes: z.number().int(),
    }),
  ),
  usage: z.object({
    prompt_tokens: z.number().int(),
    total_tokens: z.number().int(),
    completion_tokens: z.number().int(),
    prompt_tokens_details: z.null(),
  }),
});
