import { CodedError } from "../domain/coded-error.js";

const CODES = [
  "QUEUE_FULL",
  "CANCELLED",
  "SHUTTING_DOWN",
  "TEXT_TOO_LONG",
  "INFERENCE_FAILED",
  "BACKEND_RESTARTING",
] as const;

export type InferenceErrorCode = (typeof CODES)[number];

export function isInferenceCode(code: unknown): code is InferenceErrorCode {
  return CODES.includes(code as InferenceErrorCode);
}

/** What the feature engine, its batcher and its backends fail with; none of it knows HTTP. */
export class InferenceError extends CodedError<InferenceErrorCode> {
  override readonly name: string = "InferenceError";
  /** When a retry may succeed (the queue is full). */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: InferenceErrorCode,
    message: string,
    options: { field?: string | undefined; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(code, message, options);
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}
