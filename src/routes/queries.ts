import { requestLimits } from "../config.js";
import type { RoutePlugin } from "../http/app-state.js";
import { ProblemError } from "../http/problem-error.js";
import { raceSignal, requestSignal } from "../http/request-signal.js";
import { problemResponses } from "../schemas/common.js";
import { queriesRequest, queriesResult } from "../schemas/queries.js";
import { userParams } from "../schemas/users.js";

export const queryRoutes: RoutePlugin = async (app, { state, config }) => {
  const limits = requestLimits(config);

  app.post(
    "/v1/users/:user/queries",
    {
      schema: {
        summary: "Choose the comparisons to ask a user next (active onboarding)",
        description:
          "Picks n pairs of responses from the candidates, in the order to ask them, under the user's " +
          "current posterior (the population prior for a user without an adapter). Answer them with " +
          `POST /v1/users/{user}/fit in append mode, then ask again. At most ${config.maxQueryTexts} ` +
          "responses over all candidates (413 beyond).",
        tags: ["users"],
        params: userParams,
        body: queriesRequest(limits),
        response: { 200: queriesResult, ...problemResponses },
      },
    },
    async (request, reply) => {
      const runtime = state.require();
      const body = request.body;
      let texts = 0;
      for (const c of body.candidates) texts += c.responses.length;
      if (texts > config.maxQueryTexts) {
        throw new ProblemError(
          "PAYLOAD_TOO_LARGE",
          `${texts} candidate responses is more than the ${config.maxQueryTexts} allowed in one request`,
          { field: "candidates" },
        );
      }
      const signal = requestSignal(request, reply, config.requestTimeoutMs);
      return raceSignal(runtime.queries.choose(request.params.user, body, { signal }), signal);
    },
  );
};
