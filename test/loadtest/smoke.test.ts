import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runScenario } from "../../loadtest/runner.js";
import { countStatuses } from "../../loadtest/summary.js";

describe("load-test smoke (CI)", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("runs the score scenario against its own server and writes both reports", async () => {
    const outDir = await mkdtemp(join(tmpdir(), "sharelora-loadtest-smoke-"));
    dirs.push(outDir);
    const outcome = await runScenario({ scenario: "score", durationS: 4, outDir });

    const [phase] = outcome.report.phases;
    expect(outcome.report.phases).toHaveLength(1);
    expect(phase!.requests).toBeGreaterThan(0);
    expect(countStatuses(phase!, (status) => status >= 500)).toBe(0);
    expect(phase!.timeouts).toBe(0);
    expect(phase!.errors).toBe(0);
    expect(outcome.report.target.startedByRunner).toBe(true);
    const byName = new Map(outcome.report.checks.map((c) => [c.name, c.status]));
    expect(byName.get("zero 5xx")).toBe("pass");
    expect(byName.get("no timeouts")).toBe("pass");
    expect(byName.get("seeded adapters are applied")).toBe("pass");
    expect(byName.get("server shut down cleanly")).toBe("pass");

    expect(outcome.files.json.startsWith(outDir)).toBe(true);
    expect(existsSync(outcome.files.json)).toBe(true);
    expect(existsSync(outcome.files.md)).toBe(true);
    const json = JSON.parse(readFileSync(outcome.files.json, "utf8"));
    expect(json.scenario).toBe("score");
    expect(json.phases[0].requests).toBe(phase!.requests);
    const markdown = readFileSync(outcome.files.md, "utf8");
    expect(markdown).toBe(outcome.markdown);
    expect(markdown).toContain("# Load test `score`");
    expect(markdown).toContain("| check | result | detail |");
  }, 90_000);
});
