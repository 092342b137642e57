import { readFile } from "node:fs/promises";
import type { TextPair } from "../../inference/engine.js";
import type { Head } from "../../model/head-file.js";
import type { ReplayUser } from "./replay.js";

/** One line of `synth`'s candidates.jsonl. */
export interface CandidateLine {
  user: string;
  split: "pool" | "test";
  prompt: string;
  responses: string[];
  utilities: number[];
}

export async function readCandidates(file: string): Promise<CandidateLine[]> {
  const lines = (await readFile(file, "utf8")).split("\n");
  const rows: CandidateLine[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    const row = JSON.parse(line) as Partial<CandidateLine>;
    const ok =
      typeof row.user === "string" &&
      (row.split === "pool" || row.split === "test") &&
      typeof row.prompt === "string" &&
      Array.isArray(row.responses) &&
      row.responses.length >= 2 &&
      row.responses.every((r) => typeof r === "string") &&
      Array.isArray(row.utilities) &&
      row.utilities.length === row.responses.length &&
      row.utilities.every((u) => typeof u === "number" && Number.isFinite(u));
    if (!ok) {
      throw new TypeError(
        `${file}:${i + 1}: expected {user, split: "pool"|"test", prompt, responses: [≥ 2 strings], utilities: [one number per response]}`,
      );
    }
    rows.push(row as CandidateLine);
  });
  return rows;
}

/**
 * Replay users from candidate lines, with each text's base reward ⟨Θ0, Φ⟩ + b0 and projection
 * vec(BᵀΦ) under `head`, as the server computes them; `phi` gives Φ (d×m) of texts in order.
 */
export async function replayUsers(
  rows: readonly CandidateLine[],
  head: Pick<Head, "d" | "m" | "k" | "theta0" | "b0" | "B">,
  phi: (texts: readonly TextPair[]) => Promise<Float32Array[]>,
): Promise<ReplayUser[]> {
  const texts = rows.flatMap((row) =>
    row.responses.map((response) => ({ prompt: row.prompt, response })),
  );
  const features = await phi(texts);
  const { d, m, k } = head;
  const p = k * m;
  const base = new Float64Array(texts.length);
  const proj = new Float64Array(texts.length * p);
  features.forEach((f, t) => {
    let b = head.b0;
    for (let i = 0; i < d; i++) {
      for (let c = 0; c < m; c++) {
        const x = f[i * m + c]!;
        b += head.theta0[i * m + c]! * x;
        for (let a = 0; a < k; a++) proj[t * p + a * m + c] += head.B[i * k + a]! * x;
      }
    }
    base[t] = b;
  });

  const byUser = new Map<string, { pool: number[]; test: number[] }>();
  rows.forEach((row, r) => {
    const entry = byUser.get(row.user) ?? { pool: [], test: [] };
    byUser.set(row.user, entry);
    entry[row.split].push(r);
  });
  const starts: number[] = [];
  let offset = 0;
  for (const row of rows) {
    starts.push(offset);
    offset += row.responses.length;
  }
  const users: ReplayUser[] = [];
  for (const [user, { pool, test }] of byUser) {
    if (pool.length === 0 || test.length === 0) {
      throw new TypeError(`user ${user}: expected both pool and test rows`);
    }
    const poolTexts = pool.flatMap((r) => rows[r]!.responses.map((_, i) => starts[r]! + i));
    const offsets = new Int32Array(pool.length + 1);
    pool.forEach((r, c) => {
      offsets[c + 1] = offsets[c]! + rows[r]!.responses.length;
    });
    const g: number[] = [];
    const o: number[] = [];
    const truth: number[] = [];
    for (const r of test) {
      const row = rows[r]!;
      for (let a = 0; a < row.responses.length; a++) {
        for (let b = a + 1; b < row.responses.length; b++) {
          const ta = starts[r]! + a;
          const tb = starts[r]! + b;
          o.push(base[ta]! - base[tb]!);
          for (let i = 0; i < p; i++) g.push(proj[ta * p + i]! - proj[tb * p + i]!);
          truth.push(row.utilities[a]! - row.utilities[b]!);
        }
      }
    }
    users.push({
      user,
      pool: {
        p,
        base: Float64Array.from(poolTexts, (t) => base[t]!),
        proj: Float64Array.from(
          poolTexts.flatMap((t) => Array.from(proj.subarray(t * p, (t + 1) * p))),
        ),
        offsets,
      },
      utilities: Float64Array.from(pool.flatMap((r) => rows[r]!.utilities)),
      test: {
        g: Float64Array.from(g),
        o: Float64Array.from(o),
        truth: Float64Array.from(truth),
        n: o.length,
      },
    });
  }
  return users;
}
