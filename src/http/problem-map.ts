import {
  AdapterError,
  type AdapterErrorCode,
  InferenceError,
  type InferenceErrorCode,
  ServiceError,
  type ServiceErrorCode,
} from "../service/errors.js";
import { InvalidLogprobsError, RewardOverflowError } from "../shaping/shape.js";
import { type ProblemCode, ProblemError } from "./problem-error.js";

/** Each lower-layer code's problem; a new code fails the typecheck until it has one. */
const INFERENCE_PROBLEMS: Record<InferenceErrorCode, ProblemCode> = {
  QUEUE_FULL: "OVERLOADED",
  CANCELLED: "CANCELLED",
  SHUTTING_DOWN: "SHUTTING_DOWN",
  TEXT_TOO_LONG: "TEXT_TOO_LONG",
  INFERENCE_FAILED: "INFERENCE_FAILED",
  BACKEND_RESTARTING: "NOT_READY",
};

const ADAPTER_PROBLEMS: Record<AdapterErrorCode, ProblemCode> = {
  INVALID_USER_ID: "INVALID_USER_ID",
  INVALID_ADAPTER: "INVALID_ADAPTER",
  ADAPTER_SHAPE_MISMATCH: "INVALID_ADAPTER",
  ADAPTER_CORRUPT: "ADAPTER_CORRUPT",
  STORE_UNAVAILABLE: "STORE_UNAVAILABLE",
  STORE_STALLED: "STORE_UNAVAILABLE",
};

const SERVICE_PROBLEMS: Record<ServiceErrorCode, ProblemCode> = {
  INVALID_MESSAGES: "INVALID_MESSAGES",
  INVALID_PAIR: "INVALID_REQUEST",
  FIT_FAILED: "FIT_FAILED",
  USER_NOT_FOUND: "USER_NOT_FOUND",
  UNKNOWN_USER: "USER_NOT_FOUND",
  STALE_ADAPTER: "CONFLICT",
  INVALID_FIT: "INVALID_REQUEST",
  NO_SHARED_BASIS: "CONFLICT",
  INVALID_QUERY: "INVALID_REQUEST",
  TOO_MANY_QUERY_PAIRS: "PAYLOAD_TOO_LARGE",
};

/** The backbone queue's 429, for the early refusal and for a text the batcher turned away. */
export function queueFullProblem(maxQueued: number, retryAfterSeconds = 1): ProblemError {
  return new ProblemError("OVERLOADED", `The backbone queue is full (${maxQueued} texts)`, {
    extensions: { retry_after_s: retryAfterSeconds },
  });
}

function withField(
  code: ProblemCode,
  error: Error & { field?: string | undefined },
  extensions?: Record<string, unknown>,
): ProblemError {
  return new ProblemError(code, error.message, {
    cause: error,
    ...(error.field === undefined ? {} : { field: error.field }),
    ...(extensions === undefined ? {} : { extensions }),
  });
}

/** What an error from any layer means for the client; unknown errors are 500s that say nothing. */
export function problemOf(error: unknown): ProblemError {
  if (error instanceof ProblemError) return error;
  if (error instanceof InferenceError) {
    const extensions =
      error.retryAfterSeconds === undefined
        ? undefined
        : { retry_after_s: error.retryAfterSeconds };
    return withField(INFERENCE_PROBLEMS[error.code], error, extensions);
  }
  if (error instanceof AdapterError) {
    // A stalled read says when to retry (retryAfterSeconds, on the error the file store throws).
    const retry: unknown = (error as { retryAfterSeconds?: unknown }).retryAfterSeconds;
    const extensions = typeof retry === "number" ? { retry_after_s: retry } : undefined;
    return withField(ADAPTER_PROBLEMS[error.code], error, extensions);
  }
  if (error instanceof ServiceError) return withField(SERVICE_PROBLEMS[error.code], error);
  if (error instanceof InvalidLogprobsError) return withField("INVALID_LOGPROBS", error);
  if (error instanceof RewardOverflowError) return withField("REWARD_OVERFLOW", error);
  if (error instanceof Error && error.name === "AbortError") {
    return new ProblemError("CANCELLED", "The client closed the request", { cause: error });
  }
  return new ProblemError("INTERNAL", "Internal error", { cause: error });
}
