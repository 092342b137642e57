export type ServiceErrorCode =
  | "INVALID_MESSAGES"
  | "INVALID_PAIR"
  | "FIT_FAILED"
  | "USER_NOT_FOUND";

/** What the service layer itself fails with; the web layer maps each code to its problem. */
export class ServiceError extends Error {
  readonly code: ServiceErrorCode;
  /** The request field at fault, e.g. "pairs[2]". */
  readonly field: string | undefined;

  constructor(
    code: ServiceErrorCode,
    message: string,
    options: { field?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ServiceError";
    this.code = code;
    this.field = options.field;
  }
}

/** Every error class that crosses from the layers below into the web layer, in one place. */
export { AdapterError, type AdapterErrorCode } from "../adapters/errors.js";
export { InferenceError, type InferenceErrorCode } from "../inference/errors.js";
