/**
 * The data of `fit`'s performance figure: 50 users × 64 pairs drawn from one synth directory's
 * texts (train, test and new users), re-paired within each prompt, half the users preferring the
 * longer response and half the shorter, so that every text's Φ is already in the feature cache.
 *
 *   node --import tsx scripts/experiments/fit-perf-data.ts /tmp/s16d3 > /tmp/perf50x64.jsonl
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SeededRandom } from "../../src/math/random.js";

const USERS = 50;
const PAIRS = 64;
const dir = process.argv[2];
if (dir === undefined) throw new TypeError("usage: fit-perf-data.ts SYNTH_DIR");
const byPrompt = new Map<string, Set<string>>();
for (const file of ["train.jsonl", "test.jsonl", "newusers.jsonl"]) {
  for (const line of readFileSync(join(dir, file), "utf8").split("\n")) {
    if (line === "") continue;
    const row = JSON.parse(line) as { prompt: string; chosen: string; rejected: string };
    const responses = byPrompt.get(row.prompt) ?? new Set<string>();
    responses.add(row.chosen).add(row.rejected);
    byPrompt.set(row.prompt, responses);
  }
}
const prompts = [...byPrompt.keys()];
const random = new SeededRandom(7);
const pick = <T>(items: readonly T[]) => items[Math.floor(random.nextUnit() * items.length)]!;
const lines: string[] = [];
for (let u = 0; u < USERS; u++) {
  for (let i = 0; i < PAIRS; i++) {
    const prompt = pick(prompts);
    const responses = [...byPrompt.get(prompt)!];
    const a = pick(responses);
    let b = a;
    while (b === a) b = pick(responses);
    const [longer, shorter] = a.length >= b.length ? [a, b] : [b, a];
    const [chosen, rejected] = u % 2 === 0 ? [longer, shorter] : [shorter, longer];
    lines.push(JSON.stringify({ user: `perf-${u}`, prompt, chosen, rejected }));
  }
}
process.stdout.write(`${lines.join("\n")}\n`);
