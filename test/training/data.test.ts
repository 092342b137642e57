import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerFit } from "../../src/commands/fit.js";
import { DataError, readComparisons } from "../../src/training/data.js";

const good = { user: "u1", prompt: "p", chosen: "a", rejected: "b" };
const lines = [
  JSON.stringify(good),
  "{not json",
  JSON.stringify({ ...good, user: "bad user!" }),
  "",
  JSON.stringify({
    ...good,
    user: "u2",
    prompt: [{ role: "user", content: "hi" }],
    chosen: [{ role: "assistant", content: "a" }],
    rejected: [{ role: "assistant", content: "b" }],
  }),
  JSON.stringify({ user: "u3", prompt: "p", chosen: "a" }),
];

describe("readComparisons on bad lines", () => {
  let dir: string;
  let file: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sharelora-data-"));
    file = join(dir, "pairs.jsonl");
    await writeFile(file, `${lines.join("\n")}\n`);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("stops at the first bad line with its file and line number", async () => {
    const error = await readComparisons(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).line).toBe(2);
    expect((error as DataError).code).toBe("INVALID_DATA");
    expect((error as DataError).message).toMatch(/pairs\.jsonl:2: not valid JSON/);
  });

  it("with skipBad, reports each bad line and keeps the good ones with their line numbers", async () => {
    const skipped: number[] = [];
    const rows = await readComparisons(file, {
      skipBad: true,
      onSkip: (e) => skipped.push(e.line),
    });
    expect(skipped).toEqual([2, 3, 6]);
    expect(rows.map((r) => [r.user, r.line])).toEqual([
      ["u1", 1],
      ["u2", 5],
    ]);
    expect(rows[1]!.pair.prompt).toEqual([{ role: "user", content: "hi" }]);
  });

  it("`sharelora fit` names the bad line, and with --skip-bad trains on the good ones", async () => {
    const runCli = (extra: string[]) => {
      const program = new Command().exitOverride();
      registerFit(program);
      const args = [
        "fit",
        "--data",
        file,
        "--out",
        join(dir, "head"),
        "--adapters",
        join(dir, "adapters"),
      ];
      return program.parseAsync([...args, "--cache", join(dir, "cache"), "--rank", "1", ...extra], {
        from: "user",
      });
    };
    await expect(runCli([])).rejects.toThrow(/pairs\.jsonl:2: not valid JSON/);
    await runCli(["--skip-bad"]);
    const report = JSON.parse(await readFile(join(dir, "head", "report.json"), "utf8"));
    expect(report).toMatchObject({ users: 2, adapters_written: 2, rank: 1 });
  }, 60_000);
});
