/**
 * Two opposite, easily perceived tastes for demos and end-to-end tests: "structured" users prefer
 * answers with a heading, a bullet list and a code block; "exclaim" users prefer short,
 * enthusiastic answers. Every pair sets one answer of each style against the other, so a single
 * global reward cannot serve both groups and personalization is what makes the difference.
 */
export type Taste = "structured" | "exclaim";

export interface TasteRow {
  user: string;
  prompt: string;
  chosen: string;
  rejected: string;
}

const TOPICS = [
  "sort a list",
  "read a file",
  "parse JSON",
  "reverse a string",
  "count words",
  "merge two arrays",
  "format a date",
  "remove duplicates",
  "sum the numbers",
  "find the maximum",
  "split a sentence",
  "check a palindrome",
] as const;

const VERBS = ["load", "read", "take", "fetch"] as const;
const CHEERS = ["Great question!", "Easy!", "Love it!", "Oh, nice one!", "You got this!"] as const;

export function tastePrompt(i: number): string {
  return `How do I ${TOPICS[i % TOPICS.length]}?`;
}

export function structuredAnswer(i: number): string {
  const topic = TOPICS[i % TOPICS.length]!;
  return [
    `## How to ${topic}`,
    `- Step 1: ${VERBS[Math.floor(i / TOPICS.length) % VERBS.length]} the input`,
    `- Step 2: ${topic} with the standard library`,
    "- Step 3: print the result",
    "```js",
    `const result = run(input); // ${topic}`,
    "```",
  ].join("\n");
}

export function exclaimAnswer(i: number): string {
  const topic = TOPICS[i % TOPICS.length]!;
  const cheer = CHEERS[Math.floor(i / TOPICS.length) % CHEERS.length];
  return `${cheer} Just ${topic} in one line and you're done!!`;
}

/** `count` pairs of `user`, pair i built from item offset + i. */
export function tastePairs(user: string, taste: Taste, count: number, offset = 0): TasteRow[] {
  return Array.from({ length: count }, (_, j) => {
    const i = offset + j;
    const structured = structuredAnswer(i);
    const exclaim = exclaimAnswer(i);
    const likesStructure = taste === "structured";
    return {
      user,
      prompt: tastePrompt(i),
      chosen: likesStructure ? structured : exclaim,
      rejected: likesStructure ? exclaim : structured,
    };
  });
}
