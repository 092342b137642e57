import { requestLimits } from "../config.js";
import type { RoutePlugin } from "../http/app-state.js";
import { FEEDS_BACKBONE } from "../http/concurrency.js";
import { ProblemError } from "../http/problem-error.js";
import { raceSignal, requestSignal } from "../http/request-signal.js";
import { problemResponses } from "../schemas/common.js";
import {
  compareRequest,
  compareResponse,
  rankRequest,
  rankResponse,
  scoreMatrixResponse,
  scoreRequest,
  scoreResponse,
} from "../schemas/score.js";
import { personalizationBody, personalizationOf } from "./personalization-body.js";

export const scoringRoutes: RoutePlugin = async (app, { state, config }) => {
  const limits = requestLimits(config);

  app.post(
    "/v1/score",
    {
      config: FEEDS_BACKBONE,
      schema: {
        summary: "Reward of each (prompt, response) item for a user, or the global reward",
        tags: ["scoring"],
        body: scoreRequest({ ...limits, maxUsers: config.maxUsersPerRequest }),
        response: { 200: scoreResponse.or(scoreMatrixResponse), ...problemResponses },
      },
    },
    async (request, reply) => {
      const runtime = state.require();
      const { user, users, items, truncate, pessimism, unknown_user } = request.body;
      const options = { truncate, pessimism, unknownUser: unknown_user };
      if (users !== undefined) {
        checkMatrix(user, users, items, config.maxUserScores);
        const signal = requestSignal(request, reply, config.requestTimeoutMs);
        const matrix = await raceSignal(
          runtime.scoring.scoreMatrix(users, items, { ...options, signal }),
          signal,
        );
        // users × items numbers: the schema documents them, JSON.stringify writes them (checking
        // each number against the schema costs about as much as computing it).
        void reply.serializer(JSON.stringify);
        return {
          model: runtime.modelId,
          users: matrix.users.map(personalizationOf),
          rewards: matrix.rewards,
          truncated: matrix.truncated,
          ...(matrix.uncertainty === undefined ? {} : { uncertainty: matrix.uncertainty }),
        };
      }
      const signal = requestSignal(request, reply, config.requestTimeoutMs);
      const scores = await raceSignal(
        runtime.scoring.score(user, items, { ...options, signal }),
        signal,
      );
      return {
        ...personalizationBody(runtime.modelId, scores.personalization),
        rewards: scores.rewards,
        truncated: scores.truncated,
        ...(scores.uncertainty === undefined ? {} : { uncertainty: scores.uncertainty }),
        ...(scores.items === undefined
          ? {}
          : { item_personalization: scores.items.map(personalizationOf) }),
      };
    },
  );

  app.post(
    "/v1/compare",
    {
      config: FEEDS_BACKBONE,
      schema: {
        summary: "Bradley-Terry probability that response a is preferred to b",
        tags: ["scoring"],
        body: compareRequest(limits),
        response: { 200: compareResponse, ...problemResponses },
      },
    },
    async (request, reply) => {
      const runtime = state.require();
      const { user, pairs, truncate, pessimism, unknown_user } = request.body;
      const signal = requestSignal(request, reply, config.requestTimeoutMs);
      const compared = await raceSignal(
        runtime.scoring.compare(user, pairs, {
          signal,
          truncate,
          pessimism,
          unknownUser: unknown_user,
        }),
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
      config: FEEDS_BACKBONE,
      schema: {
        summary: "Rank candidate responses to one prompt for a user",
        tags: ["scoring"],
        body: rankRequest(limits),
        response: { 200: rankResponse, ...problemResponses },
      },
    },
    async (request, reply) => {
      const runtime = state.require();
      const { user, prompt, responses, truncate, pessimism, unknown_user } = request.body;
      const signal = requestSignal(request, reply, config.requestTimeoutMs);
      const ranking = await raceSignal(
        runtime.scoring.rank(user, prompt, responses, {
          signal,
          truncate,
          pessimism,
          unknownUser: unknown_user,
        }),
        signal,
      );
      const { personalization, ...rest } = ranking;
      return { ...personalizationBody(runtime.modelId, personalization), ...rest };
    },
  );
};

/** `users` scores every item for every listed user, so no other user may be named. */
function checkMatrix(
  user: string | undefined,
  users: readonly string[],
  items: readonly { user?: string | undefined }[],
  maxUserScores: number,
): void {
  if (user !== undefined) {
    throw new ProblemError("INVALID_REQUEST", "Give either user or users, not both", {
      field: "users",
    });
  }
  const named = items.findIndex((item) => item.user !== undefined);
  if (named >= 0) {
    throw new ProblemError(
      "INVALID_REQUEST",
      `items[${named}].user: an item cannot name its own user when users lists them`,
      { field: `items[${named}].user` },
    );
  }
  if (users.length * items.length > maxUserScores) {
    throw new ProblemError(
      "PAYLOAD_TOO_LARGE",
      `${users.length} users × ${items.length} items is more than the ${maxUserScores} rewards allowed in one request`,
      { field: "users" },
    );
  }
}
