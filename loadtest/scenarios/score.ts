import { postJson } from "../request.js";
import { checkPersonalized } from "./personalized-probe.js";
import { seedAdapters } from "./seed-adapters.js";
import { singlePhaseScenario } from "./single-phase.js";
import { TextSource } from "./texts.js";
import { roundRobin, userIds } from "./users.js";

const HOT_USERS = userIds("hot", 4);

export const score = singlePhaseScenario({
  name: "score",
  description:
    "POST /v1/score, one item per request, for 4 hot users with adapters; every response is new " +
    "text, so each request runs the backbone (the PPO case: freshly sampled responses).",
  connections: 8,
  policy: { allow429: false },
  prepare: (target, seed) => seedAdapters(target, HOT_USERS, seed),
  async source(context) {
    const texts = new TextSource(context.seed);
    const user = roundRobin(HOT_USERS);
    return {
      checks: [await checkPersonalized(context.target, HOT_USERS[0]!)],
      source: () =>
        postJson("/v1/score", {
          user: user(),
          items: [{ prompt: texts.prompt(), response: texts.fresh() }],
        }),
    };
  },
});
