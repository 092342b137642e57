export interface EncodedPair {
  ids: number[];
  /** True when the prompt or the response lost tokens to fit maxLength. */
  truncated: boolean;
  /** Segment ids (0 for the prompt part, 1 for the response part) when the tokenizer defines them. */
  typeIds?: number[];
}

export interface EncodedSequence {
  ids: number[];
  /** True when the text lost its beginning to fit maxLength. */
  truncated: boolean;
}

export interface Tokenizer {
  readonly padId: number;
  /** Encodes (prompt, response) with the tokenizer's special tokens in at most maxLength ids. */
  encodePair(prompt: string, response: string, maxLength: number): EncodedPair;
  /**
   * Encodes a rendered text as it stands, adding no special tokens (a chat template spells out its
   * own). Truncation keeps the end: a sequence model reads its reward at the last token.
   */
  encodeSequence(text: string, maxLength: number): EncodedSequence;
  /** The chat template of the tokenizer's config (tokenizer_config.json), if it has one. */
  readonly chatTemplate?: string | undefined;
  /** What transformers passes a chat template besides the messages: the special tokens map. */
  readonly templateVariables: Readonly<Record<string, unknown>>;
}

/** The last maxLength ids, and whether any were dropped. */
export function keepEnd(ids: number[], maxLength: number): EncodedSequence {
  if (!Number.isSafeInteger(maxLength) || maxLength < 1) {
    throw new RangeError(`maxLength: expected a positive integer, got ${maxLength}`);
  }
  if (ids.length <= maxLength) return { ids, truncated: false };
  return { ids: ids.slice(ids.length - maxLength), truncated: true };
}
