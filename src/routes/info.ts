import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Config } from "../config.js";
import type { AppState } from "../http/app-state.js";
import { problem } from "../schemas/common.js";

const infoResponse = z.object({
  service: z.literal("sharelora"),
  version: z.string(),
  model: z.object({
    id: z.string(),
    d: z.number().int(),
    m: z.number().int(),
    max_length: z.number().int(),
    tokenizer: z.string(),
    encoding: z
      .enum(["pair", "sequence"])
      .describe(
        "pair: items are encoded as (prompt, response) with the tokenizer's pair template; sequence: each item is one text, conversations rendered whole by the chat template",
      ),
    pooling: z.string(),
    backbone_sha256: z.string(),
  }),
  head: z.object({
    hash: z.string(),
    k: z.number().int(),
    has_population_prior: z.boolean(),
    basis: z
      .enum(["trained", "calibration-pca", "none"])
      .optional()
      .describe(
        "Where B came from: trained by fit, principal directions of calibration texts, or none (B = 0: onboarding is refused until fit); absent for heads that do not record it",
      ),
  }),
  provider: z.string().describe("Execution provider running the backbone: cpu or cuda:N"),
  limits: z.object({
    max_items: z.number().int(),
    max_text_chars: z.number().int(),
    max_batch_tokens: z.number().int(),
    max_batch_size: z.number().int(),
    body_limit_bytes: z.number().int(),
  }),
});

export const infoRoutes: FastifyPluginAsyncZod<{
  state: AppState;
  config: Config;
  version?: string;
}> = async (app, { state, config }) => {
  app.get(
    "/v1/info",
    {
      schema: {
        summary: "Model, head, execution provider and limits",
        tags: ["info"],
        response: { 200: infoResponse, 503: problem },
      },
    },
    async () => {
      const runtime = state.require();
      const { manifest, head } = runtime;
      return {
        service: "sharelora" as const,
        version: state.version,
        model: {
          id: manifest.id,
          d: manifest.d,
          m: manifest.m,
          max_length: manifest.max_length,
          tokenizer: manifest.tokenizer.type,
          encoding: manifest.encoding,
          pooling: manifest.pooling,
          backbone_sha256: runtime.backboneSha256,
        },
        head: {
          hash: head.hash,
          k: head.k,
          has_population_prior: head.prior !== undefined,
          ...(head.basis === undefined ? {} : { basis: head.basis }),
        },
        provider: runtime.backend.provider,
        limits: {
          max_items: config.maxItems,
          max_text_chars: config.maxTextChars,
          max_batch_tokens: config.maxBatchTokens,
          max_batch_size: config.maxBatchSize,
          body_limit_bytes: config.bodyLimitBytes,
        },
      };
    },
  );
};
