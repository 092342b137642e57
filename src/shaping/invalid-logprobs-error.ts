/**
 * Raised when the inputs of reward shaping are unusable. `field` is the caller's name for the
 * offending input (e.g. "items[3].ref_logprobs"); `index` is the token position when one element
 * is at fault.
 */
export class InvalidLogprobsError extends Error {
  readonly code = "INVALID_LOGPROBS";
  readonly field: string;
  readonly index: number | undefined;

  constructor(field: string, message: string, index?: number) {
    super(`${index === undefined ? field : `${field}[${index}]`}: ${message}`);
    this.name = "InvalidLogprobsError";
    this.field = field;
    this.index = index;
  }
}
