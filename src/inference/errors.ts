export type InferenceErrorCode =
  | "QUEUE_FULL"
  | "CANCELLED"
  | "SHUTTING_DOWN"
  | "TEXT_TOO_LONG"
  | "INFERENCE_FAILED"
  | "BACKEND_RESTARTING";

/** What the feature engine, its batcher and its backends fail with; none of it knows HTTP. */
export class InferenceError extends Error {
  readonly code: InferenceErrorCode;
  /** The request field the failure is about (a text too long), when there is one. */
  readonly field: string | undefined;
  /** When a retry may succeed (the queue is full). */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: InferenceErrorCode,
    message: string,
    options: { field?: string | undefined; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "InferenceError";
    this.code = code;
    this.field = options.field;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}
