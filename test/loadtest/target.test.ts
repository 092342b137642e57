import { describe, expect, it } from "vitest";
import { isLoopbackHost, resolveTarget, TargetError } from "../../loadtest/target.js";

describe("resolveTarget", () => {
  it("accepts loopback targets and strips the trailing slash", () => {
    expect(resolveTarget("http://127.0.0.1:8080/", false)).toBe("http://127.0.0.1:8080");
    expect(resolveTarget("http://localhost:1/api/", false)).toBe("http://localhost:1/api");
    expect(resolveTarget("http://[::1]:9/", false)).toBe("http://[::1]:9");
  });

  it("refuses other hosts unless --url named them", () => {
    expect(() => resolveTarget("http://10.0.0.5:8080", false)).toThrow(TargetError);
    expect(() => resolveTarget("http://example.com", false)).toThrow(/only loopback/);
    expect(resolveTarget("https://example.com:8443", true)).toBe("https://example.com:8443");
  });

  it("refuses what is not a plain http(s) base URL", () => {
    expect(() => resolveTarget("ftp://127.0.0.1", true)).toThrow(TargetError);
    expect(() => resolveTarget("not a url", true)).toThrow(TargetError);
    expect(() => resolveTarget("http://127.0.0.1/?x=1", true)).toThrow(TargetError);
  });

  it("knows loopback hosts", () => {
    for (const host of ["localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]"]) {
      expect(isLoopbackHost(host)).toBe(true);
    }
    for (const host of ["0.0.0.0", "128.0.0.1", "::", "example.com", "localhost.example.com"]) {
      expect(isLoopbackHost(host)).toBe(false);
    }
  });
});
