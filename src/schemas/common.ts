import { z } from "zod";

export const USER_ID_PATTERN = /^[A-Za-z0-9._:@-]{1,128}$/;

export interface Limits {
  maxItems: number;
  maxTextChars: number;
}

export const DEFAULT_LIMITS: Limits = { maxItems: 256, maxTextChars: 32768 };

export const userId = z
  .string()
  .regex(USER_ID_PATTERN, "expected 1-128 characters of A-Z a-z 0-9 . _ : @ -")
  .describe("User id: 1-128 characters of [A-Za-z0-9._:@-]");

export function text(limits: Limits, description: string) {
  return z
    .string()
    .max(limits.maxTextChars, `longer than ${limits.maxTextChars} characters`)
    .refine((s) => s.isWellFormed(), "contains a lone UTF-16 surrogate")
    .describe(description);
}

export const role = z.enum(["system", "user", "assistant"]);

export function messages(limits: Limits) {
  return z
    .array(z.object({ role, content: text(limits, "Message content") }).strict())
    .min(1)
    .max(limits.maxItems)
    .describe("Chat messages; the last one is the response and must be the assistant's");
}

export function scoredItem(limits: Limits) {
  return z.union([
    z
      .object({ prompt: text(limits, "Prompt"), response: text(limits, "Response to score") })
      .strict(),
    z.object({ messages: messages(limits) }).strict(),
  ]);
}

export const pessimism = z
  .number()
  .min(0)
  .max(1e6)
  .optional()
  .describe("β ≥ 0: rewards become lower confidence bounds r − β·σ; 0 changes nothing");

export const truncate = z
  .boolean()
  .default(true)
  .describe("false: a text longer than the model's max_length is a 400 instead of being truncated");

export const personalization = {
  model: z.string().describe("Model id"),
  user: z.string().nullable().describe("The user scored for, or null for the global reward"),
  personalized: z.boolean().describe("Whether the user's adapter was applied"),
  adapter_version: z.number().int().nullable().describe("Version of the applied adapter"),
  stale_adapter: z
    .boolean()
    .optional()
    .describe(
      "true: the user's adapter was fitted against another head, so the global reward was served",
    ),
  adapter_possibly_stale: z
    .boolean()
    .optional()
    .describe(
      "true: the adapter store was unreachable, so this replica answered from memory and may have missed a recent update of the user's adapter",
    ),
};

export const problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    field: z.string().optional(),
    instance: z.string().optional(),
  })
  .catchall(z.unknown())
  .describe("RFC 9457 problem details");

export const problemResponses = {
  400: problem,
  413: problem,
  415: problem,
  429: problem,
  500: problem,
  503: problem,
  504: problem,
};
