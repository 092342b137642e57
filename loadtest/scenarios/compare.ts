import { postJson } from "../request.js";
import { seedAdapters } from "./seed-adapters.js";
import { singlePhaseScenario } from "./single-phase.js";
import { TextSource } from "./texts.js";
import { roundRobin, userIds } from "./users.js";

const HOT_USERS = userIds("hot", 4);

export const compare = singlePhaseScenario({
  name: "compare",
  description:
    "POST /v1/compare, one pair of new responses per request, for 4 hot users with adapters.",
  connections: 8,
  policy: { allow429: false },
  prepare: (target, seed) => seedAdapters(target, HOT_USERS, seed),
  async source(context) {
    const texts = new TextSource(context.seed);
    const user = roundRobin(HOT_USERS);
    return {
      source: () =>
        postJson("/v1/compare", {
          user: user(),
          pairs: [{ prompt: texts.prompt(), a: texts.fresh(), b: texts.fresh() }],
        }),
    };
  },
});
