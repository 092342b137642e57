import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderSettingsTable } from "../../src/config.js";

describe("README", () => {
  it("lists every setting exactly as the server defines it", async () => {
    const readme = await readFile(join(import.meta.dirname, "..", "..", "README.md"), "utf8");
    expect(readme).toContain(renderSettingsTable().trimEnd());
  });
});
