import { AdapterError } from "./errors.js";

export interface StoreIoOptions {
  /**
   * The end of a failure's message, after what the store could not do: " (EIO)", ": Redis is
   * unreachable". The message goes back to the requesting user, so this never holds a path or an
   * address.
   */
  reason: (error: unknown) => string;
  /** The failures that are the stored record's fault rather than the medium's, if any. */
  recordFault?: (error: unknown, user: string) => AdapterError | undefined;
}

/**
 * How a store calls its medium (the disk, Redis): a failure becomes STORE_UNAVAILABLE naming only
 * the requesting user, with the medium's own error as its cause; an AdapterError passes as it is,
 * since it already says what is wrong with the record.
 */
export class StoreIo {
  readonly #reason: StoreIoOptions["reason"];
  readonly #recordFault: StoreIoOptions["recordFault"];

  constructor(options: StoreIoOptions) {
    if (typeof options?.reason !== "function") {
      throw new TypeError("expected options.reason to be a function of the failure");
    }
    this.#reason = options.reason;
    this.#recordFault = options.recordFault;
  }

  /** Runs one step ("read", "write", "delete") on the adapter of `user`. */
  async forUser<T>(user: string, action: string, task: () => T | Promise<T>): Promise<T> {
    try {
      return await task();
    } catch (error) {
      throw this.userError(user, action, error);
    }
  }

  /** Runs a step on no one user's adapter; `what` says it ("count the adapters"). */
  async forStore<T>(what: string, task: () => Promise<T>): Promise<T> {
    try {
      return await task();
    } catch (error) {
      if (error instanceof AdapterError) throw error;
      throw new AdapterError(
        "STORE_UNAVAILABLE",
        `adapter store could not ${what}${this.#reason(error)}`,
        { cause: error },
      );
    }
  }

  /** What forUser throws when its step fails with `error`. */
  userError(user: string, action: string, error: unknown): AdapterError {
    if (error instanceof AdapterError) return error;
    const fault = this.#recordFault?.(error, user);
    if (fault !== undefined) return fault;
    return new AdapterError(
      "STORE_UNAVAILABLE",
      `adapter store could not ${action} the adapter of user ${user}${this.#reason(error)}`,
      { user, cause: error },
    );
  }
}

/** What every call of a closed store rejects with. */
export function storeClosedError(): AdapterError {
  return new AdapterError("STORE_UNAVAILABLE", "adapter store is closed");
}
