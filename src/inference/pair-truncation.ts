export interface PairTruncation {
  /** Index of the first prompt token kept (the prompt loses its beginning). */
  promptStart: number;
  /** Number of response tokens kept (the response loses its end). */
  responseEnd: number;
  truncated: boolean;
}

/**
 * Fits a prompt and a response into `budget` content tokens. The response is what is scored, so
 * it is kept whole when it fits and the prompt is cut from the left, keeping the context nearest
 * to the response; a response that alone exceeds the budget drops the prompt and is cut at the right.
 */
export function truncatePair(
  promptLength: number,
  responseLength: number,
  budget: number,
): PairTruncation {
  if (!Number.isSafeInteger(budget) || budget < 0) {
    throw new RangeError(`budget: expected a non-negative integer, got ${budget}`);
  }
  if (promptLength + responseLength <= budget) {
    return { promptStart: 0, responseEnd: responseLength, truncated: false };
  }
  if (responseLength <= budget) {
    return {
      promptStart: promptLength - (budget - responseLength),
      responseEnd: responseLength,
      truncated: true,
    };
  }
  return { promptStart: promptLength, responseEnd: budget, truncated: true };
}
