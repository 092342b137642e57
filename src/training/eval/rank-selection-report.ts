import type { RankSelection } from "../rank-selection.js";

/** The curve and the choice of `--rank auto` as a markdown section. */
export function rankSelectionMarkdown(selection: RankSelection): string {
  const lines = [
    `## Rank chosen from the data (--rank auto): k = ${selection.chosen}`,
    "",
    `${selection.reason}.`,
    "",
    `Rule: ${selection.rule}. Cap: ${selection.cap.rule} (here d = ${selection.cap.d}, U = ${selection.cap.users}, m = ${selection.cap.m}, median training pairs ${selection.cap.medianTrainPairs}: k ≤ ${selection.cap.k}).`,
    "",
    "| k | mean validation log-likelihood per pair | SE of the difference to the best | validation accuracy | λ_user kept | rounds | train seconds |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const p of selection.curve) {
    const mark =
      p.k === selection.chosen ? " **(chosen)**" : p.k === selection.best ? " (best)" : "";
    lines.push(
      `| ${p.k}${mark} | ${p.validationLogLikelihood.toFixed(4)} | ${p.standardError.toFixed(4)} | ${(100 * p.validationAccuracy).toFixed(1)}% | ${p.l2User} | ${p.rounds} | ${p.seconds.toFixed(1)} |`,
    );
  }
  return `${lines.join("\n")}\n`;
}
