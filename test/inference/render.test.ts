import { describe, expect, it, vi } from "vitest";
import {
  createRenderer,
  InvalidMessagesError,
  type MessagesItem,
  renderItem,
} from "../../src/inference/render.js";

const compiled = vi.hoisted(() => ({ count: 0 }));

vi.mock("@huggingface/jinja", async (importOriginal) => {
  const jinja = await importOriginal<typeof import("@huggingface/jinja")>();
  class CountingTemplate extends jinja.Template {
    constructor(template: string) {
      super(template);
      compiled.count++;
    }
  }
  return { ...jinja, Template: CountingTemplate };
});

const CHATML =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}" +
  "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const ALTERNATING =
  "{{ bos_token }}{% for message in messages %}" +
  "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}" +
  "{{ raise_exception('Conversation roles must alternate user/assistant') }}{% endif %}" +
  "[{{ message['role'] }}] {{ message['content'] }}\n{% endfor %}";

const CHAT: MessagesItem = {
  messages: [
    { role: "system", content: "Be brief." },
    { role: "user", content: "Hi" },
    { role: "assistant", content: "Hello!" },
  ],
};

function invalid(run: () => unknown): InvalidMessagesError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidMessagesError);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as InvalidMessagesError).code).toBe("INVALID_MESSAGES");
    return error as InvalidMessagesError;
  }
  throw new Error("expected INVALID_MESSAGES");
}

describe("renderItem", () => {
  it("passes {prompt, response} through unchanged", () => {
    expect(renderItem({ prompt: "2+2?", response: "4" })).toEqual({
      prompt: "2+2?",
      response: "4",
    });
    expect(renderItem({ prompt: "", response: "" }, CHATML)).toEqual({ prompt: "", response: "" });
  });

  it("renders earlier messages as role lines without a chat template", () => {
    expect(renderItem(CHAT)).toEqual({ prompt: "system: Be brief.\nuser: Hi", response: "Hello!" });
    const multiTurn: MessagesItem = {
      messages: [
        { role: "user", content: "a" },
        { role: "assistant", content: "b" },
        { role: "user", content: "c\nd" },
        { role: "assistant", content: "e" },
      ],
    };
    expect(renderItem(multiTurn)).toEqual({
      prompt: "user: a\nassistant: b\nuser: c\nd",
      response: "e",
    });
    expect(renderItem({ messages: [{ role: "assistant", content: "only" }] })).toEqual({
      prompt: "",
      response: "only",
    });
  });

  it("renders earlier messages with the chat template and a generation prompt", () => {
    expect(renderItem(CHAT, CHATML)).toEqual({
      prompt:
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
      response: "Hello!",
    });
  });

  it("compiles each template once", () => {
    const template = `${CHATML}{# cache probe #}`;
    const before = compiled.count;
    for (let i = 0; i < 3; i++) renderItem(CHAT, template);
    expect(compiled.count).toBe(before + 1);
    const renderer = createRenderer(`${CHATML}{# renderer probe #}`);
    for (let i = 0; i < 3; i++) renderer.render(CHAT);
    expect(compiled.count).toBe(before + 2);
  });

  it("rejects messages that do not end with the assistant response", () => {
    const error = invalid(() =>
      renderItem({
        messages: [
          { role: "assistant", content: "x" },
          { role: "user", content: "y" },
        ],
      }),
    );
    expect(error.field).toBe("messages[1].role");
    expect(error.message).toMatch(
      /expected the last message to be the assistant response .* got "user"/,
    );
  });

  it("rejects empty, malformed and unknown-role messages", () => {
    expect(invalid(() => renderItem({ messages: [] })).message).toMatch(
      /^messages: expected a non-empty array/,
    );
    const badRole = invalid(() =>
      renderItem({
        messages: [
          { role: "tool", content: "x" },
          { role: "assistant", content: "y" },
        ],
      }),
    );
    expect(badRole.field).toBe("messages[0].role");
    expect(badRole.message).toMatch(/expected "system", "user" or "assistant", got "tool"/);
    const badContent = invalid(() =>
      renderItem({ messages: [{ role: "assistant", content: 5 }] } as unknown as MessagesItem),
    );
    expect(badContent.field).toBe("messages[0].content");
    invalid(() => renderItem({ messages: "hi" } as unknown as MessagesItem));
    invalid(() => renderItem({ messages: [null] } as unknown as MessagesItem));
  });

  it("rejects items that are neither shape", () => {
    expect(() => renderItem({ prompt: "x" } as unknown as MessagesItem)).toThrow(
      /expected \{prompt: string, response: string\} or \{messages/,
    );
    expect(() => renderItem(null as unknown as MessagesItem)).toThrow(TypeError);
  });
});

describe("createRenderer", () => {
  it("prefixes the request field in errors", () => {
    const renderer = createRenderer();
    const error = invalid(() =>
      renderer.render({ messages: [{ role: "user", content: "q" }] }, "items[3]"),
    );
    expect(error.field).toBe("items[3].messages[0].role");
    expect(error.message).toMatch(/^items\[3\]\.messages\[0\]\.role: /);
  });

  it("passes the template context and turns template exceptions into INVALID_MESSAGES", () => {
    const renderer = createRenderer(ALTERNATING, { bos_token: "<s>" });
    const ok = renderer.render({
      messages: [
        { role: "user", content: "q" },
        { role: "assistant", content: "a" },
      ],
    });
    expect(ok).toEqual({ prompt: "<s>[user] q\n", response: "a" });
    const error = invalid(() => renderer.render(CHAT, "items[0]"));
    expect(error.field).toBe("items[0].messages");
    expect(error.message).toMatch(/chat template rejected the messages: .*roles must alternate/);
  });

  it("rejects a chat template that does not compile", () => {
    expect(() => createRenderer("{% for x in %}")).toThrow(
      /chat_template: expected a valid Jinja template/,
    );
  });
});
