import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HfTokenizer } from "../../src/inference/hf-tokenizer.js";
import { createModelRenderer } from "../../src/inference/render.js";
import { LLAMA3_TOKENIZER_DIR } from "../helpers/llama-fixture.js";

const BEGIN_OF_TEXT = 128000;
const END_OF_TEXT = 128001;
const START_HEADER = 128006;
const END_HEADER = 128007;
const EOT = 128009;
/** Llama 3 vocabulary ids of "user", "assistant", "\n\n", "Hello", " world". */
const USER = 882;
const ASSISTANT = 78191;
const BLANK_LINE = 271;
const HELLO_WORLD = [9906, 1917];

async function llama3(options: { padWithAnyId?: boolean } = { padWithAnyId: true }) {
  const json = JSON.parse(await readFile(join(LLAMA3_TOKENIZER_DIR, "tokenizer.json"), "utf8"));
  const config = JSON.parse(
    await readFile(join(LLAMA3_TOKENIZER_DIR, "tokenizer_config.json"), "utf8"),
  );
  return { tokenizer: new HfTokenizer(json, { config, ...options }), config };
}

describe("Llama 3's tokenizer and chat template for a sequence model", () => {
  it("encodes a text as it stands: no special tokens added, special tokens in the text recognised", async () => {
    const { tokenizer } = await llama3();
    expect(tokenizer.encodeSequence("Hello world", 100)).toEqual({
      ids: HELLO_WORLD,
      truncated: false,
    });
    const spelled =
      "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello world<|eot_id|>";
    expect(tokenizer.encodeSequence(spelled, 100).ids).toEqual([
      BEGIN_OF_TEXT,
      START_HEADER,
      USER,
      END_HEADER,
      BLANK_LINE,
      ...HELLO_WORLD,
      EOT,
    ]);
  });

  it("keeps the end when a text is too long, and says so", async () => {
    const { tokenizer } = await llama3();
    const text = "<|begin_of_text|>Hello world<|eot_id|>";
    expect(tokenizer.encodeSequence(text, 3)).toEqual({
      ids: [...HELLO_WORLD, EOT],
      truncated: true,
    });
    expect(tokenizer.encodeSequence(text, 4).truncated).toBe(false);
  });

  it("renders a conversation as apply_chat_template(messages, tokenize=True) does: one <|begin_of_text|>", async () => {
    const { tokenizer } = await llama3();
    const renderer = createModelRenderer({ encoding: "sequence" }, tokenizer);
    const text = renderer.renderSequence({
      messages: [
        { role: "user", content: "Hello world" },
        { role: "assistant", content: " Hello world\n" },
      ],
    });
    expect(text.startsWith("<|begin_of_text|>")).toBe(true);
    expect(text.split("<|begin_of_text|>")).toHaveLength(2);
    const { ids } = tokenizer.encodeSequence(text, 1000);
    const turn = (role: number) => [START_HEADER, role, END_HEADER, BLANK_LINE];
    // This tokenizer_config's template (Meta-Llama-3-8B's) ends every render with an assistant
    // header, add_generation_prompt or not; transformers renders it the same way.
    expect(ids).toEqual([
      BEGIN_OF_TEXT,
      ...turn(USER),
      ...HELLO_WORLD,
      EOT,
      ...turn(ASSISTANT),
      ...HELLO_WORLD,
      EOT,
      ...turn(ASSISTANT),
    ]);
    expect(ids.filter((id) => id === BEGIN_OF_TEXT)).toHaveLength(1);
  });

  it("renders {prompt, response} as the conversation [user: prompt, assistant: response]", async () => {
    const { tokenizer } = await llama3();
    const renderer = createModelRenderer({ encoding: "sequence" }, tokenizer);
    expect(renderer.renderSequence({ prompt: "Hi there", response: "Hello world" })).toBe(
      renderer.renderSequence({
        messages: [
          { role: "user", content: "Hi there" },
          { role: "assistant", content: "Hello world" },
        ],
      }),
    );
  });

  it("passes the special tokens map and null tools to the template; the manifest's template wins", async () => {
    const { tokenizer } = await llama3();
    const template =
      "{{ bos_token }}|{{ eos_token }}|{{ pad_token is defined }}|{{ tools is none }}|" +
      "{% for m in messages %}{{ m.role }}:{{ m.content }};{% endfor %}{{ add_generation_prompt }}";
    const renderer = createModelRenderer(
      { encoding: "sequence", chat_template: template },
      tokenizer,
    );
    expect(renderer.renderSequence({ prompt: "p", response: "r" })).toBe(
      "<|begin_of_text|>|<|end_of_text|>|false|true|user:p;assistant:r;false",
    );
  });

  it("reads a named list of templates (the 'default' one) from tokenizer_config.json", async () => {
    const { config } = await llama3();
    const json = JSON.parse(await readFile(join(LLAMA3_TOKENIZER_DIR, "tokenizer.json"), "utf8"));
    const named = new HfTokenizer(json, {
      config: {
        ...config,
        chat_template: [
          { name: "tool_use", template: "tools" },
          { name: "default", template: "{{ bos_token }}{{ messages[0].content }}" },
        ],
      },
      padWithAnyId: true,
    });
    const renderer = createModelRenderer({ encoding: "sequence" }, named);
    expect(renderer.renderSequence({ prompt: "Hello world", response: "x" })).toBe(
      "<|begin_of_text|>Hello world",
    );
  });

  it("pads with the eos id when the tokenizer has no pad token, for sequence models only", async () => {
    const { tokenizer } = await llama3();
    expect(tokenizer.padId).toBe(END_OF_TEXT);
    await expect(llama3({})).rejects.toThrow(/no pad token/);
  });
});
