/** Raised when β·penalty or their sum leaves the float64 range (only with astronomically large β). */
export class RewardOverflowError extends Error {
  readonly code = "REWARD_OVERFLOW";
  readonly field: string;

  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = "RewardOverflowError";
    this.field = field;
  }
}
