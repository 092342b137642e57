import type { EvaluationResult } from "./evaluate.js";
import type { CurveResult } from "./new-user-curve.js";
import type { MethodScore } from "./seen-users.js";

const percent = (v: number | null) =>
  v === null || Number.isNaN(v) ? "–" : `${(100 * v).toFixed(1)}%`;

/** "84.1% (97.3% of Bayes)" when a Bayes reference is known. */
function withBayes(value: number | null, bayes: number | null): string {
  if (value === null || bayes === null) return percent(value);
  return `${percent(value)} (${((100 * value) / bayes).toFixed(1)}% of Bayes)`;
}

function seenTable(scores: readonly MethodScore[], bayes: number | null): string[] {
  const lines = ["| method | mean held-out accuracy | train seconds |", "|---|---|---|"];
  for (const s of scores)
    lines.push(`| ${s.method} | ${withBayes(s.mean, bayes)} | ${s.seconds.toFixed(1)} |`);
  return lines;
}

function curveTable(curve: CurveResult, bayes: number | null): string[] {
  const { beta } = curve.calibration;
  const header = [
    "n",
    ...curve.methods.map((m) => m.method),
    "ECE of P(a ≻ b)",
    `coverage of r − ${beta.toFixed(3)}·σ (target 95%)`,
    "β for 95% coverage",
  ];
  const lines = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
  curve.ns.forEach((n, i) => {
    const accuracy = curve.methods.map((m) => withBayes(m.accuracy[i] ?? null, bayes));
    const calibration = [curve.calibration.ece[i], curve.calibration.coverage[i]].map((v) =>
      percent(v ?? null),
    );
    const beta95 = curve.calibration.beta95[i];
    const needed = beta95 === null || beta95 === undefined ? "–" : beta95.toFixed(2);
    lines.push(`| ${n} | ${[...accuracy, ...calibration, needed].join(" | ")} |`);
  });
  return lines;
}

export function markdownReport(result: EvaluationResult): string {
  const { bayes, settings } = result;
  const out: string[] = [
    `## Seen users (${result.users.train} users; held-out pairs of ${result.users.test}; k = ${settings.rank}, λ = ${settings.l2}, seed ${settings.seed})`,
    "",
  ];
  if (bayes !== null) {
    out.push(
      `Bayes-optimal accuracy (${bayes.file}): seen users ${percent(bayes.test)}, new users ${percent(bayes.newUsers)}; planted global vector alone ${percent(bayes.globalTest)}.`,
      "",
    );
  }
  out.push(...seenTable(result.seen, bayes?.test ?? null), "");
  if (result.newUsers !== null) {
    out.push(
      `## New users (${result.newUsers.users} users, ${result.newUsers.draws} draws; each fitted on n pairs, scored on pairs outside every fit)`,
      "",
      ...curveTable(result.newUsers, bayes?.newUsers ?? null),
      "",
    );
  }
  out.push(
    "## Rank sweep (P-ShareLoRA, init G)",
    "",
    "| k | mean held-out accuracy | λ_user kept (tried) | train seconds |",
    "|---|---|---|---|",
  );
  for (const r of result.rankSweep) {
    const ridges = `${r.l2User} (${r.l2UserTried.join(", ")})`;
    out.push(
      `| ${r.k} | ${withBayes(r.mean, bayes?.test ?? null)} | ${ridges} | ${r.seconds.toFixed(1)} |`,
    );
  }
  out.push("");
  if (result.attributes !== null) {
    out.push(
      `## Same learners on the true attributes (d = 10, m = 1; what a perfect backbone allows)`,
      "",
      ...seenTable(result.attributes.seen, bayes?.test ?? null),
      "",
    );
    if (result.attributes.newUsers !== null) {
      out.push(...curveTable(result.attributes.newUsers, bayes?.newUsers ?? null), "");
    }
  }
  return out.join("\n");
}
