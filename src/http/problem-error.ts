/**
 * Every problem the API answers with: its HTTP status and RFC 9457 title. Routes throw
 * `ProblemError`s and never pick statuses themselves; errors from the layers below are mapped to
 * these codes in one table (problem-map.ts).
 */
export const PROBLEMS = {
  INVALID_REQUEST: { status: 400, title: "Invalid request" },
  INVALID_JSON: { status: 400, title: "Malformed JSON body" },
  INVALID_USER_ID: { status: 400, title: "Invalid user id" },
  INVALID_MESSAGES: { status: 400, title: "Invalid messages" },
  INVALID_LOGPROBS: { status: 400, title: "Invalid log-probabilities" },
  REWARD_OVERFLOW: { status: 400, title: "Shaped reward overflows" },
  TEXT_TOO_LONG: { status: 400, title: "Text longer than the model's max_length" },
  INVALID_ADAPTER: { status: 400, title: "Invalid adapter file" },
  MALFORMED_HTTP: { status: 400, title: "Malformed HTTP request" },
  UNAUTHORIZED: { status: 401, title: "Missing or invalid API key" },
  FORBIDDEN: { status: 403, title: "API key not allowed here" },
  NOT_FOUND: { status: 404, title: "Not found" },
  USER_NOT_FOUND: { status: 404, title: "Unknown user" },
  JOB_NOT_FOUND: { status: 404, title: "Unknown job" },
  MODEL_NOT_FOUND: { status: 404, title: "Unknown model" },
  METHOD_NOT_ALLOWED: { status: 405, title: "Method not allowed" },
  REQUEST_TIMEOUT: { status: 408, title: "Request not received in time" },
  CONFLICT: { status: 409, title: "Conflict" },
  PAYLOAD_TOO_LARGE: { status: 413, title: "Payload too large" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: "Unsupported media type" },
  EXPECTATION_FAILED: { status: 417, title: "Expectation not supported" },
  OVERLOADED: { status: 429, title: "Model is overloaded" },
  HEADERS_TOO_LARGE: { status: 431, title: "Request headers too large" },
  CANCELLED: { status: 499, title: "Client closed request" },
  ADAPTER_CORRUPT: { status: 500, title: "Stored adapter is unreadable" },
  FIT_FAILED: { status: 500, title: "Fit failed" },
  INTERNAL: { status: 500, title: "Internal error" },
  INFERENCE_FAILED: { status: 500, title: "Inference failed" },
  NOT_READY: { status: 503, title: "Not ready" },
  SHUTTING_DOWN: { status: 503, title: "Shutting down" },
  STORE_UNAVAILABLE: { status: 503, title: "Adapter store unavailable" },
  TIMEOUT: { status: 504, title: "Request timed out" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof PROBLEMS;

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode;
  field?: string;
  instance?: string;
  [extension: string]: unknown;
}

export function problemType(code: ProblemCode): string {
  return `urn:sharelora:problem:${code.toLowerCase().replaceAll("_", "-")}`;
}

export class ProblemError extends Error {
  readonly code: ProblemCode;
  readonly field: string | undefined;
  readonly extensions: Record<string, unknown>;

  constructor(
    code: ProblemCode,
    detail: string,
    options: { field?: string; cause?: unknown; extensions?: Record<string, unknown> } = {},
  ) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ProblemError";
    this.code = code;
    this.field = options.field;
    this.extensions = options.extensions ?? {};
  }

  get status(): number {
    return PROBLEMS[this.code].status;
  }

  toProblem(instance?: string): ProblemDetails {
    const body: ProblemDetails = {
      type: problemType(this.code),
      title: PROBLEMS[this.code].title,
      status: this.status,
      detail: this.message,
      code: this.code,
      ...this.extensions,
    };
    if (this.field !== undefined) body.field = this.field;
    if (instance !== undefined) body.instance = instance;
    return body;
  }
}
