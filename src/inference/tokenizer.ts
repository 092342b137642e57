export interface EncodedPair {
  ids: number[];
  /** True when the prompt or the response lost tokens to fit maxLength. */
  truncated: boolean;
  /** Segment ids (0 for the prompt part, 1 for the response part) when the tokenizer defines them. */
  typeIds?: number[];
}

export interface Tokenizer {
  readonly padId: number;
  /** Encodes (prompt, response) with the tokenizer's special tokens in at most maxLength ids. */
  encodePair(prompt: string, response: string, maxLength: number): EncodedPair;
}
