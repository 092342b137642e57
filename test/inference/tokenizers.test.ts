import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tokenizer as LibraryTokenizer } from "@huggingface/tokenizers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ByteTokenizer } from "../../src/inference/byte-tokenizer.js";
import { createTokenizer } from "../../src/inference/create-tokenizer.js";
import { HfTokenizer } from "../../src/inference/hf-tokenizer.js";
import { truncatePair } from "../../src/inference/pair-truncation.js";

const FIXTURE_DIR = join(import.meta.dirname, "..", "fixtures", "wordpiece");
const BYTES = { type: "bytes", pad_id: 256, bos_id: 257, sep_id: 258, eos_id: 259 } as const;
const [BOS, SEP, EOS] = [257, 258, 259];
const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));

// Ids in test/fixtures/wordpiece/tokenizer.json.
const CLS = 2;
const WP_SEP = 3;
const UNK = 1;
const QUESTION = "What is the capital of France?"; // what is the capital of france ?
const QUESTION_IDS = [13, 12, 10, 34, 20, 35, 8];
const ANSWER = "Paris, the city."; // paris , the city .
const ANSWER_IDS = [36, 6, 10, 37, 7];

let fixtureJson: Record<string, unknown>;
let scratch: string;

beforeAll(async () => {
  fixtureJson = JSON.parse(await readFile(join(FIXTURE_DIR, "tokenizer.json"), "utf8"));
  scratch = await mkdtemp(join(tmpdir(), "sharelora-tokenizer-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe("truncatePair", () => {
  it("keeps the response whole, cutting the prompt from the left, until the response alone overflows", () => {
    expect(truncatePair(4, 3, 7)).toEqual({ promptStart: 0, responseEnd: 3, truncated: false });
    expect(truncatePair(4, 3, 5)).toEqual({ promptStart: 2, responseEnd: 3, truncated: true });
    expect(truncatePair(4, 3, 3)).toEqual({ promptStart: 4, responseEnd: 3, truncated: true });
    expect(truncatePair(4, 3, 2)).toEqual({ promptStart: 4, responseEnd: 2, truncated: true });
    expect(truncatePair(0, 0, 0)).toEqual({ promptStart: 0, responseEnd: 0, truncated: false });
    expect(() => truncatePair(1, 1, -1)).toThrow(RangeError);
  });
});

describe("ByteTokenizer", () => {
  const bytes = new ByteTokenizer({ padId: 256, bosId: BOS, sepId: SEP, eosId: EOS });

  it("encodes [BOS] prompt [SEP] response [EOS] as UTF-8 bytes", () => {
    expect(bytes.padId).toBe(256);
    expect(bytes.encodePair("Hi", "yo!", 512)).toEqual({
      ids: [BOS, 72, 105, SEP, 121, 111, 33, EOS],
      truncated: false,
    });
    expect(bytes.encodePair("é", "€", 512).ids).toEqual([
      BOS,
      0xc3,
      0xa9,
      SEP,
      0xe2,
      0x82,
      0xac,
      EOS,
    ]);
    expect(bytes.encodePair("", "", 3)).toEqual({ ids: [BOS, SEP, EOS], truncated: false });
  });

  it("fits exactly without truncating", () => {
    expect(bytes.encodePair("abc", "de", 8)).toEqual({
      ids: [BOS, ...ascii("abc"), SEP, ...ascii("de"), EOS],
      truncated: false,
    });
  });

  it("cuts the prompt from the left and keeps the response whole", () => {
    expect(bytes.encodePair("abcdef", "xyz", 8)).toEqual({
      ids: [BOS, ...ascii("ef"), SEP, ...ascii("xyz"), EOS],
      truncated: true,
    });
    expect(bytes.encodePair("abcdef", "xyz", 6)).toEqual({
      ids: [BOS, SEP, ...ascii("xyz"), EOS],
      truncated: true,
    });
  });

  it("cuts the response at the right when it alone is too long", () => {
    expect(bytes.encodePair("abc", "uvwxyz", 5)).toEqual({
      ids: [BOS, SEP, ...ascii("uv"), EOS],
      truncated: true,
    });
    expect(bytes.encodePair("abc", "uvwxyz", 3)).toEqual({ ids: [BOS, SEP, EOS], truncated: true });
  });

  it("never exceeds maxLength and flags exactly the overflowing pairs", () => {
    for (let promptLength = 0; promptLength < 12; promptLength++) {
      for (let responseLength = 0; responseLength < 12; responseLength++) {
        for (const maxLength of [3, 5, 9, 16, 30]) {
          const encoded = bytes.encodePair(
            "p".repeat(promptLength),
            "r".repeat(responseLength),
            maxLength,
          );
          const natural = promptLength + responseLength + 3;
          expect(encoded.ids.length).toBe(Math.min(natural, maxLength));
          expect(encoded.truncated).toBe(natural > maxLength);
          expect(encoded.ids.filter((id) => id >= 256)).toEqual([BOS, SEP, EOS]);
        }
      }
    }
  });

  it("rejects a maxLength that cannot hold BOS, SEP and EOS", () => {
    expect(() => bytes.encodePair("a", "b", 2)).toThrow(RangeError);
    expect(() => bytes.encodePair("a", "b", 3.5)).toThrow(
      /maxLength: expected an integer of at least 3/,
    );
  });

  it("is what createTokenizer builds for a bytes manifest", async () => {
    const tokenizer = await createTokenizer({ tokenizer: BYTES }, "/nonexistent");
    expect(tokenizer).toBeInstanceOf(ByteTokenizer);
    expect(tokenizer.padId).toBe(256);
    expect(tokenizer.encodePair("a", "b", 512).ids).toEqual([BOS, 97, SEP, 98, EOS]);
  });
});

describe("HfTokenizer (WordPiece fixture)", () => {
  const load = () =>
    createTokenizer({ tokenizer: { type: "hf", file: "tokenizer.json" } }, FIXTURE_DIR);

  it("encodes [CLS] prompt [SEP] response [SEP] with the ids worked out by hand", async () => {
    const tokenizer = await load();
    expect(tokenizer.padId).toBe(0);
    expect(tokenizer.encodePair(QUESTION, ANSWER, 512)).toEqual({
      ids: [CLS, ...QUESTION_IDS, WP_SEP, ...ANSWER_IDS, WP_SEP],
      truncated: false,
      typeIds: [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1],
    });
  });

  it("normalizes, splits subwords and maps unknown words to [UNK]", async () => {
    const tokenizer = await load();
    // play ##ing dog ##s walk ##ed | cafe token ##ize ##r ##s , un ##help ##ful [UNK] [UNK] 1 ##2 !
    expect(
      tokenizer.encodePair("Playing dogs walked", "CAFÉ tokenizers, unhelpful zebra 猫 12!", 512)
        .ids,
    ).toEqual([
      CLS,
      ...[38, 55, 24, 54, 40, 56],
      WP_SEP,
      ...[41, 45, 60, 61, 54, 6, 42, 62, 63, UNK, UNK, 65, 69, 5],
      WP_SEP,
    ]);
  });

  it("matches the library's own pair encoding when nothing is cut", async () => {
    const tokenizer = await load();
    const library = new LibraryTokenizer(fixtureJson, {});
    const pairs: [string, string][] = [
      [QUESTION, ANSWER],
      ["hello [SEP] world", "[MASK] a"],
      ["", "good answer"],
      ["How do you do?", "Thank you, I'm good."],
    ];
    for (const [prompt, response] of pairs) {
      const expected = library.encode(prompt, { text_pair: response, return_token_type_ids: true });
      const encoded = tokenizer.encodePair(prompt, response, 512);
      expect(encoded.ids).toEqual(expected.ids);
      expect(encoded.typeIds).toEqual(expected.token_type_ids);
    }
  });

  it("truncates with the same policy and flag as the byte tokenizer", async () => {
    const tokenizer = await load();
    const natural = 3 + QUESTION_IDS.length + ANSWER_IDS.length;
    expect(tokenizer.encodePair(QUESTION, ANSWER, natural).truncated).toBe(false);
    expect(tokenizer.encodePair(QUESTION, ANSWER, 10)).toEqual({
      ids: [CLS, 35, 8, WP_SEP, ...ANSWER_IDS, WP_SEP],
      truncated: true,
      typeIds: [0, 0, 0, 0, 1, 1, 1, 1, 1, 1],
    });
    expect(tokenizer.encodePair(QUESTION, ANSWER, 6)).toEqual({
      ids: [CLS, WP_SEP, 36, 6, 10, WP_SEP],
      truncated: true,
      typeIds: [0, 0, 1, 1, 1, 1],
    });
    expect(tokenizer.encodePair(QUESTION, ANSWER, 3).ids).toEqual([CLS, WP_SEP, WP_SEP]);
    expect(() => tokenizer.encodePair(QUESTION, ANSWER, 2)).toThrow(RangeError);
  });

  it("gets the special tokens from any post-processor", () => {
    const bert = new HfTokenizer({
      ...fixtureJson,
      post_processor: { type: "BertProcessing", sep: ["[SEP]", 3], cls: ["[CLS]", 2] },
    });
    expect(bert.encodePair(QUESTION, ANSWER, 10).ids).toEqual([
      CLS,
      35,
      8,
      WP_SEP,
      ...ANSWER_IDS,
      WP_SEP,
    ]);
    const none = new HfTokenizer({ ...fixtureJson, post_processor: null });
    expect(none.encodePair(QUESTION, ANSWER, 7)).toEqual({
      ids: [35, 8, ...ANSWER_IDS],
      truncated: true,
    });
    expect(none.encodePair(QUESTION, ANSWER, 12).ids).toEqual([...QUESTION_IDS, ...ANSWER_IDS]);
  });

  it("finds the pad id in the manifest, tokenizer.json padding or tokenizer_config", async () => {
    const noPadding = { ...fixtureJson, padding: null };
    expect(new HfTokenizer(fixtureJson, { padId: 4 }).padId).toBe(4);
    expect(new HfTokenizer(noPadding, { config: { pad_token: "[MASK]" } }).padId).toBe(4);
    expect(new HfTokenizer(noPadding, { config: { pad_token: { content: "[UNK]" } } }).padId).toBe(
      UNK,
    );
    expect(() => new HfTokenizer(noPadding)).toThrow(/no pad token/);

    await writeFile(join(scratch, "tok.json"), JSON.stringify(noPadding));
    await writeFile(join(scratch, "config.json"), JSON.stringify({ pad_token: "[CLS]" }));
    const viaFiles = await createTokenizer(
      { tokenizer: { type: "hf", file: "tok.json", config: "config.json" } },
      scratch,
    );
    expect(viaFiles.padId).toBe(CLS);
    const override = await createTokenizer(
      { tokenizer: { type: "hf", file: "tok.json", pad_id: 0 } },
      scratch,
    );
    expect(override.padId).toBe(0);
  });

  it("reports unreadable or invalid tokenizer files with TOKENIZER_INVALID", async () => {
    await writeFile(join(scratch, "broken.json"), "{ nope");
    await writeFile(join(scratch, "nomodel.json"), JSON.stringify({ added_tokens: [] }));
    for (const file of ["missing.json", "broken.json", "nomodel.json"]) {
      await expect(
        createTokenizer({ tokenizer: { type: "hf", file } }, scratch),
      ).rejects.toMatchObject({
        code: "TOKENIZER_INVALID",
        message: expect.stringContaining(file),
      });
    }
  });
});
