/** One HTTP request of a load phase, as autocannon sends it. */
export interface RequestSpec {
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  /** JSON text, sent as application/json. */
  body?: string;
}

/** Hands out the next request; called once per request sent, so it may count and vary them. */
export type RequestSource = () => RequestSpec;

export function postJson(path: string, body: unknown): RequestSpec {
  return { method: "POST", path, body: JSON.stringify(body) };
}
