import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";

/** Expected accuracy of the true preference model, from the bayes.json `synth` writes. */
export interface BayesReference {
  file: string;
  /** Seen users' held-out pairs. */
  test: number | null;
  newUsers: number | null;
  /** The planted global vector alone on the seen users' held-out pairs. */
  globalTest: number | null;
  /** Rank of the planted user subspace. */
  plantedRank: number | null;
}

/** bayes.json beside the test file, or null when there is none. */
export async function readBayesBeside(testFile: string): Promise<BayesReference | null> {
  const file = join(dirname(testFile), "bayes.json");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  const json = JSON.parse(text) as {
    options?: { rank?: number };
    bayes?: {
      accuracy?: { test?: number | null; newUsers?: number | null };
      globalModelAccuracy?: { test?: number | null };
    };
  };
  const accuracy = json.bayes?.accuracy;
  if (accuracy === undefined) throw new TypeError(`${file}: expected { bayes: { accuracy } }`);
  return {
    file,
    test: accuracy.test ?? null,
    newUsers: accuracy.newUsers ?? null,
    globalTest: json.bayes?.globalModelAccuracy?.test ?? null,
    plantedRank: json.options?.rank ?? null,
  };
}
