import { forEachConcurrently } from "./concurrency.js";
import type { JsonClient } from "./http-client.js";
import { type LoadResult, runLoad } from "./load.js";
import { type BenchText, benchTexts } from "./texts.js";

/** Hands out texts of one family in order, so no text is ever sent twice by accident. */
export class TextCursor {
  readonly family: string;
  #next = 0;

  constructor(family: string) {
    this.family = family;
  }

  get position(): number {
    return this.#next;
  }

  take(count: number): BenchText[] {
    const texts = benchTexts(this.family, this.#next, count);
    this.#next += count;
    return texts;
  }

  skipTo(position: number): void {
    this.#next = Math.max(this.#next, position);
  }
}

export function scoreBody(texts: readonly BenchText[], user?: string): unknown {
  return {
    ...(user === undefined ? {} : { user }),
    items: texts.map((t) => ({ prompt: t.prompt, response: t.response })),
  };
}

function personalized(body: unknown): string | undefined {
  return (body as { personalized?: unknown }).personalized === true
    ? undefined
    : `expected a personalized answer, got ${JSON.stringify(body).slice(0, 200)}`;
}

/** How long a backbone-bound run lasts: at least durationMs and minBursts batches answered. */
export interface BatchedRunLength {
  durationMs: number;
  minBursts: number;
  maxDurationMs: number;
}

/** Global scores, one never-seen text per request: every text costs a backbone pass. */
export function uniqueLoad(
  client: JsonClient,
  cursor: TextCursor,
  concurrency: number,
  length: BatchedRunLength,
): Promise<LoadResult> {
  return runLoad({
    client,
    concurrency,
    ...length,
    next: () => ({ path: "/v1/score", body: scoreBody(cursor.take(1)), units: 1 }),
  });
}

/**
 * Each of `users` scores the same sequence of never-seen texts, `items` per request, with
 * `loopsPerUser` requests in flight: one backbone pass per text serves every user. Units are
 * user-scored texts.
 */
export async function sharedLoad(
  client: JsonClient,
  users: readonly string[],
  cursor: TextCursor,
  options: { loopsPerUser: number; items: number; length: BatchedRunLength },
): Promise<LoadResult> {
  const base = cursor.position;
  const offsets = users.map(() => 0);
  const result = await runLoad({
    client,
    concurrency: users.length * options.loopsPerUser,
    ...options.length,
    next: (loop) => {
      const u = loop % users.length;
      const start = base + offsets[u]!;
      offsets[u]! += options.items;
      return {
        path: "/v1/score",
        body: scoreBody(benchTexts(cursor.family, start, options.items), users[u]),
        units: options.items,
      };
    },
    check: personalized,
  });
  cursor.skipTo(base + Math.max(...offsets));
  return result;
}

/** Text n of a fixed set, round and round. */
export function cycling(texts: readonly BenchText[]): (n: number) => BenchText {
  return (n) => texts[n % texts.length]!;
}

/** One personalized score per request: request n is for user userOf(n) on text textOf(n). */
export function usersLoad(
  client: JsonClient,
  userOf: (n: number) => string,
  textOf: (n: number) => BenchText,
  options: Partial<BatchedRunLength> & {
    concurrency: number;
    durationMs: number;
    requests?: number;
  },
): Promise<LoadResult> {
  const { requests, ...length } = options;
  let n = 0;
  return runLoad({
    client,
    ...length,
    next: () => {
      if (requests !== undefined && n >= requests) return undefined;
      const i = n++;
      return { path: "/v1/score", body: scoreBody([textOf(i)], userOf(i)), units: 1 };
    },
    check: personalized,
  });
}

/** Puts every text in the server's feature cache (global scores, 8 texts a request). */
export async function warmFeatures(client: JsonClient, texts: readonly BenchText[]): Promise<void> {
  const per = 8;
  await forEachConcurrently(Math.ceil(texts.length / per), 8, async (i) => {
    const response = await client.post("/v1/score", scoreBody(texts.slice(i * per, (i + 1) * per)));
    if (response.status !== 200) {
      throw new Error(`Warming the feature cache failed: HTTP ${response.status}`);
    }
  });
}
