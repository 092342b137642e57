import { WORDS as LOADTEST_WORDS } from "../loadtest/scenarios/texts.js";
import { SeededRandom } from "../src/math/random.js";

export interface BenchText {
  prompt: string;
  response: string;
}

export const TEXT_BYTES = 128;
export const PROMPT_BYTES = 48;

/** The load tests' vocabulary; its first 32 words keep the bench texts as they were. */
const WORDS = LOADTEST_WORDS.slice(0, 32);

/**
 * Distinct ASCII (prompt, response) pairs of exactly TEXT_BYTES bytes together. Text `index` of
 * `family` is the same on every run, and no two (family, index) pairs give the same text: both are
 * written at the start of the prompt.
 */
export function benchTexts(family: string, start: number, count: number): BenchText[] {
  if (!/^[a-z0-9]{1,12}$/.test(family)) {
    throw new TypeError(`family: expected 1-12 lowercase letters or digits, got ${family}`);
  }
  if (!Number.isSafeInteger(start) || start < 0 || !Number.isSafeInteger(count) || count < 0) {
    throw new TypeError(`start, count: expected non-negative integers, got ${start}, ${count}`);
  }
  const out: BenchText[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = benchText(family, start + i);
  return out;
}

function benchText(family: string, index: number): BenchText {
  const random = new SeededRandom((index * 2_654_435_761 + hashFamily(family)) >>> 0);
  const prompt = fill(`${family}#${index}: `, PROMPT_BYTES, random);
  const response = fill("", TEXT_BYTES - PROMPT_BYTES, random);
  return { prompt, response };
}

function fill(prefix: string, bytes: number, random: SeededRandom): string {
  let text = prefix;
  while (text.length < bytes) {
    text += `${WORDS[Math.floor(random.nextUnit() * WORDS.length)]} `;
  }
  return text.slice(0, bytes);
}

function hashFamily(family: string): number {
  let h = 2_166_136_261;
  for (let i = 0; i < family.length; i++) h = Math.imul(h ^ family.charCodeAt(i), 16_777_619);
  return h >>> 0;
}
