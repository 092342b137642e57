import type { Manifest } from "../model/manifest.js";
import { ByteTokenizer } from "./byte-tokenizer.js";
import { loadHfTokenizer } from "./hf-tokenizer.js";
import type { Tokenizer } from "./tokenizer.js";

/** The manifest's tokenizer: the built-in byte tokenizer, or a tokenizer.json beside the model. */
export function createTokenizer(
  manifest: Pick<Manifest, "tokenizer"> & Partial<Pick<Manifest, "encoding">>,
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
  // A sequence model reads its reward at the last real token, never at a pad, so any id pads.
  return loadHfTokenizer(modelDir, spec, { padWithAnyId: manifest.encoding === "sequence" });
}
