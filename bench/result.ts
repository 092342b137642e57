import { z } from "zod";

export const FIGURE_NAMES = [
  "raw_seq_per_s",
  "raw_batch",
  "server_seq_per_s",
  "ratio_unique",
  "shared_scores_per_s",
  "ratio_shared_8_users",
  "openrlhf_texts_per_s",
  "ratio_openrlhf_single",
  "one_user_scores_per_s",
  "users_10k_scores_per_s",
  "ratio_10k_users",
  "matrix_user_scores_per_s",
  "one_user_e2e_ms_64",
  "users_1000_e2e_ms_64",
  "ratio_1000_users_e2e",
  "rss_start_mib",
  "rss_mib_100k_adapters",
  "rss_budget_mib",
  "fit_ms_8",
  "fit_ms_32",
  "fit_ms_128",
  "fit_e2e_ms_32",
  "sequence_raw_seq_per_s",
  "sequence_server_seq_per_s",
  "ratio_sequence_model",
  "queries_ms_64x8",
] as const;

export type FigureName = (typeof FIGURE_NAMES)[number];

/** null: not measured in this run (skipped, or not measurable yet; `notes` say why). */
export type Figures = Record<FigureName, number | null>;

export function emptyFigures(): Figures {
  return Object.fromEntries(FIGURE_NAMES.map((name) => [name, null])) as Figures;
}

const figureValue = z.number().finite().nullable();

const targetSchema = z.object({
  figure: z.enum(FIGURE_NAMES),
  target: z.string(),
  value: figureValue,
  /** null when the figure was not measured. */
  met: z.boolean().nullable(),
});

export type TargetCheck = z.infer<typeof targetSchema>;

export const benchResultSchema = z.object({
  machine: z.object({
    cpu: z.string(),
    cores: z.number().int().positive(),
    memoryMib: z.number().positive(),
    node: z.string(),
    platform: z.string(),
    loadavg: z.array(z.number()),
  }),
  provider: z.string().nullable(),
  options: z.object({
    quick: z.boolean(),
    phases: z.array(z.string()),
    rss_passes: z.int().min(1).optional(),
  }),
  figures: z.object(
    Object.fromEntries(FIGURE_NAMES.map((name) => [name, figureValue])) as Record<
      FigureName,
      typeof figureValue
    >,
  ),
  targets: z.array(targetSchema),
  details: z.record(z.string(), z.unknown()),
  notes: z.array(z.string()),
  seconds: z.number().nonnegative(),
});

export type BenchResult = z.infer<typeof benchResultSchema>;

interface Target {
  figure: FigureName;
  text: string;
  met(figures: Figures): boolean | null;
}

const atLeast = (figure: FigureName, min: number): Target => ({
  figure,
  text: `≥ ${min}`,
  met: (f) => (f[figure] === null ? null : f[figure]! >= min),
});

const atMost = (figure: FigureName, max: number): Target => ({
  figure,
  text: `≤ ${max}`,
  met: (f) => (f[figure] === null ? null : f[figure]! <= max),
});

export const TARGETS: readonly Target[] = [
  atLeast("ratio_unique", 0.85),
  atLeast("ratio_shared_8_users", 5),
  atLeast("ratio_openrlhf_single", 0.9),
  atLeast("ratio_sequence_model", 0.9),
  atLeast("ratio_10k_users", 0.95),
  atLeast("matrix_user_scores_per_s", 1_000_000),
  atMost("ratio_1000_users_e2e", 1.1),
  {
    figure: "queries_ms_64x8",
    text: "< 20",
    met: (f) => (f.queries_ms_64x8 === null ? null : f.queries_ms_64x8 < 20),
  },
  {
    figure: "rss_mib_100k_adapters",
    text: "≤ rss_budget_mib",
    met: (f) =>
      f.rss_mib_100k_adapters === null || f.rss_budget_mib === null
        ? null
        : f.rss_mib_100k_adapters <= f.rss_budget_mib,
  },
];

export function checkTargets(figures: Figures): TargetCheck[] {
  return TARGETS.map((t) => ({
    figure: t.figure,
    target: t.text,
    value: figures[t.figure],
    met: t.met(figures),
  }));
}

/**
 * Parses `npm run bench -- --json` output: exactly one JSON object of the BenchResult shape,
 * after the "> sharelora@… bench" lines npm itself prints unless run with --silent.
 */
export function parseBenchJson(stdout: string): BenchResult {
  const lines = stdout.split("\n");
  const first = lines.findIndex((line) => line.startsWith("{"));
  const preamble = first < 0 ? lines : lines.slice(0, first);
  const stray = preamble.find((line) => line.trim() !== "" && !line.startsWith(">"));
  if (first < 0 || stray !== undefined) {
    throw new TypeError(
      `Expected one JSON object on stdout, found ${JSON.stringify((stray ?? stdout).slice(0, 80))}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(lines.slice(first).join("\n"));
  } catch (error) {
    throw new TypeError(`Expected one JSON object on stdout: ${(error as Error).message}`);
  }
  const result = benchResultSchema.safeParse(parsed);
  if (!result.success) {
    const problems = result.error.issues
      .slice(0, 5)
      .map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`);
    throw new TypeError(`Expected a bench result: ${problems.join("; ")}`);
  }
  return result.data;
}
