import { z } from "zod";
import { type Limits, messages, text } from "../domain/preference-pair.js";

export { type Limits, messages, text } from "../domain/preference-pair.js";

import { userId } from "../domain/user-id.js";

export { userId };

const itemUser = userId
  .optional()
  .describe("Score this item for this user instead of the request's `user`");

export function scoredItem(limits: Limits) {
  return z.union([
    z
      .object({
        prompt: text(limits, "Prompt"),
        response: text(limits, "Response to score"),
        user: itemUser,
      })
      .strict(),
    z.object({ messages: messages(limits), user: itemUser }).strict(),
    z
      .object({
        text: text(
          limits,
          "A sequence already rendered by the caller (chat template applied, special tokens spelled out), scored as it stands",
        ),
        user: itemUser,
      })
      .strict(),
  ]);
}

export const unknownUser = z
  .enum(["global", "error"])
  .optional()
  .describe(
    "A user without an adapter: global (the global reward, personalized: false) or error (404 naming the user); default: the server's --unknown-user",
  );

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

export const personalizationOf = {
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

export const personalization = {
  model: z.string().describe("Model id"),
  ...personalizationOf,
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
