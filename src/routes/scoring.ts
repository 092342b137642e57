import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Config } from "../config.js";
import type { AppState } from "../http/app-state.js";
import { raceSignal, requestSignal } from "../http/request-signal.js";
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
  const backbone = { backbone: true };

  app.post(
    "/v1/score",
    {
      config: backbone,
      schema: {
        summary: "Reward of each (prompt, response) item for a user, or the global reward",
        tags: ["scoring"],
        body: scoreRequest(limits),
        response: { 200: scoreResponse, ...problemResponses },
      },
    },
    async (request, reply) => {
      const runtime = state.require();
      const { user, items, truncate, pessimism } = request.body;
      const signal = requestSignal(request, reply, config.requestTimeoutMs);
      const scores = await raceSignal(
        runtime.scoring.score(user, items, { signal, truncate, pessimism }),
        signal,
      );
      return {
        ...personalizationBody(runtime.modelId, scores.personalization),
        rewards: scores.rewards,
        truncated: scores.truncated,
        ...(scores.uncertainty === undefined ? {} : { uncertainty: scores.uncertainty }),
      };
    },
  );

  app.post(
    "/v1/compare",
    {
      config: backbone,
      schema: {
        summary: "Bradley-Terry probability that response a is preferred to b",
        tags: ["scoring"],
        body: compareRequest(limits),
        response: { 200: compareResponse, ...problemResponses },
      },
    },
    async (request, reply) => {
      const runtime = state.require();
      const { user, pairs, truncate, pessimism } = request.body;
      const signal = requestSignal(request, reply, config.requestTimeoutMs);
      const compared = await raceSignal(
        runtime.scoring.compare(user, pairs, { signal, truncate, pessimism }),
        signal,
      );
      return {
        ...personalizationBody(runtime.modelId, compared.personalization),
        results: compared.results,
      };
    },
  );

  app.post(
    "/v1/rank",
    {
      config: backbone,
      schema: {
        summary: "Rank candidate responses to one prompt for a user",
        tags: ["scoring"],
        body: rankRequest(limits),
        response: { 200: rankResponse, ...problemResponses },
      },
    },
    async (request, reply) => {
      const runtime = state.require();
      const { user, prompt, responses, truncate, pessimism } = request.body;
      const signal = requestSignal(request, reply, config.requestTimeoutMs);
      const ranking = await raceSignal(
        runtime.scoring.rank(user, prompt, responses, { signal, truncate, pessimism }),
        signal,
      );
      const { personalization, ...rest } = ranking;
      return { ...personalizationBody(runtime.modelId, personalization), ...rest };
    },
  );
};
