import { createRng, type Rng } from "../../src/math/random.js";

export const WORDS = [
  "the",
  "model",
  "reward",
  "user",
  "prefers",
  "short",
  "answers",
  "with",
  "clear",
  "steps",
  "please",
  "explain",
  "why",
  "this",
  "works",
  "and",
  "how",
  "to",
  "fix",
  "it",
  "quickly",
  "code",
  "review",
  "summary",
  "of",
  "a",
  "long",
  "story",
  "about",
  "cats",
  "weather",
  "today",
  "careful",
  "polite",
  "detailed",
  "example",
  "first",
  "then",
  "finally",
  "because",
  "which",
];

function sentence(rng: Rng, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(WORDS[rng.nextUint32() % WORDS.length]!);
  return out.join(" ");
}

/**
 * Deterministic prompts and responses. Prompts come from a small pool (users ask similar things);
 * every `fresh()` response is new text, so the backbone runs for it instead of the feature cache.
 */
export class TextSource {
  readonly prompts: readonly string[];
  #rng: Rng;
  #count = 0;

  constructor(seed: number, promptPool = 32) {
    if (!Number.isSafeInteger(promptPool) || promptPool < 1) {
      throw new TypeError(`promptPool: expected a positive integer, got ${promptPool}`);
    }
    this.#rng = createRng(seed >>> 0);
    this.prompts = Array.from(
      { length: promptPool },
      (_, i) => `Question ${i}: ${sentence(this.#rng, 4 + (i % 6))}?`,
    );
  }

  prompt(): string {
    return this.prompts[this.#rng.nextUint32() % this.prompts.length]!;
  }

  /**
   * A response never produced before by this source: 8 to 20 words and a serial number, about
   * 100 bytes, since the backbone's cost grows steeply with length.
   */
  fresh(): string {
    this.#count++;
    return `${sentence(this.#rng, 8 + (this.#rng.nextUint32() % 13))}. (#${this.#count})`;
  }

  /** Uniform in [0, 1), from the same seeded stream. */
  unit(): number {
    return this.#rng.nextUnit();
  }
}
