import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { AppState } from "../app.js";
import type { Config } from "../config.js";
import { raceSignal, requestSignal } from "../http/request-signal.js";
import { sigmoid, softmax } from "../math/logistic.js";
import { problemResponses } from "../schemas/common.js";
import {
  compareRequest,
  compareResponse,
  rankRequest,
  rankResponse,
  scoreRequest,
  scoreResponse,
} from "../schemas/score.js";
import { personalizationBody } from "./personalization-body.js";

export const scoringRoutes: FastifyPluginAsyncZod<{ state: AppState; config: Config }> = async (
  app,
  { state, config },
) => {
  const limits = { maxItems: config.maxItems, maxTextChars: config.maxTextChars };

  app.post(
    "/v1/score",
    {
      config: { backbone: true },
      schema: {
        summary: "Reward of each (prompt, response) item for a user, or the global reward",
        tags: ["scoring"],
        body: scoreRequest(limits),
        response: { 200: scoreResponse, ...problemResponses },
      },
    },
    async (request, reply) => {
      const runtime = state.require();
      const body = request.body;
      const signal = requestSignal(request, reply, config.requestTimeoutMs);
      const pairs = body.items.map((item, i) => ({
        ...runtime.render(item, `items[${i}]`),
        field: `items[${i}]`,
      }));
      const scored = await raceSignal(
        runtime.service.score(body.user, pairs, {
          signal,
          truncate: body.truncate,
          posterior: body.pessimism !== undefined,
        }),
        signal,
      );
      const beta = body.pessimism;
      const uncertainty =
        beta === undefined
          ? undefined
          : scored.features.map((f) => runtime.uncertainty(scored.personalization, f.proj));
      const rewards =
        uncertainty === undefined
          ? scored.rewards
          : scored.rewards.map((r, i) => r - beta! * uncertainty[i]!);
      return {
        ...personalizationBody(runtime.modelId, scored.personalization),
        rewards,
        truncated: scored.features.map((f) => f.truncated),
        ...(uncertainty === undefined ? {} : { uncertainty }),
      };
    },
  );

  app.post(
    "/v1/compare",
    {
      config: { backbone: true },
      schema: {
        summary: "Bradley-Terry probability that response a is preferred to b",
        tags: ["scoring"],
        body: compareRequest(limits),
        response: { 200: compareResponse, ...problemResponses },
      },
    },
    async (request, reply) => {
      const runtime = state.require();
      const body = request.body;
      const signal = requestSignal(request, reply, config.requestTimeoutMs);
      const pairs = body.pairs.flatMap((pair, i) => [
        { prompt: pair.prompt, response: pair.a, field: `pairs[${i}].a` },
        { prompt: pair.prompt, response: pair.b, field: `pairs[${i}].b` },
      ]);
      const scored = await raceSignal(
        runtime.service.score(body.user, pairs, {
          signal,
          truncate: body.truncate,
          posterior: body.pessimism !== undefined,
        }),
        signal,
      );
      const beta = body.pessimism;
      const results = body.pairs.map((_, i) => {
        const fa = scored.features[2 * i]!;
        const fb = scored.features[2 * i + 1]!;
        const margin = scored.rewards[2 * i]! - scored.rewards[2 * i + 1]!;
        const result: { p_a: number; margin: number; p_a_lcb?: number; truncated?: boolean } = {
          p_a: sigmoid(margin),
          margin,
        };
        if (beta !== undefined) {
          const diff = new Float32Array(fa.proj.length);
          for (let j = 0; j < diff.length; j++) diff[j] = fa.proj[j]! - fb.proj[j]!;
          const sigma = runtime.uncertainty(scored.personalization, diff);
          result.p_a_lcb = sigmoid(margin - beta * sigma);
        }
        if (fa.truncated || fb.truncated) result.truncated = true;
        return result;
      });
      return { ...personalizationBody(runtime.modelId, scored.personalization), results };
    },
  );

  app.post(
    "/v1/rank",
    {
      config: { backbone: true },
      schema: {
        summary: "Rank candidate responses to one prompt for a user",
        tags: ["scoring"],
        body: rankRequest(limits),
        response: { 200: rankResponse, ...problemResponses },
      },
    },
    async (request, reply) => {
      const runtime = state.require();
      const body = request.body;
      const signal = requestSignal(request, reply, config.requestTimeoutMs);
      const pairs = body.responses.map((response, i) => ({
        prompt: body.prompt,
        response,
        field: `responses[${i}]`,
      }));
      const scored = await raceSignal(
        runtime.service.score(body.user, pairs, {
          signal,
          truncate: body.truncate,
          posterior: body.pessimism !== undefined,
        }),
        signal,
      );
      const beta = body.pessimism;
      const rewards =
        beta === undefined
          ? scored.rewards
          : scored.rewards.map(
              (r, i) =>
                r - beta * runtime.uncertainty(scored.personalization, scored.features[i]!.proj),
            );
      const order = rewards.map((_, i) => i).sort((a, b) => rewards[b]! - rewards[a]! || a - b);
      return {
        ...personalizationBody(runtime.modelId, scored.personalization),
        order,
        rewards,
        probabilities: softmax(rewards),
        truncated: scored.features.map((f) => f.truncated),
      };
    },
  );
};
