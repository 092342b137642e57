import { type BenchResult, FIGURE_NAMES } from "./result.js";

const FIGURE_UNITS: Partial<Record<(typeof FIGURE_NAMES)[number], string>> = {
  raw_seq_per_s: "texts/s",
  server_seq_per_s: "texts/s",
  shared_scores_per_s: "user-scored texts/s",
  openrlhf_texts_per_s: "texts/s",
  one_user_scores_per_s: "scores/s",
  users_10k_scores_per_s: "scores/s",
  matrix_user_scores_per_s: "user-scores/s",
  one_user_e2e_ms_64: "ms",
  users_1000_e2e_ms_64: "ms",
  rss_start_mib: "MiB",
  rss_mib_100k_adapters: "MiB",
  rss_budget_mib: "MiB",
  fit_ms_8: "ms",
  fit_ms_32: "ms",
  fit_ms_128: "ms",
  fit_e2e_ms_32: "ms",
  sequence_raw_seq_per_s: "texts/s",
  sequence_server_seq_per_s: "texts/s",
  queries_ms_64x8: "ms",
};

function show(value: number | null): string {
  if (value === null) return "–";
  return Math.abs(value) >= 100 ? value.toFixed(0) : String(Number(value.toPrecision(3)));
}

/** The markdown report: machine, every figure with its target, then the notes. */
export function formatTable(result: BenchResult): string {
  const { machine } = result;
  const targets = new Map(result.targets.map((t) => [t.figure, t]));
  const lines = [
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${Math.round(machine.memoryMib)} MiB, ` +
      `Node ${machine.node} (${machine.platform}), load ${machine.loadavg.map((l) => l.toFixed(2)).join(" ")}; ` +
      `onnxruntime provider: ${result.provider ?? "–"}; ${result.options.quick ? "quick" : "full"} run ` +
      `of ${result.options.phases.join(", ")} in ${result.seconds.toFixed(0)} s`,
    "",
    "| figure | value | unit | target | met |",
    "| --- | ---: | --- | --- | --- |",
  ];
  for (const name of FIGURE_NAMES) {
    const target = targets.get(name);
    const met = target === undefined || target.met === null ? "" : target.met ? "yes" : "no";
    lines.push(
      `| ${name} | ${show(result.figures[name])} | ${FIGURE_UNITS[name] ?? ""} | ${target?.target ?? ""} | ${met} |`,
    );
  }
  if (result.notes.length > 0) {
    lines.push("", "Notes:");
    for (const note of result.notes) lines.push(`- ${note}`);
  }
  return `${lines.join("\n")}\n`;
}
