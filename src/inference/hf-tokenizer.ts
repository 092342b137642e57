import { readFile } from "node:fs/promises";
import { Tokenizer as HfLibraryTokenizer } from "@huggingface/tokenizers";
import type { HfTokenizerSpec } from "../model/manifest.js";
import { resolveModelPath } from "../model/manifest.js";
import { truncatePair } from "./pair-truncation.js";
import { type EncodedPair, type EncodedSequence, keepEnd, type Tokenizer } from "./tokenizer.js";

export class TokenizerLoadError extends Error {
  readonly code = "TOKENIZER_INVALID";
  override readonly name = "TokenizerLoadError";
}

interface Processed {
  tokens: string[];
  typeIds: number[] | undefined;
}

export interface HfTokenizerOptions {
  /** Parsed tokenizer_config.json, if the model has one. */
  config?: Record<string, unknown>;
  /** Pad id; otherwise taken from tokenizer.json `padding.pad_id` or the config's `pad_token`. */
  padId?: number;
  /**
   * With no pad token anywhere (Llama 3 has none), pad with the eos id, or 0: padded positions are
   * masked out, so any id will do. Without this, a missing pad token is an error.
   */
  padWithAnyId?: boolean;
}

/** The special-token entries transformers' special_tokens_map holds, as the template sees them. */
const SPECIAL_TOKEN_KEYS = [
  "bos_token",
  "eos_token",
  "unk_token",
  "sep_token",
  "pad_token",
  "cls_token",
  "mask_token",
] as const;

/** special_tokens_map: each special token's content; additional_special_tokens as a list. */
function specialTokensMap(config: Record<string, unknown>): Record<string, unknown> {
  const map: Record<string, unknown> = {};
  for (const key of SPECIAL_TOKEN_KEYS) {
    const content = tokenContent(config[key]);
    if (content !== undefined) map[key] = content;
  }
  const additional = config["additional_special_tokens"];
  if (Array.isArray(additional) && additional.length > 0) {
    map["additional_special_tokens"] = additional
      .map(tokenContent)
      .filter((t): t is string => t !== undefined);
  }
  return map;
}

/** tokenizer_config.json's chat_template: a string, or a list of {name, template} ("default"). */
export function configChatTemplate(config: Record<string, unknown>): string | undefined {
  const template = config["chat_template"];
  if (typeof template === "string") return template;
  if (Array.isArray(template)) {
    const named = template.find((entry) => isObject(entry) && entry["name"] === "default");
    if (isObject(named) && typeof named["template"] === "string") return named["template"];
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function tokenContent(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (isObject(value) && typeof value["content"] === "string") return value["content"];
  return undefined;
}

/**
 * A Hugging Face tokenizer.json tokenizer. The pair is tokenized without special tokens, truncated
 * with the shared policy, then passed through the tokenizer's own post-processor, so the special
 * tokens are exactly those of `encode(prompt, { text_pair: response })`.
 */
export class HfTokenizer implements Tokenizer {
  readonly padId: number;
  readonly chatTemplate: string | undefined;
  readonly templateVariables: Readonly<Record<string, unknown>>;
  readonly #tokenizer: HfLibraryTokenizer;
  readonly #specialTokenCount: number;
  readonly #addedTokenIds = new Map<string, number>();

  constructor(tokenizerJson: unknown, options: HfTokenizerOptions = {}) {
    if (!isObject(tokenizerJson)) throw new TypeError("tokenizerJson: expected an object");
    const config = options.config ?? {};
    this.#tokenizer = new HfLibraryTokenizer(tokenizerJson, config);
    // Mirrors the library's encode(): added tokens match by content and, when normalized, by their
    // normalized content, which the model vocabulary may not contain.
    const normalizer = this.#tokenizer.normalizer;
    for (const [id, token] of this.#tokenizer.get_added_tokens_decoder()) {
      this.#addedTokenIds.set(token.content, id);
      if (token.normalized && normalizer !== null)
        this.#addedTokenIds.set(normalizer(token.content), id);
    }
    this.#specialTokenCount = this.#postProcess([], []).tokens.length;
    this.padId = this.#resolvePadId(tokenizerJson, config, options);
    this.chatTemplate = configChatTemplate(config);
    this.templateVariables = specialTokensMap(config);
  }

  #resolvePadId(
    json: Record<string, unknown>,
    config: Record<string, unknown>,
    options: HfTokenizerOptions,
  ): number {
    const explicit = options.padId;
    if (explicit !== undefined) return explicit;
    const padding = json["padding"];
    if (isObject(padding) && Number.isSafeInteger(padding["pad_id"])) {
      return padding["pad_id"] as number;
    }
    const padToken = tokenContent(config["pad_token"]);
    const fromConfig = padToken === undefined ? undefined : this.#tokenizer.token_to_id(padToken);
    if (fromConfig !== undefined) return fromConfig;
    if (options.padWithAnyId) {
      const eos = tokenContent(config["eos_token"]);
      return (eos === undefined ? undefined : this.#tokenizer.token_to_id(eos)) ?? 0;
    }
    throw new TypeError(
      "no pad token: expected tokenizer.json padding.pad_id, a tokenizer_config pad_token, " +
        "or tokenizer.pad_id in the manifest",
    );
  }

  #postProcess(prompt: string[], response: string[]): Processed {
    const processor = this.#tokenizer.post_processor;
    if (processor === null) return { tokens: [...prompt, ...response], typeIds: undefined };
    const output = processor.post_process(prompt, response, true);
    // Some processors (ByteLevel) hand the pair back unmerged.
    const tokens = output.tokens_pair ? [...output.tokens, ...output.tokens_pair] : output.tokens;
    const typeIds = output.token_type_ids;
    return { tokens, typeIds: typeIds?.length === tokens.length ? typeIds : undefined };
  }

  #toId(token: string): number {
    const id =
      this.#addedTokenIds.get(token) ??
      this.#tokenizer.token_to_id(token) ??
      this.#tokenizer.model?.unk_token_id;
    if (id === undefined) {
      throw new TokenizerLoadError(
        `token ${JSON.stringify(token)} has no id and there is no unk token`,
      );
    }
    return id;
  }

  encodePair(prompt: string, response: string, maxLength: number): EncodedPair {
    if (typeof prompt !== "string" || typeof response !== "string") {
      throw new TypeError("encodePair: expected prompt and response strings");
    }
    if (!Number.isSafeInteger(maxLength) || maxLength < this.#specialTokenCount) {
      throw new RangeError(
        `maxLength: expected an integer of at least ${this.#specialTokenCount}, got ${maxLength}`,
      );
    }
    const promptTokens = this.#tokenizer.tokenize(prompt, { add_special_tokens: false });
    const responseTokens = this.#tokenizer.tokenize(response, { add_special_tokens: false });
    const cut = truncatePair(
      promptTokens.length,
      responseTokens.length,
      maxLength - this.#specialTokenCount,
    );
    const processed = this.#postProcess(
      promptTokens.slice(cut.promptStart),
      responseTokens.slice(0, cut.responseEnd),
    );
    const ids = processed.tokens.map((token) => this.#toId(token));
    const encoded: EncodedPair = { ids, truncated: cut.truncated };
    if (processed.typeIds !== undefined) encoded.typeIds = processed.typeIds;
    return encoded;
  }

  encodeSequence(text: string, maxLength: number): EncodedSequence {
    if (typeof text !== "string") throw new TypeError("encodeSequence: expected a string");
    const tokens = this.#tokenizer.tokenize(text, { add_special_tokens: false });
    return keepEnd(
      tokens.map((token: string) => this.#toId(token)),
      maxLength,
    );
  }
}

async function readJson(path: string, field: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new TokenizerLoadError(
      `${path} (manifest ${field}): cannot read JSON: ${(error as Error).message}`,
    );
  }
}

/** Loads the tokenizer.json (and optional tokenizer_config.json) named by the manifest; no network. */
export async function loadHfTokenizer(
  modelDir: string,
  spec: HfTokenizerSpec,
  options: Pick<HfTokenizerOptions, "padWithAnyId"> = {},
): Promise<HfTokenizer> {
  const path = resolveModelPath(modelDir, spec.file);
  const json = await readJson(path, "tokenizer.file");
  let config: Record<string, unknown> | undefined;
  if (spec.config !== undefined) {
    const configPath = resolveModelPath(modelDir, spec.config);
    const parsed = await readJson(configPath, "tokenizer.config");
    if (!isObject(parsed)) {
      throw new TokenizerLoadError(`${configPath}: expected a JSON object`);
    }
    config = parsed;
  }
  try {
    return new HfTokenizer(json, { ...options, config, padId: spec.pad_id });
  } catch (error) {
    throw new TokenizerLoadError(`${path}: ${(error as Error).message}`);
  }
}
