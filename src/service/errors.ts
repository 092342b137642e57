import { CodedError } from "../domain/coded-error.js";

export type ServiceErrorCode =
  | "INVALID_MESSAGES"
  | "INVALID_PAIR"
  | "FIT_FAILED"
  | "USER_NOT_FOUND"
  | "UNKNOWN_USER"
  /** An append fit of a user whose stored pairs belong to another head: resend them, replacing. */
  | "STALE_ADAPTER"
  /** The fit, at the l2 the client gave, yields an adapter the server refuses to store. */
  | "INVALID_FIT"
  /** The head's B is 0 (an imported head without calibration): no W can change any reward. */
  | "NO_SHARED_BASIS"
  /** A queries request whose indices or n do not fit its candidates. */
  | "INVALID_QUERY"
  /** A queries request whose candidates make more pairs than the server chooses from at once. */
  | "TOO_MANY_QUERY_PAIRS";

/** What the service layer itself fails with; the web layer maps each code to its problem. */
export class ServiceError extends CodedError<ServiceErrorCode> {
  override readonly name = "ServiceError";
}

/** Every error class that crosses from the layers below into the web layer, in one place. */
export { AdapterError, type AdapterErrorCode } from "../adapters/errors.js";
export { InferenceError, type InferenceErrorCode } from "../inference/errors.js";
