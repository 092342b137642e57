import { z } from "zod";

/** Bounds on what one request (or one line of training data) may carry. */
export interface Limits {
  maxItems: number;
  maxTextChars: number;
}

export const DEFAULT_LIMITS: Limits = { maxItems: 256, maxTextChars: 32768 };

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

/** A comparison chosen ≻ rejected, as TRL writes it: plain texts, or the conversational form. */
export function preferencePair(limits: Limits) {
  return z.union([
    z
      .object({
        prompt: text(limits, "Prompt"),
        chosen: text(limits, "Preferred response"),
        rejected: text(limits, "Rejected response"),
      })
      .strict(),
    z
      .object({
        prompt: messages(limits).describe(
          "Conversation before the answer (TRL conversational format)",
        ),
        chosen: messages(limits).describe(
          "Preferred answer messages (the last must be the assistant's)",
        ),
        rejected: messages(limits).describe(
          "Rejected answer messages (the last must be the assistant's)",
        ),
      })
      .strict(),
  ]);
}

export type PreferencePair = z.infer<ReturnType<typeof preferencePair>>;
