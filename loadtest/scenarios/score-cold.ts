import { sendOnce } from "../baseline.js";
import { postJson } from "../request.js";
import { checkColdCache } from "./cold-cache-check.js";
import { checkPersonalized } from "./personalized-probe.js";
import { seedAdapters } from "./seed-adapters.js";
import { singlePhaseScenario } from "./single-phase.js";
import { TextSource } from "./texts.js";
import { roundRobin, userIds } from "./users.js";

export const COLD_USERS = 10_000;
/** Room for about 8 adapters of the default head (k=8, m=2): nearly every request misses. */
export const COLD_ADAPTER_CACHE_BYTES = 8192;
const TEXT_POOL = 16;

const users = userIds("cold", COLD_USERS);

export const scoreCold = singlePhaseScenario({
  name: "score-cold",
  description:
    `POST /v1/score rotating through ${COLD_USERS} users whose adapters are on disk, with an ` +
    `adapter cache of ${COLD_ADAPTER_CACHE_BYTES} bytes: nearly every request loads an adapter ` +
    `from the store. Texts come from a pool of ${TEXT_POOL}, answered from the feature cache, ` +
    "so the adapter path dominates.",
  connections: 8,
  policy: { allow429: false },
  serverFlags: { "adapter-cache-bytes": COLD_ADAPTER_CACHE_BYTES },
  prepare: (target, seed) => seedAdapters(target, users, seed),
  async source(context) {
    const texts = new TextSource(context.seed);
    const pool = Array.from({ length: TEXT_POOL }, () => ({
      prompt: texts.prompt(),
      response: texts.fresh(),
    }));
    // Features of the pool are computed once here, so the load measures the adapter path.
    await sendOnce(context.target, postJson("/v1/score", { items: pool }));
    const user = roundRobin(users);
    let next = 0;
    return {
      checks: [await checkPersonalized(context.target, users[users.length - 1]!)],
      source: () => postJson("/v1/score", { user: user(), items: [pool[next++ % TEXT_POOL]] }),
      afterRun: async () => ({ checks: [await checkColdCache(context.target)] }),
      notes:
        context.serverPid === undefined
          ? [
              "External server: its own adapter cache size applies; the adapters were uploaded with PUT and stay.",
            ]
          : [],
    };
  },
});
