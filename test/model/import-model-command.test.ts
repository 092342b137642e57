import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PACKAGE_ROOT } from "../../src/config.js";
import { readHead } from "../../src/model/head-file.js";
import { LLAMA3_TOKENIZER_DIR, type LlamaFixture, llamaFixture } from "../helpers/llama-fixture.js";

const run = (args: string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", "src/cli.ts", "import-model", ...args], {
    cwd: PACKAGE_ROOT,
    encoding: "utf8",
    timeout: 120_000,
  });

describe("sharelora import-model", () => {
  let fixture: LlamaFixture;
  let dir: string;
  beforeAll(async () => {
    fixture = await llamaFixture();
    dir = await mkdtemp(join(tmpdir(), "sharelora-import-cli-"));
  }, 300_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes the model directory, prints what it wrote, and says on stderr that onboarding needs fit", async () => {
    const out = join(dir, "rm");
    const result = run([
      "--onnx",
      fixture.model,
      "--tokenizer",
      LLAMA3_TOKENIZER_DIR,
      "--score-head",
      fixture.scoreHeadBf16,
      "--pooling",
      "last",
      "--id",
      "tiny-llama-rm",
      "--out",
      out,
    ]);
    expect(result.status, result.stderr).toBe(0);
    const printed = JSON.parse(result.stdout);
    const head = await readHead(join(out, "head"));
    expect(printed).toMatchObject({
      out,
      id: "tiny-llama-rm",
      d: fixture.d,
      encoding: "sequence",
      pooling: "last",
      head_hash: head.hash,
      basis: "none",
      score_head: fixture.scoreHeadBf16,
      calibration_texts: 0,
    });
    expect(result.stderr).toMatch(/no --calibration: B = 0 \(head basis "none"\)/);
    expect(result.stderr).toMatch(/--keep-theta0/);
  });

  it("exits non-zero naming a bad flag value or a missing file", () => {
    const bad = run([
      "--onnx",
      fixture.model,
      "--tokenizer",
      dir,
      "--out",
      dir,
      "--pooling",
      "max",
    ]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--pooling: expected one of last, mean, cls, got max/);
    const missing = run(["--onnx", join(dir, "nope.onnx"), "--tokenizer", dir, "--out", dir]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/nope\.onnx: cannot read the ONNX graph/);
  });
});
