import { CodedError } from "../domain/coded-error.js";

export type AdapterErrorCode =
  | "INVALID_USER_ID"
  | "INVALID_ADAPTER"
  | "ADAPTER_CORRUPT"
  | "ADAPTER_SHAPE_MISMATCH"
  | "STORE_UNAVAILABLE"
  /** A read of the store did not return in time (a stalled disk); retrying later may succeed. */
  | "STORE_STALLED";

/**
 * Messages name only the requested user and user-safe details (never another user's id, never a
 * filesystem path), so they can be returned to that user as they are.
 */
export class AdapterError extends CodedError<AdapterErrorCode> {
  override readonly name = "AdapterError";
  readonly user: string | undefined;

  constructor(
    code: AdapterErrorCode,
    message: string,
    options: { user?: string; cause?: unknown } = {},
  ) {
    super(code, message, options.cause === undefined ? {} : { cause: options.cause });
    this.user = options.user;
  }
}
