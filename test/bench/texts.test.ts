import { describe, expect, it } from "vitest";
import { benchTexts, PROMPT_BYTES, TEXT_BYTES } from "../../bench/texts.js";
import { ByteTokenizer } from "../../src/inference/byte-tokenizer.js";

const bytes = (s: string) => new TextEncoder().encode(s).length;

describe("bench texts", () => {
  it("are distinct pairs of exactly 128 bytes together", () => {
    const texts = [...benchTexts("u", 0, 500), ...benchTexts("s", 0, 500)];
    for (const t of texts) {
      expect(bytes(t.prompt)).toBe(PROMPT_BYTES);
      expect(bytes(t.prompt) + bytes(t.response)).toBe(TEXT_BYTES);
    }
    expect(new Set(texts.map((t) => `${t.prompt}\u0000${t.response}`)).size).toBe(texts.length);
  });

  it("are the same on every call, and a slice equals the matching part of a longer run", () => {
    const all = benchTexts("w", 0, 40);
    expect(benchTexts("w", 0, 40)).toEqual(all);
    expect(benchTexts("w", 25, 10)).toEqual(all.slice(25, 35));
    expect(benchTexts("x", 0, 40)).not.toEqual(all);
  });

  it("tokenize to 131 ids with the byte tokenizer (BOS, SEP, EOS), untruncated", () => {
    const tokenizer = new ByteTokenizer({ padId: 256, bosId: 257, sepId: 258, eosId: 259 });
    for (const t of benchTexts("r", 0, 20)) {
      const encoded = tokenizer.encodePair(t.prompt, t.response, 512);
      expect(encoded.ids).toHaveLength(TEXT_BYTES + 3);
      expect(encoded.truncated).toBe(false);
    }
  });

  it("rejects a family name that could collide with the index separator", () => {
    expect(() => benchTexts("a#1", 0, 1)).toThrow(TypeError);
    expect(() => benchTexts("u", -1, 1)).toThrow(TypeError);
  });
});
