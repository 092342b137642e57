import { Template } from "@huggingface/jinja";
import type { Tokenizer } from "./tokenizer.js";

export type ChatRole = "system" | "user" | "assistant";

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

/** A message as it arrives in a request; the role is checked when rendering. */
export interface ChatMessageInput {
  role: string;
  content: string;
}

export interface PromptResponseItem {
  prompt: string;
  response: string;
}

export interface MessagesItem {
  messages: readonly ChatMessageInput[];
}

export type RewardItem = PromptResponseItem | MessagesItem;

export interface RenderedItem {
  prompt: string;
  response: string;
}

export interface ItemRenderer {
  /** `field` (e.g. "items[3]") prefixes the field named by errors. */
  render(item: RewardItem, field?: string): RenderedItem;
  /**
   * The item as one text for a sequence model, as transformers'
   * `apply_chat_template(messages, tokenize=False)` renders it: the whole conversation, no
   * generation prompt; (prompt, response) is the conversation [user: prompt, assistant: response].
   */
  renderSequence(item: RewardItem, field?: string): string;
}

export class InvalidMessagesError extends TypeError {
  readonly code = "INVALID_MESSAGES";
  override readonly name = "InvalidMessagesError";
  /** The offending request field, e.g. "items[3].messages[1].role". */
  readonly field: string;

  constructor(field: string, expectation: string) {
    super(`${field}: ${expectation}`);
    this.field = field;
  }
}

const ROLES: ReadonlySet<string> = new Set<ChatRole>(["system", "user", "assistant"]);

function joinField(prefix: string, name: string): string {
  return prefix === "" ? name : `${prefix}.${name}`;
}

function checkMessages(messages: unknown, field: string): ChatMessage[] {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new InvalidMessagesError(
      field,
      "expected a non-empty array ending with an assistant message",
    );
  }
  const checked = messages.map((message: unknown, index): ChatMessage => {
    const { role, content } = (message ?? {}) as Record<string, unknown>;
    if (typeof role !== "string" || !ROLES.has(role)) {
      throw new InvalidMessagesError(
        `${field}[${index}].role`,
        `expected "system", "user" or "assistant", got ${JSON.stringify(role)}`,
      );
    }
    if (typeof content !== "string") {
      throw new InvalidMessagesError(`${field}[${index}].content`, "expected a string");
    }
    return { role: role as ChatRole, content };
  });
  const lastIndex = checked.length - 1;
  if (checked[lastIndex]!.role !== "assistant") {
    throw new InvalidMessagesError(
      `${field}[${lastIndex}].role`,
      `expected the last message to be the assistant response being scored, got "${checked[lastIndex]!.role}"`,
    );
  }
  return checked;
}

function renderPlain(messages: readonly ChatMessage[]): string {
  return messages.map((message) => `${message.role}: ${message.content}`).join("\n");
}

function compileTemplate(chatTemplate: string): Template {
  try {
    return new Template(chatTemplate);
  } catch (error) {
    throw new TypeError(
      `chat_template: expected a valid Jinja template: ${(error as Error).message}`,
    );
  }
}

/**
 * Turns request items into the (prompt, response) pairs the tokenizer encodes. For chat items the
 * response is the final assistant message and the prompt is every earlier message, rendered with
 * the model's Jinja chat template (as for generation, so `add_generation_prompt` is true) or, without
 * a template, as "role: content" lines joined by newlines. The template is compiled once, here.
 */
export function createItemRenderer(
  chatTemplate?: string,
  templateContext: Record<string, unknown> = {},
): ItemRenderer {
  const template = chatTemplate === undefined ? undefined : compileTemplate(chatTemplate);
  const apply = (
    compiled: Template,
    messages: ChatMessage[],
    generation: boolean,
    field: string,
  ) => {
    try {
      // As transformers calls it: no tools, no documents, then the special tokens map.
      return compiled.render({
        tools: null,
        documents: null,
        ...templateContext,
        messages,
        add_generation_prompt: generation,
      });
    } catch (error) {
      throw new InvalidMessagesError(
        field,
        `the model's chat template rejected the messages: ${(error as Error).message}`,
      );
    }
  };
  const renderPrompt = (history: ChatMessage[], field: string): string =>
    template === undefined ? renderPlain(history) : apply(template, history, true, field);
  return {
    renderSequence(item: RewardItem, field = ""): string {
      const isMessages = typeof item === "object" && item !== null && "messages" in item;
      const messagesField = isMessages ? joinField(field, "messages") : field || "item";
      let messages: ChatMessage[];
      if (isMessages) {
        messages = checkMessages(item.messages, messagesField);
      } else {
        const { prompt, response } = (item ?? {}) as Partial<PromptResponseItem>;
        if (typeof prompt !== "string" || typeof response !== "string") {
          throw new TypeError(
            `${field || "item"}: expected {prompt: string, response: string} or {messages: [...]}`,
          );
        }
        messages = [
          { role: "user", content: prompt },
          { role: "assistant", content: response },
        ];
      }
      if (template === undefined) {
        throw new InvalidMessagesError(
          messagesField,
          "the model has no chat template (manifest chat_template or tokenizer_config.json); send the rendered {text}",
        );
      }
      return apply(template, messages, false, messagesField);
    },
    render(item: RewardItem, field = ""): RenderedItem {
      if (typeof item !== "object" || item === null) {
        throw new TypeError(`${field || "item"}: expected {prompt, response} or {messages}`);
      }
      if ("messages" in item) {
        const messagesField = joinField(field, "messages");
        const messages = checkMessages(item.messages, messagesField);
        const response = messages.pop()!.content;
        return { prompt: renderPrompt(messages, messagesField), response };
      }
      if (typeof item.prompt !== "string" || typeof item.response !== "string") {
        throw new TypeError(
          `${field || "item"}: expected {prompt: string, response: string} or {messages: [...]}`,
        );
      }
      return { prompt: item.prompt, response: item.response };
    },
  };
}

/**
 * The renderer a model's items go through: the manifest's chat_template, else (for a sequence
 * model) the one in tokenizer_config.json, with the tokenizer's special tokens map passed to it
 * as transformers passes it.
 */
export function createModelRenderer(
  manifest: { chat_template?: string | undefined; encoding?: "pair" | "sequence" },
  tokenizer: Pick<Tokenizer, "chatTemplate" | "templateVariables">,
): ItemRenderer {
  const fromTokenizer = manifest.encoding === "sequence" ? tokenizer.chatTemplate : undefined;
  return createItemRenderer(manifest.chat_template ?? fromTokenizer, {
    ...tokenizer.templateVariables,
  });
}

/** Alias of createItemRenderer (both names are imported in this codebase). */
export const createRenderer = createItemRenderer;

const MAX_CACHED_RENDERERS = 16;
const renderers = new Map<string | undefined, ItemRenderer>();

function cachedRenderer(chatTemplate: string | undefined): ItemRenderer {
  let renderer = renderers.get(chatTemplate);
  if (renderer === undefined) {
    renderer = createItemRenderer(chatTemplate);
    if (renderers.size >= MAX_CACHED_RENDERERS) renderers.delete(renderers.keys().next().value);
    renderers.set(chatTemplate, renderer);
  }
  return renderer;
}

/** Renders one item; the compiled template is cached per template string. */
export function renderItem(item: RewardItem, chatTemplate?: string): RenderedItem {
  return cachedRenderer(chatTemplate).render(item);
}
