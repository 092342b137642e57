/**
 * An error with a stable code, the field of the input it is about (when one is at fault) and its
 * cause. Each layer has its own subclass and code union; only the web layer turns codes into HTTP.
 */
export class CodedError<Code extends string> extends Error {
  readonly code: Code;
  /** The input field at fault, e.g. "items[3]" or "pairs[2].chosen.messages". */
  readonly field: string | undefined;

  constructor(
    code: Code,
    message: string,
    options: { field?: string | undefined; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.field = options.field;
  }
}
