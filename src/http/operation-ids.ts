/**
 * The OpenAPI operationId of every route, by "METHOD /route/pattern" (GET covers its HEAD twin).
 * Client generators name their methods after these, so an id never changes once published; a
 * new route needs an entry here (test/ops/operation-ids.test.ts fails without one). Entries for
 * routes that are not registered are harmless.
 */
export const OPERATION_IDS: Readonly<Record<string, string>> = {
  "GET /health": "getHealth",
  "GET /ready": "getReadiness",
  "GET /metrics": "getMetrics",
  "GET /v1/info": "getInfo",
  "POST /v1/score": "score",
  "POST /v1/compare": "compare",
  "POST /v1/rank": "rank",
  "POST /v1/rewards/shaped": "shapeRewards",
  "POST /get_reward": "getReward",
  "POST /classify": "classify",
  "POST /v1/classify": "classifyV1",
  "GET /v1/users/:user": "getUser",
  "DELETE /v1/users/:user": "deleteUser",
  "GET /v1/users/:user/adapter": "exportAdapter",
  "PUT /v1/users/:user/adapter": "importAdapter",
  "POST /v1/users/:user/fit": "fitUser",
  "POST /v1/users/:user/queries": "chooseQueries",
  "GET /v1/jobs/:id": "getJob",
};

export function operationIdOf(method: string, route: string): string | undefined {
  return OPERATION_IDS[`${method === "HEAD" ? "GET" : method} ${route}`];
}
