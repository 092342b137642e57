/**
 * Examples for the OpenAPI document, by "METHOD /route/pattern". src/openapi.ts checks every one
 * against the route's own zod schemas while it builds the document, so they cannot drift.
 */
export interface RouteExamples {
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  responses?: Record<number, unknown>;
}

const MODEL = "sharelora-default-bytes-v2";
const PROMPT = "Write a haiku about rain";
const GOOD = "Soft rain on the roof\nwhispers to the sleeping town\npuddles hold the sky";
const BAD = "RAIN!!! 123";
const USER = "acme:alice";
const NOW = "2025-01-15T10:30:00.000Z";
const JOB_ID = "5f0c6a8e-3c1d-4b7a-9e2f-8d6b1a4c2e90";

const personalized = {
  model: MODEL,
  user: USER,
  personalized: true,
  adapter_version: 3,
};

const fitSummary = {
  user: USER,
  version: 4,
  n_pairs: 48,
  train_accuracy: 0.875,
  cv_accuracy: 0.8125,
  global_accuracy: 0.625,
  log_likelihood: -21.7,
  l2: 0.5,
  prior: "isotropic",
  duration_ms: 182.4,
};

export const ROUTE_EXAMPLES: Readonly<Record<string, RouteExamples>> = {
  "GET /health": { responses: { 200: { status: "ok" } } },
  "GET /ready": { responses: { 200: { status: "ready" } } },
  "GET /v1/info": {
    responses: {
      200: {
        service: "sharelora",
        version: "0.1.0",
        model: {
          id: MODEL,
          d: 341,
          m: 2,
          max_length: 512,
          tokenizer: "bytes",
          encoding: "pair",
          pooling: "none",
          backbone_sha256: "9b1f6c0e4f3a2d8b7c6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c",
        },
        head: {
          hash: "sha256:3e7c1a9b5d2f4e60",
          k: 2,
          has_population_prior: false,
          basis: "trained",
        },
        provider: "cpu",
        limits: {
          max_items: 256,
          max_text_chars: 32768,
          max_batch_tokens: 16384,
          max_batch_size: 64,
          body_limit_bytes: 8388608,
        },
      },
    },
  },
  "POST /v1/score": {
    body: {
      user: USER,
      items: [
        { prompt: PROMPT, response: GOOD },
        {
          messages: [
            { role: "user", content: PROMPT },
            { role: "assistant", content: BAD },
          ],
        },
      ],
    },
    responses: {
      200: { ...personalized, rewards: [1.482, -0.913], truncated: [false, false] },
    },
  },
  "POST /get_reward": {
    query: { user: USER },
    body: {
      query: [`<|user|>${PROMPT}<|assistant|>${GOOD}</s>`],
      prompts: [`<|user|>${PROMPT}<|assistant|>`],
      labels: [{ user: USER }],
    },
    responses: {
      200: {
        rewards: [1.482],
        scores: [0.8149],
        extra_logs: { personalized: [1], adapter_version: [3], prompt_matched: [1] },
      },
    },
  },
  ...Object.fromEntries(
    ["POST /classify", "POST /v1/classify"].map((key) => [
      key,
      {
        body: { model: `${MODEL}:${USER}`, input: GOOD, use_activation: false },
        responses: {
          200: {
            id: "classify-1c9e5b0f8a2d4c6e9b7a3f1d5e8c2a40",
            object: "list",
            created: 1736937000,
            model: `${MODEL}:${USER}`,
            data: [{ index: 0, label: "LABEL_0", probs: [1.482], num_classes: 1 }],
            usage: {
              prompt_tokens: 79,
              total_tokens: 79,
              completion_tokens: 0,
              prompt_tokens_details: null,
            },
          },
        },
      },
    ]),
  ),
  "POST /v1/compare": {
    body: { user: USER, pairs: [{ prompt: PROMPT, a: GOOD, b: BAD }], pessimism: 1 },
    responses: {
      200: { ...personalized, results: [{ p_a: 0.7595, margin: 1.15, p_a_lcb: 0.6812 }] },
    },
  },
  "POST /v1/rank": {
    body: { user: USER, prompt: PROMPT, responses: [GOOD, BAD, "Rain falls. It is wet."] },
    responses: {
      200: {
        ...personalized,
        order: [0, 2, 1],
        rewards: [0.84, -0.31, 0.12],
        probabilities: [0.5545, 0.1756, 0.2699],
        truncated: [false, false, false],
      },
    },
  },
  "POST /v1/rewards/shaped": {
    body: {
      user: USER,
      estimator: "k3",
      beta: 0.05,
      items: [
        {
          prompt: PROMPT,
          response: GOOD,
          policy_logprobs: [-0.21, -1.35, -0.08],
          ref_logprobs: [-0.25, -1.1, -0.09],
        },
      ],
    },
    responses: {
      200: {
        ...personalized,
        items: [
          {
            reward: 1.482,
            penalties: [0.00079, 0.0288, 0.00005],
            shaped: [-0.0000395, -0.00144, 1.4819975],
            total: 1.4805185,
            truncated: false,
          },
        ],
      },
    },
  },
  "GET /v1/users/:user": {
    params: { user: USER },
    responses: {
      200: {
        user: USER,
        version: 3,
        head_hash: "sha256:3e7c1a9b5d2f4e60",
        stale: false,
        created_at: "2025-01-10T08:00:00.000Z",
        updated_at: NOW,
        k: 8,
        m: 2,
        n_pairs: 48,
        stored_pairs: 48,
        has_posterior: true,
        metrics: { train_accuracy: 0.875, cv_accuracy: 0.8125 },
      },
    },
  },
  "DELETE /v1/users/:user": { params: { user: USER } },
  "GET /v1/users/:user/adapter": { params: { user: USER } },
  "PUT /v1/users/:user/adapter": {
    params: { user: USER },
    responses: { 200: { user: USER, version: 4, stale: false } },
  },
  "POST /v1/users/:user/fit": {
    params: { user: USER },
    body: {
      pairs: [
        { prompt: PROMPT, chosen: GOOD, rejected: BAD },
        {
          prompt: [{ role: "user", content: "Say hello" }],
          chosen: [{ role: "assistant", content: "Hello! How can I help?" }],
          rejected: [{ role: "assistant", content: "hi" }],
        },
      ],
      mode: "append",
    },
    responses: {
      200: fitSummary,
      202: { job_id: JOB_ID, status_url: `/v1/jobs/${JOB_ID}`, n_new_pairs: 2000 },
    },
  },
  "POST /v1/users/:user/queries": {
    params: { user: USER },
    body: {
      candidates: [
        { prompt: PROMPT, responses: [GOOD, BAD, "Rain falls. Streets shine."] },
        {
          prompt: "Explain DNS",
          responses: ["It maps names to addresses.", "- resolver\n- root\n- TLD"],
        },
      ],
      n: 2,
      strategy: "information",
      exclude: [{ candidate: 0, a: 0, b: 1 }],
    },
    responses: {
      200: {
        user: USER,
        personalized: true,
        adapter_version: 3,
        stale_adapter: false,
        strategy: "information",
        available_pairs: 4,
        excluded_pairs: 1,
        queries: [
          { candidate: 1, a: 0, b: 1, information_gain: 0.41, p_a: 0.38 },
          { candidate: 0, a: 1, b: 2, information_gain: 0.17, p_a: 0.71 },
        ],
      },
    },
  },
  "GET /v1/jobs/:id": {
    params: { id: JOB_ID },
    responses: {
      200: {
        job_id: JOB_ID,
        user: USER,
        phase: "done",
        progress: { done: 4000, total: 4000 },
        result: fitSummary,
        created_at: "2025-01-15T10:29:12.000Z",
        updated_at: NOW,
      },
    },
  },
};
