import { postJson } from "../request.js";
import { singlePhaseScenario } from "./single-phase.js";
import { TextSource } from "./texts.js";
import { roundRobin, userIds } from "./users.js";

export const OVERLOAD_CONNECTIONS = 256;
/**
 * Both shedding paths: past 8 requests in flight the HTTP layer answers 429, and admitted ones
 * find at most 2 texts waiting for the backbone (429 beyond). Admitted work stays a few service
 * times long, so a client timeout means the server never got to the request.
 */
export const OVERLOAD_SERVER_FLAGS = { "max-concurrent-requests": 8, "max-queued": 2 };

const USERS = userIds("overload", 16);

export const overload = singlePhaseScenario({
  name: "overload",
  description:
    `${OVERLOAD_CONNECTIONS} connections against a server started with --max-concurrent-requests ` +
    `${OVERLOAD_SERVER_FLAGS["max-concurrent-requests"]} and --max-queued ` +
    `${OVERLOAD_SERVER_FLAGS["max-queued"]}, each request a new text: the server must shed the ` +
    "excess with 429 and answer everything else with 2xx, never a 5xx or a timeout.",
  connections: OVERLOAD_CONNECTIONS,
  // Latency here is bounded by the timeout check: 429s are instant and admitted requests wait
  // at most for the short queue, so a multiple of the single-request latency says nothing more.
  policy: { allow429: true, expectShedding: true, p99Multiple: null },
  serverFlags: OVERLOAD_SERVER_FLAGS,
  async source(context) {
    const texts = new TextSource(context.seed);
    const user = roundRobin(USERS);
    return {
      source: () =>
        postJson("/v1/score", {
          user: user(),
          items: [{ prompt: texts.prompt(), response: texts.fresh() }],
        }),
      notes:
        context.serverPid === undefined
          ? ["External server: its own --max-concurrent-requests and --max-queued apply."]
          : [],
    };
  },
});
