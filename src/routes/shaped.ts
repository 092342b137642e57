import { requestLimits } from "../config.js";
import type { RoutePlugin } from "../http/app-state.js";
import { FEEDS_BACKBONE } from "../http/concurrency.js";
import { raceSignal, requestSignal } from "../http/request-signal.js";
import { problemResponses } from "../schemas/common.js";
import { shapedRequest, shapedResponse } from "../schemas/shaped.js";
import { penalties, shapeRewards } from "../shaping/shape.js";
import { personalizationBody } from "./personalization-body.js";

export const shapedRoutes: RoutePlugin = async (app, { state, config }) => {
  const limits = requestLimits(config);
  app.post(
    "/v1/rewards/shaped",
    {
      config: FEEDS_BACKBONE,
      schema: {
        summary:
          "Per-token shaped rewards for PPO: the personalized reward minus a KL-style penalty",
        tags: ["scoring"],
        body: shapedRequest(limits),
        response: { 200: shapedResponse, ...problemResponses },
      },
    },
    async (request, reply) => {
      const runtime = state.require();
      const body = request.body;
      const fieldsOf = (i: number) => ({
        policy: `items[${i}].policy_logprobs`,
        ref: `items[${i}].ref_logprobs`,
        beta: "beta",
        reward: `items[${i}]`,
      });
      // Validate the log-probs before spending a backbone pass on the texts.
      for (const [i, item] of body.items.entries()) {
        penalties(body.estimator, item.policy_logprobs, item.ref_logprobs, fieldsOf(i));
      }
      const signal = requestSignal(request, reply, config.requestTimeoutMs);
      const pairs = body.items.map((item, i) => ({
        prompt: item.prompt,
        response: item.response,
        field: `items[${i}]`,
      }));
      const scored = await raceSignal(
        runtime.scoring.rewards(body.user, pairs, { signal, truncate: body.truncate }),
        signal,
      );
      const items = body.items.map((item, i) => ({
        reward: scored.rewards[i]!,
        ...shapeRewards({
          reward: scored.rewards[i]!,
          policy: item.policy_logprobs,
          ref: item.ref_logprobs,
          estimator: body.estimator,
          beta: body.beta,
          fields: fieldsOf(i),
        }),
        truncated: scored.truncated[i]!,
      }));
      return { ...personalizationBody(runtime.modelId, scored.personalization), items };
    },
  );
};
