import type { Sfc32Random } from "../../math/random.js";
import { countWords } from "./attributes.js";
import * as vocab from "./vocabulary.js";

/**
 * Upper bound on a response's UTF-8 size: with the longest prompt and BOS/SEP/EOS, a pair's text
 * fits the default model's 512-byte context, so no attribute is truncated away.
 */
export const MAX_RESPONSE_BYTES = 448;

/** The attribute levels a response is built with, each drawn independently of the others. */
export interface ResponseStyle {
  /** Target word count; plain sentences fill the response up to it. */
  readonly words: number;
  readonly bullets: number;
  readonly code: boolean;
  readonly exclamations: number;
  readonly numbers: number;
  readonly emoji: number;
  readonly formality: -1 | 0 | 1;
  readonly question: boolean;
  readonly shouted: number;
  readonly heading: boolean;
}

export function drawStyle(rng: Sfc32Random): ResponseStyle {
  return {
    words: 24 + rng.int(52),
    bullets: rng.bernoulli(0.4) ? 2 + rng.int(2) : 0,
    code: rng.bernoulli(0.3),
    exclamations: rng.int(3),
    numbers: rng.int(3),
    emoji: rng.int(3),
    formality: (rng.int(3) - 1) as -1 | 0 | 1,
    question: rng.bernoulli(0.4),
    shouted: rng.int(3),
    heading: rng.bernoulli(0.35),
  };
}

function plainSentence(rng: Sfc32Random, topic: string): string {
  const opener = rng.pick(vocab.OPENERS).replace("{topic}", topic);
  return `${opener} ${rng.pick(vocab.ACTIONS)} ${rng.pick(vocab.CLAUSES)}.`;
}

/** Builds a response for `topic` whose attributes follow `style`. */
export function composeResponse(rng: Sfc32Random, topic: string, style: ResponseStyle): string {
  const extras: string[] = [];
  for (let i = 0; i < style.exclamations; i++) extras.push(rng.pick(vocab.INTERJECTIONS));
  for (let i = 0; i < style.numbers; i++) {
    const n = String(2 + rng.int(59));
    extras.push(rng.pick(vocab.NUMBER_SENTENCES).replace("{n}", n));
  }
  for (let i = 0; i < style.shouted; i++) extras.push(rng.pick(vocab.SHOUTED_SENTENCES));
  if (style.formality < 0) extras.push(rng.pick(vocab.CASUAL_SENTENCES));
  const emoji: string[] = [];
  for (let i = 0; i < style.emoji; i++) emoji.push(rng.pick(vocab.EMOJI));

  const before: string[] = [];
  if (style.formality > 0) before.push(vocab.FORMAL_OPENING);
  if (style.heading) before.push(rng.pick(vocab.HEADINGS));
  const after: string[] = [];
  if (style.bullets > 0) {
    const items: string[] = [rng.pick(vocab.LIST_INTROS)];
    for (let i = 0; i < style.bullets; i++) items.push(`- ${rng.pick(vocab.ACTIONS)}`);
    after.push(items.join("\n"));
  }
  if (style.code) after.push(rng.pick(vocab.CODE_BLOCKS).join("\n"));
  if (style.question) after.push(rng.pick(vocab.QUESTIONS));
  if (style.formality > 0) after.push(vocab.FORMAL_CLOSING);

  // Plain sentences make up the word budget, so length varies independently of the other snippets;
  // the byte budget keeps every response whole inside the model's context.
  const fixed = [...extras, ...emoji, ...before, ...after].join(" ");
  let words = countWords(fixed);
  let bytes =
    Buffer.byteLength(fixed) + 2 * (before.length + after.length + extras.length + emoji.length);
  const body: string[] = [];
  for (;;) {
    const sentence = plainSentence(rng, topic);
    const size = Buffer.byteLength(sentence) + 1;
    if (body.length > 0 && (words >= style.words || bytes + size > MAX_RESPONSE_BYTES)) break;
    body.push(sentence);
    words += countWords(sentence);
    bytes += size;
  }
  for (const extra of extras) body.splice(rng.int(body.length + 1), 0, extra);
  const paragraph = [...body, ...emoji].join(" ");
  return [...before, paragraph, ...after].join("\n\n");
}
