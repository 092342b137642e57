import type { PreferencePair } from "../domain/preference-pair.js";
import type { TextPair } from "../inference/engine.js";
import type { ItemRenderer, RenderedItem, RewardItem } from "../inference/render.js";
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
 * Request items as the (prompt, response) texts the engine encodes: messages are rendered with the
 * model's chat template, and a malformed conversation names the request field it came from.
 */
export class ItemTexts {
  readonly #renderer: ItemRenderer;

  constructor(renderer: ItemRenderer) {
    this.#renderer = renderer;
  }

  /**
   * Every model served today encodes (prompt, response) pairs, so a rendered text is the response
   * to an empty prompt: the tokenizer's pair template adds its own structural special tokens.
   */
  render(item: RewardItem | TextItem, field: string): RenderedItem {
    if ("text" in item) return { prompt: "", response: item.text };
    try {
      return this.#renderer.render(item);
    } catch (error) {
      if ((error as { code?: string }).code !== "INVALID_MESSAGES") throw error;
      throw new ServiceError("INVALID_MESSAGES", `${field}.messages: ${(error as Error).message}`, {
        field: `${field}.messages`,
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
          ? { prompt: pair.prompt, response: answer as string }
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
