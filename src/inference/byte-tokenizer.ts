import { truncatePair } from "./pair-truncation.js";
import { type EncodedPair, type EncodedSequence, keepEnd, type Tokenizer } from "./tokenizer.js";

export interface ByteSpecialIds {
  padId: number;
  bosId: number;
  sepId: number;
  eosId: number;
}

const SPECIAL_TOKENS_PER_PAIR = 3;

/** UTF-8 bytes are ids 0..255; a pair is [BOS] prompt [SEP] response [EOS]. */
export class ByteTokenizer implements Tokenizer {
  readonly padId: number;
  readonly templateVariables: Readonly<Record<string, unknown>> = {};
  readonly #bosId: number;
  readonly #sepId: number;
  readonly #eosId: number;
  readonly #encoder = new TextEncoder();

  constructor(ids: ByteSpecialIds) {
    for (const [name, id] of Object.entries(ids)) {
      if (!Number.isSafeInteger(id) || id < 256) {
        throw new TypeError(`${name}: expected an integer of at least 256, got ${id}`);
      }
    }
    this.padId = ids.padId;
    this.#bosId = ids.bosId;
    this.#sepId = ids.sepId;
    this.#eosId = ids.eosId;
  }

  encodePair(prompt: string, response: string, maxLength: number): EncodedPair {
    if (typeof prompt !== "string" || typeof response !== "string") {
      throw new TypeError("encodePair: expected prompt and response strings");
    }
    if (!Number.isSafeInteger(maxLength) || maxLength < SPECIAL_TOKENS_PER_PAIR) {
      throw new RangeError(
        `maxLength: expected an integer of at least ${SPECIAL_TOKENS_PER_PAIR}, got ${maxLength}`,
      );
    }
    const promptBytes = this.#encoder.encode(prompt);
    const responseBytes = this.#encoder.encode(response);
    const cut = truncatePair(
      promptBytes.length,
      responseBytes.length,
      maxLength - SPECIAL_TOKENS_PER_PAIR,
    );
    const ids: number[] = [this.#bosId];
    for (let i = cut.promptStart; i < promptBytes.length; i++) ids.push(promptBytes[i]!);
    ids.push(this.#sepId);
    for (let i = 0; i < cut.responseEnd; i++) ids.push(responseBytes[i]!);
    ids.push(this.#eosId);
    return { ids, truncated: cut.truncated };
  }

  /** The text's UTF-8 bytes, no special ids; the end is kept when it is too long. */
  encodeSequence(text: string, maxLength: number): EncodedSequence {
    if (typeof text !== "string") throw new TypeError("encodeSequence: expected a string");
    return keepEnd(Array.from(this.#encoder.encode(text)), maxLength);
  }
}
