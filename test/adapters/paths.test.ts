import { createHash } from "node:crypto";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { adapterPath, isAdapterFileName } from "../../src/adapters/file/paths.js";
import { userHash } from "../../src/adapters/user-hash.js";

describe("adapter paths", () => {
  it("derive from sha256 of the user id, sharded by its first two bytes", () => {
    const user = "alice@example.com";
    const h = createHash("sha256").update(user).digest("hex");
    expect(userHash(user)).toBe(h);
    expect(adapterPath("/store", user)).toBe(
      join("/store", h.slice(0, 2), h.slice(2, 4), `${h}.safetensors`),
    );
  });

  it("never contain the raw id, and differ between users", () => {
    const a = adapterPath("/store", "..");
    const b = adapterPath("/store", "...");
    expect(a).not.toBe(b);
    expect(a.startsWith("/store/")).toBe(true);
    expect(a.slice("/store/".length)).not.toContain("..");
    expect(isAdapterFileName(a.split("/").at(-1)!)).toBe(true);
  });
});
