import { join } from "node:path";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { defaultAdaptersDir, registerFit } from "../../src/commands/fit.js";
import { DEFAULT_FIT_RANK } from "../../src/training/train-head.js";

/** The options `sharelora fit` parses from a command line, without running it. */
function parsedFitOptions(args: string[]): Record<string, unknown> {
  const program = new Command();
  registerFit(program);
  const fit = program.commands.find((command) => command.name() === "fit")!;
  fit.parseOptions(args);
  return fit.opts();
}

describe("sharelora fit's defaults", () => {
  it("choose the rank from the data unless --rank forces it", () => {
    expect(DEFAULT_FIT_RANK).toBe("auto");
    expect(parsedFitOptions(["--data", "d.jsonl", "--out", "h"])["rank"]).toBe("auto");
    expect(parsedFitOptions(["--data", "d.jsonl", "--out", "h", "--rank", "auto"])["rank"]).toBe(
      "auto",
    );
    expect(parsedFitOptions(["--data", "d.jsonl", "--out", "h", "--rank", "3"])["rank"]).toBe(3);
    expect(() => parsedFitOptions(["--data", "d.jsonl", "--out", "h", "--rank", "two"])).toThrow(
      /^--rank: expected a positive integer, got two/,
    );
  });

  it("write the training users' adapters into the head's own folder, never the server's store", () => {
    const options = parsedFitOptions(["--data", "d.jsonl", "--out", "/tmp/h"]);
    expect(options["adapters"]).toBeUndefined();
    expect(defaultAdaptersDir("/tmp/h")).toBe(join("/tmp/h", "adapters"));
    expect(
      parsedFitOptions(["--data", "d.jsonl", "--out", "/tmp/h", "--adapters", "adapters"])[
        "adapters"
      ],
    ).toBe("adapters");
  });
});
