import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { z } from "zod";
import { DEFAULT_LIMITS, type PreferencePair, preferencePair } from "../domain/preference-pair.js";
import { USER_ID_PATTERN } from "../domain/user-id.js";

export interface Comparison {
  user: string;
  pair: PreferencePair;
  line: number;
}

export class DataError extends Error {
  readonly code = "INVALID_DATA";
  readonly line: number;
  constructor(file: string, line: number, message: string) {
    super(`${file}:${line}: ${message}`);
    this.line = line;
  }
}

const limits = { ...DEFAULT_LIMITS, maxItems: 4096 };
const rowSchema = z.intersection(
  z.object({
    user: z
      .string()
      .regex(USER_ID_PATTERN, "expected a user id of 1-128 characters of [A-Za-z0-9._:@-]"),
  }),
  z.union([
    z.object({ prompt: z.string(), chosen: z.string(), rejected: z.string() }),
    z.object({
      prompt: z.array(z.unknown()),
      chosen: z.array(z.unknown()),
      rejected: z.array(z.unknown()),
    }),
  ]),
);
const pairSchema = preferencePair(limits);

/**
 * Reads TRL-style preference JSONL with a user id per line. A bad line stops the read with its
 * line number, unless `skipBad` is set, in which case it is reported through `onSkip`.
 */
export async function readComparisons(
  file: string,
  options: { skipBad?: boolean; onSkip?: (error: DataError) => void } = {},
): Promise<Comparison[]> {
  const rows: Comparison[] = [];
  const lines = createInterface({
    input: createReadStream(file, "utf8"),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let line = 0;
  for await (const text of lines) {
    line += 1;
    if (text.trim().length === 0) continue;
    try {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (error) {
        throw new DataError(file, line, `not valid JSON: ${(error as Error).message}`);
      }
      const row = rowSchema.safeParse(json);
      if (!row.success) throw new DataError(file, line, describe(row.error));
      const { user, ...rest } = json as { user: string };
      const pair = pairSchema.safeParse(rest);
      if (!pair.success) throw new DataError(file, line, describe(pair.error));
      rows.push({ user, pair: pair.data as PreferencePair, line });
    } catch (error) {
      if (!(error instanceof DataError) || !options.skipBad) throw error;
      options.onSkip?.(error);
    }
  }
  return rows;
}

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join(".") || "(line)"}: ${issue.message}`)
    .join("; ");
}
