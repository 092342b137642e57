import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Baseline } from "./baseline.js";
import type { MemoryAssessment } from "./rss.js";
import { non2xx, type PhaseSummary } from "./summary.js";
import type { Check } from "./thresholds.js";

export interface Report {
  scenario: string;
  description: string;
  startedAt: string;
  finishedAt: string;
  target: {
    url: string;
    /** false: an external server named with --url. */
    startedByRunner: boolean;
    /** The command line of the server the runner started. */
    serverCommand?: string;
  };
  baseline?: Baseline;
  phases: PhaseSummary[];
  memory?: MemoryAssessment;
  checks: Check[];
  notes: string[];
  passed: boolean;
}

export interface ReportFiles {
  json: string;
  md: string;
}

const ms = (value: number) => value.toFixed(1);

function statusList(statuses: Record<string, number>): string {
  const entries = Object.entries(statuses);
  return entries.length === 0 ? "—" : entries.map(([s, n]) => `${s}×${n}`).join(", ");
}

export function renderMarkdown(report: Report): string {
  const lines: string[] = [];
  const seconds = (Date.parse(report.finishedAt) - Date.parse(report.startedAt)) / 1000;
  lines.push(`# Load test \`${report.scenario}\`: ${report.passed ? "PASS" : "FAIL"}`, "");
  lines.push(report.description, "");
  lines.push(`- Target: ${report.target.url}`);
  if (report.target.serverCommand) lines.push(`- Server: \`${report.target.serverCommand}\``);
  else if (!report.target.startedByRunner) lines.push("- Server: external (--url)");
  lines.push(`- Started ${report.startedAt}, took ${seconds.toFixed(1)} s`);
  if (report.baseline) {
    const b = report.baseline;
    lines.push(
      `- Single-request latency (${b.samples} sequential requests): p50 ${ms(b.p50Ms)} ms, max ${ms(b.maxMs)} ms`,
    );
    for (const [kind, k] of Object.entries(b.kinds ?? {})) {
      lines.push(
        `  - ${kind} (${k.samples} requests): p50 ${ms(k.p50Ms)} ms, max ${ms(k.maxMs)} ms`,
      );
    }
  }
  lines.push("", "| phase | conns | requests | req/s | p50 ms | p90 ms | p99 ms | max ms |");
  lines.push("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const p of report.phases) {
    const l = p.latencyMs;
    lines.push(
      `| ${p.label} | ${p.connections} | ${p.requests} | ${p.rps.toFixed(1)} | ${ms(l.p50)} | ${ms(l.p90)} | ${ms(l.p99)} | ${ms(l.max)} |`,
    );
  }
  lines.push(
    "",
    "| phase | errors | timeouts | non-2xx by status |",
    "| --- | ---: | ---: | --- |",
  );
  for (const p of report.phases) {
    lines.push(`| ${p.label} | ${p.errors} | ${p.timeouts} | ${statusList(non2xx(p))} |`);
  }
  if (report.memory) {
    const m = report.memory;
    lines.push("", `## Server RSS (${m.source === "proc" ? "/proc VmRSS" : "/metrics"})`, "");
    lines.push(
      `after warm-up ${ms(m.afterWarmupMiB)} MiB, final ${ms(m.finalMiB)} MiB, peak ${ms(m.peakMiB)} MiB, ` +
        `growth ${ms(m.growthMiB)} MiB, slope over the second half ${
          m.slopeMiBPerMin === null ? "n/a" : `${m.slopeMiBPerMin.toFixed(2)} MiB/min`
        }`,
      "",
      `samples (s: MiB): ${m.samples.map((s) => `${s.tS.toFixed(0)}: ${ms(s.bytes / 1048576)}`).join(", ")}`,
    );
  }
  lines.push("", "## Checks", "", "| check | result | detail |", "| --- | --- | --- |");
  for (const c of report.checks) {
    lines.push(`| ${c.name} | ${c.status.toUpperCase()} | ${c.detail} |`);
  }
  if (report.notes.length > 0) {
    lines.push("", "## Notes", "");
    for (const note of report.notes) lines.push(`- ${note}`);
  }
  return `${lines.join("\n")}\n`;
}

/** `2025-01-31T12-00-00Z`: an ISO time that is a valid file name everywhere. */
export function fileStamp(iso: string): string {
  return iso.replace(/\.\d+Z$/, "Z").replaceAll(":", "-");
}

export async function writeReport(report: Report, outDir: string): Promise<ReportFiles> {
  await mkdir(outDir, { recursive: true });
  const base = join(outDir, `${fileStamp(report.startedAt)}-${report.scenario}`);
  const files = { json: `${base}.json`, md: `${base}.md` };
  await writeFile(files.json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(files.md, renderMarkdown(report));
  return files;
}
