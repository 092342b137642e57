/**
 * Surface attributes of a response that a byte-level model can perceive. Each is roughly on a
 * unit scale; counts saturate so that no attribute dominates v·Δa.
 */
export const ATTRIBUTE_NAMES = [
  "length",
  "bullets",
  "code",
  "exclamation",
  "digits",
  "emoji",
  "formality",
  "question",
  "capitals",
  "heading",
] as const;

export type AttributeName = (typeof ATTRIBUTE_NAMES)[number];

export const ATTRIBUTE_COUNT = ATTRIBUTE_NAMES.length;

const BULLET_LINE = /^[ \t]*[-*] \S/gm;
const CODE_FENCE = /^[ \t]*```/gm;
const NUMBER = /\d+/g;
const EMOJI = /[\u{1F300}-\u{1FAFF}\u{2600}-\u{27BF}]/gu;
const FORMAL = /^(?:Dear\b|Kind regards\b|Sincerely\b|Yours faithfully\b)/m;
const CONTRACTION = /[A-Za-z]'(?:s|t|re|ll|ve|d|m)\b/;
const SHOUTED_WORD = /\b[A-Z]{2,}\b/g;
const HEADING = /^#{1,6} \S/m;
// Words / 80, saturating: generated responses have about 24–75 words.
const LENGTH_SCALE = 80;

/** Whitespace-separated words (a hand loop: this runs for every generated response). */
export function countWords(text: string): number {
  let words = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c === 32 || (c >= 9 && c <= 13);
    if (!space && !inWord) words++;
    inWord = !space;
  }
  return words;
}

function count(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}

function saturate(n: number, at: number): number {
  return Math.min(n, at) / at;
}

/** a(x) ∈ R^q, in the order of ATTRIBUTE_NAMES. */
export function attributes(text: string): Float64Array {
  if (typeof text !== "string") throw new TypeError(`expected a string, got ${typeof text}`);
  return Float64Array.from([
    saturate(countWords(text), LENGTH_SCALE),
    saturate(count(text, BULLET_LINE), 3),
    count(text, CODE_FENCE) >= 2 ? 1 : 0,
    saturate(count(text, /!/g), 2),
    saturate(count(text, NUMBER), 2),
    saturate(count(text, EMOJI), 2),
    (FORMAL.test(text) ? 1 : 0) - (CONTRACTION.test(text) ? 1 : 0),
    text.includes("?") ? 1 : 0,
    saturate(count(text, SHOUTED_WORD), 2),
    HEADING.test(text) ? 1 : 0,
  ]);
}
