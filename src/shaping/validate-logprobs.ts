import { InvalidLogprobsError } from "./invalid-logprobs-error.js";

/** The caller's names for the two log-prob arrays, used in error messages. */
export interface LogprobFields {
  readonly policy: string;
  readonly ref: string;
}

export const DEFAULT_LOGPROB_FIELDS: LogprobFields = { policy: "policy", ref: "ref" };

function checkArray(values: readonly number[], field: string): void {
  if (!Array.isArray(values)) {
    throw new InvalidLogprobsError(field, "expected an array of log-probabilities");
  }
  if (values.length === 0) {
    throw new InvalidLogprobsError(field, "expected at least one token log-probability");
  }
  for (let t = 0; t < values.length; t++) {
    const v = values[t];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new InvalidLogprobsError(field, `expected a finite number, got ${String(v)}`, t);
    }
    if (v > 0) {
      throw new InvalidLogprobsError(field, `expected a log-probability ≤ 0, got ${v}`, t);
    }
  }
}

/** Throws InvalidLogprobsError unless both arrays are non-empty, equally long, finite and ≤ 0. */
export function validateLogprobs(
  policy: readonly number[],
  ref: readonly number[],
  fields: LogprobFields = DEFAULT_LOGPROB_FIELDS,
): void {
  checkArray(policy, fields.policy);
  checkArray(ref, fields.ref);
  if (policy.length !== ref.length) {
    throw new InvalidLogprobsError(
      fields.ref,
      `expected ${policy.length} log-probabilities (as many as ${fields.policy}), got ${ref.length}`,
    );
  }
}
