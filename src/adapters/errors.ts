export type AdapterErrorCode =
  | "INVALID_USER_ID"
  | "INVALID_ADAPTER"
  | "ADAPTER_CORRUPT"
  | "ADAPTER_SHAPE_MISMATCH"
  | "STORE_UNAVAILABLE";

/**
 * Messages name only the requested user and user-safe details (never another user's id, never a
 * filesystem path), so they can be returned to that user as they are.
 */
export class AdapterError extends Error {
  readonly code: AdapterErrorCode;
  readonly user: string | undefined;

  constructor(
    code: AdapterErrorCode,
    message: string,
    options: { user?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AdapterError";
    this.code = code;
    this.user = options.user;
  }
}
