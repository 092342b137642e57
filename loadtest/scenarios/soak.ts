import { postJson } from "../request.js";
import type { MemoryBounds } from "../rss.js";
import { seedAdapters } from "./seed-adapters.js";
import { singlePhaseScenario } from "./single-phase.js";
import { TextSource } from "./texts.js";
import { roundRobin, userIds } from "./users.js";

const USERS = userIds("soak", 1000);

/** See loadtest/README.md ("soak") for why these numbers. */
export const SOAK_MEMORY_BOUNDS: MemoryBounds = {
  warmupFraction: 0.2,
  maxSlopeMiBPerMin: 4,
  minSlopeSpanS: 120,
  maxGrowthMiB: 32,
};
export const SOAK_SAMPLE_INTERVAL_MS = 10_000;

/** Small caches fill during the warm-up; after that, every new entry evicts an old one. */
export const SOAK_SERVER_FLAGS = {
  "feature-cache-bytes": 4 * 1024 * 1024,
  "adapter-cache-bytes": 64 * 1024,
};

export const soak = singlePhaseScenario({
  name: "soak",
  description:
    "Sustained mix (80% score, 10% compare, 10% rank of 4) of new texts over 1000 users with " +
    "adapters, with small feature and adapter caches so both evict all the time; the server's " +
    `RSS is sampled every ${SOAK_SAMPLE_INTERVAL_MS / 1000} s and must stop growing.`,
  defaultDurationS: 600,
  connections: 4,
  policy: { allow429: false },
  serverFlags: SOAK_SERVER_FLAGS,
  memory: { ...SOAK_MEMORY_BOUNDS, intervalMs: SOAK_SAMPLE_INTERVAL_MS },
  prepare: (target, seed) => seedAdapters(target, USERS, seed),
  async source(context) {
    const texts = new TextSource(context.seed);
    const user = roundRobin(USERS);
    const score = () =>
      postJson("/v1/score", {
        user: user(),
        items: [{ prompt: texts.prompt(), response: texts.fresh() }],
      });
    const compare = () =>
      postJson("/v1/compare", {
        user: user(),
        pairs: [{ prompt: texts.prompt(), a: texts.fresh(), b: texts.fresh() }],
      });
    const rank = () =>
      postJson("/v1/rank", {
        user: user(),
        prompt: texts.prompt(),
        responses: Array.from({ length: 4 }, () => texts.fresh()),
      });
    return {
      baselineKinds: [
        { name: "score", source: score },
        { name: "compare", source: compare, options: { warmup: 2, samples: 5 } },
        { name: "rank", source: rank, options: { warmup: 2, samples: 5 } },
      ],
      source: () => {
        const draw = texts.unit();
        return draw < 0.8 ? score() : draw < 0.9 ? compare() : rank();
      },
    };
  },
});
