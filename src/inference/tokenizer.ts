import type { Manifest } from "../model/manifest.js";
import { ByteTokenizer } from "./byte-tokenizer.js";
import { loadHfTokenizer } from "./hf-tokenizer.js";

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

export function createTokenizer(
  manifest: Pick<Manifest, "tokenizer">,
  modelDir: string,
): Promise<Tokenizer> {
  const spec = manifest.tokenizer;
  if (spec.type === "bytes") {
    return Promise.resolve(
      new ByteTokenizer({
        padId: spec.pad_id,
        bosId: spec.bos_id,
        sepId: spec.sep_id,
        eosId: spec.eos_id,
      }),
    );
  }
  return loadHfTokenizer(modelDir, spec);
}
