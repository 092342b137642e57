import type { PreferencePair } from "../domain/preference-pair.js";
import type { TextPair } from "../inference/engine.js";
import type { ItemRenderer, RenderedItem, RewardItem } from "../inference/render.js";
import type { Encoding } from "../model/manifest.js";
import { ServiceError } from "./errors.js";

/** A sequence the caller already rendered (chat template applied, special tokens spelled out). */
export interface TextItem {
  text: string;
}

/** An item to score, for its own user when it names one (`userField`: where it named them). */
export type ScoreItem = (RewardItem | TextItem) & {
  user?: string | undefined;
  userField?: string;
};

/**
 * Request items as the texts the engine encodes, and a malformed conversation names the request
 * field it came from. A pair model gets (prompt, response) texts, messages rendered with the
 * model's chat template up to the response. A sequence model gets one text per item (in
 * `response`, with an empty `prompt`; the engine encodes prompt + response as one sequence): the
 * whole conversation rendered by the template, as transformers' apply_chat_template renders it.
 */
export class ItemTexts {
  readonly #renderer: ItemRenderer;
  readonly encoding: Encoding;

  constructor(renderer: ItemRenderer, encoding: Encoding = "pair") {
    this.#renderer = renderer;
    this.encoding = encoding;
  }

  /**
   * A rendered text is the response to an empty prompt: for a pair model the tokenizer's pair
   * template adds its own structural special tokens; a sequence model encodes it as it stands.
   */
  render(item: RewardItem | TextItem, field: string): RenderedItem {
    if ("text" in item) return { prompt: "", response: item.text };
    try {
      if (this.encoding === "sequence") {
        return { prompt: "", response: this.#renderer.renderSequence(item, field) };
      }
      return this.#renderer.render(item, field);
    } catch (error) {
      if ((error as { code?: string }).code !== "INVALID_MESSAGES") throw error;
      // The renderer names the full path, down to the message and its key.
      const at = (error as { field?: string }).field ?? field;
      throw new ServiceError("INVALID_MESSAGES", (error as Error).message, {
        field: at,
        cause: error,
      });
    }
  }

  /** Both sides of every pair; TRL's conversational form is rendered like messages. */
  preferences(pairs: readonly PreferencePair[]): { chosen: TextPair[]; rejected: TextPair[] } {
    const chosen: TextPair[] = [];
    const rejected: TextPair[] = [];
    pairs.forEach((pair, i) => {
      const field = `pairs[${i}]`;
      const side = (answer: PreferencePair["chosen"], name: "chosen" | "rejected") =>
        typeof pair.prompt === "string"
          ? this.render({ prompt: pair.prompt, response: answer as string }, `${field}.${name}`)
          : this.render(
              { messages: [...pair.prompt, ...(answer as Exclude<typeof answer, string>)] },
              `${field}.${name}`,
            );
      const c = side(pair.chosen, "chosen");
      const r = side(pair.rejected, "rejected");
      if (c.prompt === r.prompt && c.response === r.response) {
        throw new ServiceError("INVALID_PAIR", `${field}: chosen and rejected are identical`, {
          field,
        });
      }
      chosen.push({ ...c, field: `${field}.chosen` });
      rejected.push({ ...r, field: `${field}.rejected` });
    });
    return { chosen, rejected };
  }
}
