import { randomUUID } from "node:crypto";
import { z } from "zod";
import { requestLimits } from "../config.js";
import { isUserId, userId } from "../domain/user-id.js";
import type { RoutePlugin } from "../http/app-state.js";
import { assertMayActFor } from "../http/auth.js";
import { FEEDS_BACKBONE } from "../http/concurrency.js";
import { ProblemError } from "../http/problem-error.js";
import { raceSignal, requestSignal } from "../http/request-signal.js";
import { problem, problemResponses } from "../schemas/common.js";
import {
  classifyRequest,
  classifyResponse,
  getRewardRequest,
  getRewardResponse,
} from "../schemas/trainers.js";
import type { ScoreItem } from "../service/item-texts.js";
import { rewardProbability } from "../service/scores.js";

const USER_HEADER = "x-sharelora-user";

/** The user a sample's label names: a user id string, or an object with a `user` field. */
function labelUser(label: unknown, field: string): string | undefined {
  if (typeof label === "string") return isUserId(label) ? label : undefined;
  if (typeof label !== "object" || label === null || !("user" in label)) return undefined;
  const user = (label as { user: unknown }).user;
  if (user === null || user === undefined) return undefined;
  if (isUserId(user)) return user;
  throw new ProblemError(
    "INVALID_USER_ID",
    `${field}.user: expected a user id of 1-128 characters of [A-Za-z0-9._:@-]`,
    { field: `${field}.user` },
  );
}

function headerUser(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string" && isUserId(value)) return value;
  throw new ProblemError(
    "INVALID_USER_ID",
    `header ${USER_HEADER}: expected one user id of 1-128 characters of [A-Za-z0-9._:@-]`,
    { field: `headers.${USER_HEADER}` },
  );
}

/** `model` is a served name, or "<name>:<user>"; anything else is a 404, never a fallback. */
function modelUser(model: string | undefined, names: readonly string[]): string | undefined {
  if (model === undefined) return undefined;
  for (const name of [...names].sort((a, b) => b.length - a.length)) {
    if (model === name) return undefined;
    if (!model.startsWith(`${name}:`)) continue;
    const user = model.slice(name.length + 1);
    if (isUserId(user)) return user;
    throw new ProblemError(
      "INVALID_USER_ID",
      `model: the user after "${name}:" must be 1-128 characters of [A-Za-z0-9._:@-]`,
      { field: "model" },
    );
  }
  throw new ProblemError(
    "MODEL_NOT_FOUND",
    `The model ${JSON.stringify(model.slice(0, 200))} does not exist here; served: ${names.join(", ")}`,
    { field: "model" },
  );
}

/** The endpoints RLHF trainers already speak: OpenRLHF's /get_reward and vLLM's /classify. */
export const trainerRoutes: RoutePlugin = async (app, { state, config }) => {
  const limits = requestLimits(config);

  app.post(
    "/get_reward",
    {
      config: FEEDS_BACKBONE,
      schema: {
        summary: "OpenRLHF's remote reward model: rewards of rendered queries, for their users",
        description:
          "The user of each sample comes from labels[i] (a user id, or an object with a user field), " +
          `else the ${USER_HEADER} header, else the user query parameter, else none (the global reward). ` +
          "When prompts[i] is a prefix of query[i], the rest is the response to that prompt; otherwise " +
          "query[i] is scored whole as a rendered text. A sequence model (manifest encoding " +
          '"sequence") always scores query[i] whole, tokenized as it stands with no special tokens ' +
          "added; prompt_matched still says whether prompts[i] was its prefix.",
        tags: ["trainers"],
        querystring: z.object({ user: userId.optional() }),
        body: getRewardRequest(limits),
        response: { 200: getRewardResponse, ...problemResponses },
      },
    },
    async (request, reply) => {
      const runtime = state.require();
      const { query, prompts, labels, unknown_user, truncate } = request.body;
      const header = headerUser(request.headers[USER_HEADER]);
      const fallback =
        header === undefined
          ? { user: request.query.user, userField: "querystring.user" }
          : { user: header, userField: `headers.${USER_HEADER}` };
      const matched: number[] = [];
      const items: ScoreItem[] = query.map((text, i) => {
        const labelled = labelUser(labels?.[i], `labels[${i}]`);
        const who =
          labelled === undefined ? fallback : { user: labelled, userField: `labels[${i}]` };
        const prompt = prompts?.[i];
        const prefixed = prompt !== undefined && text.startsWith(prompt);
        matched.push(prefixed ? 1 : 0);
        // A sequence model saw the whole rendered conversation in training: never split it.
        const split = prefixed && runtime.texts.encoding === "pair";
        const item: ScoreItem = split ? { prompt, response: text.slice(prompt.length) } : { text };
        return who.user === undefined ? item : { ...item, ...who };
      });
      assertMayActFor(
        request,
        items.flatMap((item) => (item.user === undefined ? [] : [item.user])),
      );
      if (items.length === 0) {
        return {
          rewards: [],
          scores: [],
          extra_logs: { personalized: [], adapter_version: [], prompt_matched: [] },
        };
      }
      const signal = requestSignal(request, reply, config.requestTimeoutMs);
      const scores = await raceSignal(
        runtime.scoring.score(undefined, items, {
          signal,
          truncate,
          unknownUser: unknown_user,
        }),
        signal,
      );
      const who = scores.items ?? items.map(() => scores.personalization);
      return {
        rewards: scores.rewards,
        scores: scores.rewards.map(rewardProbability),
        extra_logs: {
          personalized: who.map((p) => (p.personalized ? 1 : 0)),
          adapter_version: who.map((p) => p.adapter?.version ?? 0),
          prompt_matched: matched,
        },
      };
    },
  );

  for (const [url, summary] of [
    ["/classify", "vLLM's pooling /classify: the reward of rendered texts, for a user"],
    ["/v1/classify", "The same as /classify, at vLLM's /v1 path"],
  ] as const) {
    app.post(
      url,
      {
        config: FEEDS_BACKBONE,
        schema: {
          summary,
          description:
            'model is a served name (the model id or a --served-model-name) or "<name>:<user>". ' +
            "probs[0] is σ(reward) unless use_activation is false, then the raw reward.",
          tags: ["trainers"],
          body: classifyRequest(limits),
          response: { 200: classifyResponse, 404: problem, ...problemResponses },
        },
      },
      async (request, reply) => {
        const runtime = state.require();
        const body = request.body;
        const user = modelUser(body.model, [runtime.modelId, ...(config.servedModelName ?? [])]);
        if (user !== undefined) assertMayActFor(request, [user]);
        const inputs = typeof body.input === "string" ? [body.input] : body.input;
        const signal = requestSignal(request, reply, config.requestTimeoutMs);
        const scores = await raceSignal(
          runtime.scoring.score(
            user,
            inputs.map((text) => ({ text })),
            { signal, unknownUser: body.unknown_user, userField: "model" },
          ),
          signal,
        );
        const activate = body.use_activation ?? body.activation ?? true;
        const tokens = scores.tokens.reduce((sum, n) => sum + n, 0);
        return {
          id: `classify-${randomUUID().replaceAll("-", "")}`,
          object: "list" as const,
          created: Math.floor(Date.now() / 1000),
          model: body.model ?? runtime.modelId,
          data: scores.rewards.map((reward, index) => ({
            index,
            label: "LABEL_0",
            probs: [activate ? rewardProbability(reward) : reward],
            num_classes: 1,
          })),
          usage: {
            prompt_tokens: tokens,
            total_tokens: tokens,
            completion_tokens: 0,
            prompt_tokens_details: null,
          },
        };
      },
    );
  }
};
