import { describe, expect, it } from "vitest";
import { assertUserId } from "../../src/adapters/user-id.js";
import { isUserId } from "../../src/domain/user-id.js";

describe("user ids", () => {
  it("accepts 1-128 characters of [A-Za-z0-9._:@-]", () => {
    for (const id of ["a", "Z9", "alice@example.com", "tenant:42", "a.b_c-d", "x".repeat(128)]) {
      expect(isUserId(id), id).toBe(true);
      expect(() => assertUserId(id)).not.toThrow();
    }
  });

  it("rejects anything else with code INVALID_USER_ID", () => {
    for (const id of [
      "",
      "x".repeat(129),
      "a/b",
      "../etc",
      "a b",
      "é",
      "a\nb",
      "a\0",
      42,
      null,
      undefined,
    ]) {
      expect(isUserId(id)).toBe(false);
      expect(() => assertUserId(id)).toThrowError(
        expect.objectContaining({ code: "INVALID_USER_ID" }),
      );
    }
  });

  it("shows a long invalid id only in part", () => {
    let message = "";
    try {
      assertUserId(`${"y".repeat(500)}/`);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("expected a user id");
    expect(message.length).toBeLessThan(200);
  });
});
