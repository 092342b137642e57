import { postJson } from "../request.js";
import { seedAdapters } from "./seed-adapters.js";
import { singlePhaseScenario } from "./single-phase.js";
import { TextSource } from "./texts.js";
import { roundRobin, userIds } from "./users.js";

const HOT_USERS = userIds("hot", 4);
export const RANK_RESPONSES = 8;

export const rank = singlePhaseScenario({
  name: "rank",
  description: `POST /v1/rank of ${RANK_RESPONSES} new responses to one prompt, for 4 hot users with adapters.`,
  connections: 8,
  policy: { allow429: false },
  prepare: (target, seed) => seedAdapters(target, HOT_USERS, seed),
  async source(context) {
    const texts = new TextSource(context.seed);
    const user = roundRobin(HOT_USERS);
    return {
      source: () =>
        postJson("/v1/rank", {
          user: user(),
          prompt: texts.prompt(),
          responses: Array.from({ length: RANK_RESPONSES }, () => texts.fresh()),
        }),
    };
  },
});
