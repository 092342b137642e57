import { execFile, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";

/**
 * examples/onboarding/onboard.py against the real server and default model, on Debian's
 * interpreter (python3-requests; .ci/run installs it), exactly as its docstring runs it.
 */
const PYTHON = "/usr/bin/python3";
const SCRIPT = join(import.meta.dirname, "..", "..", "examples", "onboarding", "onboard.py");
const execFileAsync = promisify(execFile);
const usable =
  existsSync(PYTHON) && spawnSync(PYTHON, ["-c", "import requests"]).status === 0
    ? undefined
    : `${PYTHON} with requests is needed (apt-get install python3-requests)`;

describe("the active onboarding example", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  it("asks, answers and fits in append mode round by round, never asking a pair twice", async () => {
    if (usable !== undefined) throw new Error(usable);
    const args = ["--user", "sim:alice", "--rounds", "4", "--per-round", "3", "--seed", "0"];
    // Asynchronously: a synchronous child would block this process's server.
    const run = await execFileAsync(PYTHON, ["-B", SCRIPT, ...args], {
      env: { PATH: "/usr/bin:/bin", SHARELORA_URL: t.url },
      timeout: 60_000,
    });
    const out = JSON.parse(run.stdout);
    expect(out.rounds.map((r: { version: number }) => r.version)).toEqual([1, 2, 3, 4]);
    expect(out.rounds.map((r: { n_pairs: number }) => r.n_pairs)).toEqual([3, 6, 9, 12]);
    const asked = out.rounds.flatMap(
      (r: { queries: { candidate: number; a: number; b: number }[] }) =>
        r.queries.map((q) => `${q.candidate}:${q.a}:${q.b}`),
    );
    expect(new Set(asked).size).toBe(12);
    // After 12 answers the user's reward sides with their own taste more often than the global one.
    expect(out.rounds.at(-1).held_out_agreement).toBeGreaterThan(out.global_agreement);
  });
});
