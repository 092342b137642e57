/**
 * A small typed client for sharelora's scoring endpoints (Node 20+, or any runtime with fetch):
 * `/v1/score`, OpenRLHF's `/get_reward` and vLLM's `/classify`. Standalone: copy this file into a
 * project; it imports nothing.
 *
 *   const client = new ShareloraClient("http://127.0.0.1:8080");
 *   const { rewards } = await client.score({
 *     user: "alice",
 *     items: [{ prompt: "How do I sort a list?", response: "Use sorted(xs)." }],
 *   });
 */

export type Role = "system" | "user" | "assistant";

export interface Message {
  role: Role;
  content: string;
}

/** One item to score; `user` scores it for that user instead of the request's. */
export type ScoreItem =
  | { prompt: string; response: string; user?: string }
  | { messages: Message[]; user?: string }
  | { text: string; user?: string };

export type UnknownUser = "global" | "error";

export interface ScoreRequest {
  user?: string;
  items: ScoreItem[];
  pessimism?: number;
  truncate?: boolean;
  unknown_user?: UnknownUser;
}

export interface Personalization {
  user: string | null;
  personalized: boolean;
  adapter_version: number | null;
  stale_adapter?: boolean;
  adapter_possibly_stale?: boolean;
}

export interface ScoreResponse extends Personalization {
  model: string;
  rewards: number[];
  truncated: boolean[];
  uncertainty?: number[];
  /** Present when some item names its own user. */
  item_personalization?: Personalization[];
}

/** Every item for every listed user (the texts go through the backbone once). */
export interface ScoreMatrixRequest extends Omit<ScoreRequest, "user" | "items"> {
  users: string[];
  items: Array<{ prompt: string; response: string } | { messages: Message[] } | { text: string }>;
}

export interface ScoreMatrixResponse {
  model: string;
  users: Personalization[];
  /** rewards[u][i]: item i for users[u]. */
  rewards: number[][];
  truncated: boolean[];
  uncertainty?: number[][];
}

/** OpenRLHF's remote reward model body; `labels[i]` names the user of sample i. */
export interface GetRewardRequest {
  query: string[];
  prompts?: string[];
  labels?: unknown[];
  unknown_user?: UnknownUser;
  truncate?: boolean;
}

export interface GetRewardResponse {
  rewards: number[];
  /** σ(reward). */
  scores: number[];
  extra_logs: {
    personalized: number[];
    adapter_version: number[];
    prompt_matched: number[];
  };
}

/** vLLM's pooling `/classify`; `model` is a served name or "<name>:<user>". */
export interface ClassifyRequest {
  model?: string;
  input: string | string[];
  /** true (the default): probs holds σ(reward); false: the raw reward. */
  use_activation?: boolean;
  unknown_user?: UnknownUser;
}

export interface ClassifyResponse {
  id: string;
  object: "list";
  created: number;
  model: string;
  data: Array<{ index: number; label: string; probs: number[]; num_classes: number }>;
  usage: {
    prompt_tokens: number;
    total_tokens: number;
    completion_tokens: number;
    prompt_tokens_details: null;
  };
}

/** The server's problem response (RFC 9457), for a status of 400 or more. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  field?: string;
}

export class ShareloraError extends Error {
  readonly status: number;
  readonly problem: Problem | undefined;

  constructor(status: number, problem: Problem | undefined, text: string) {
    super(`sharelora: ${status} ${problem?.code ?? ""} ${problem?.detail ?? text.slice(0, 500)}`);
    this.name = "ShareloraError";
    this.status = status;
    this.problem = problem;
  }
}

export interface ShareloraClientOptions {
  /** Sent as `Authorization: Bearer <apiKey>` (servers with --auth on). */
  apiKey?: string;
  /** Milliseconds per request; default 60 000. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export class ShareloraClient {
  readonly baseUrl: string;
  readonly #options: ShareloraClientOptions;

  constructor(baseUrl = "http://127.0.0.1:8080", options: ShareloraClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.#options = options;
  }

  /** Rewards of items for `user` (or each item's own), or the global reward. */
  score(request: ScoreRequest): Promise<ScoreResponse>;
  score(request: ScoreMatrixRequest): Promise<ScoreMatrixResponse>;
  score(request: ScoreRequest | ScoreMatrixRequest): Promise<ScoreResponse | ScoreMatrixResponse> {
    return this.#post("/v1/score", request);
  }

  /**
   * OpenRLHF's `/get_reward`. `user` is for samples whose label names none (sent as the
   * X-Sharelora-User header).
   */
  getReward(
    request: GetRewardRequest,
    options: { user?: string } = {},
  ): Promise<GetRewardResponse> {
    const headers: Record<string, string> =
      options.user === undefined ? {} : { "x-sharelora-user": options.user };
    return this.#post("/get_reward", request, headers);
  }

  /** vLLM's `/classify` (or its `/v1/classify` alias). */
  classify(
    request: ClassifyRequest,
    options: { path?: "/classify" | "/v1/classify" } = {},
  ): Promise<ClassifyResponse> {
    return this.#post(options.path ?? "/classify", request);
  }

  async #post<T>(
    path: string,
    body: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<T> {
    const headers: Record<string, string> = { "content-type": "application/json", ...extraHeaders };
    if (this.#options.apiKey !== undefined)
      headers.authorization = `Bearer ${this.#options.apiKey}`;
    const doFetch = this.#options.fetch ?? fetch;
    const response = await doFetch(this.baseUrl + path, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.#options.timeoutMs ?? 60_000),
    });
    const text = await response.text();
    if (!response.ok) {
      let problem: Problem | undefined;
      try {
        problem = JSON.parse(text) as Problem;
      } catch {}
      throw new ShareloraError(response.status, problem, text);
    }
    return JSON.parse(text) as T;
  }
}
