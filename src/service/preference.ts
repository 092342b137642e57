import { ProblemError } from "../errors.js";
import type { TextPair } from "../inference/engine.js";
import type { ChatMessage, RewardItem } from "../inference/render.js";

export type PreferencePair =
  | { prompt: string; chosen: string; rejected: string }
  | { prompt: ChatMessage[]; chosen: ChatMessage[]; rejected: ChatMessage[] };

/** Both sides of every pair as texts to score; TRL's conversational form is rendered like messages. */
export function preferenceTexts(
  pairs: readonly PreferencePair[],
  render: (item: RewardItem, field: string) => { prompt: string; response: string },
): { chosen: TextPair[]; rejected: TextPair[] } {
  const chosen: TextPair[] = [];
  const rejected: TextPair[] = [];
  pairs.forEach((pair, i) => {
    const field = `pairs[${i}]`;
    const c =
      typeof pair.prompt === "string"
        ? { prompt: pair.prompt, response: pair.chosen as string }
        : render(
            { messages: [...pair.prompt, ...(pair.chosen as ChatMessage[])] },
            `${field}.chosen`,
          );
    const r =
      typeof pair.prompt === "string"
        ? { prompt: pair.prompt, response: pair.rejected as string }
        : render(
            { messages: [...pair.prompt, ...(pair.rejected as ChatMessage[])] },
            `${field}.rejected`,
          );
    if (c.prompt === r.prompt && c.response === r.response) {
      throw new ProblemError("INVALID_REQUEST", `${field}: chosen and rejected are identical`, {
        field,
      });
    }
    chosen.push({ ...c, field: `${field}.chosen` });
    rejected.push({ ...r, field: `${field}.rejected` });
  });
  return { chosen, rejected };
}
