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
 * filesystem path), so they can be returned to that user as they are. `field` names the part of an
 * adapter file at fault: a tensor ("W", "posterior_cholesky", "pairs_g", "pairs_o") or a metadata
 * key ("metadata.user").
 */
export class AdapterError extends CodedError<AdapterErrorCode> {
  override readonly name = "AdapterError";
  readonly user: string | undefined;

  constructor(
    code: AdapterErrorCode,
    message: string,
    options: { user?: string; cause?: unknown; field?: string | undefined } = {},
  ) {
    super(code, message, {
      ...(options.cause === undefined ? {} : { cause: options.cause }),
      ...(options.field === undefined ? {} : { field: options.field }),
    });
    this.user = options.user;
  }
}

/** Codes of a stored adapter that cannot be used as it is: what a replacing write may overwrite. */
export function isUnreadableAdapter(error: unknown): error is AdapterError {
  return (
    error instanceof AdapterError &&
    (error.code === "ADAPTER_CORRUPT" || error.code === "ADAPTER_SHAPE_MISMATCH")
  );
}
