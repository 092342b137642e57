import { describe, expect, it } from "vitest";
import { latencyVsLoadSvg, niceStep } from "../../loadtest/plot-svg.js";

const points = [
  { connections: 1, rps: 10, p50Ms: 90, p99Ms: 120 },
  { connections: 2, rps: 18, p50Ms: 100, p99Ms: 180 },
  { connections: 4, rps: 30, p50Ms: 130, p99Ms: 260 },
];

describe("latencyVsLoadSvg", () => {
  it("draws one p50 and one p99 polyline with a point per connection level", () => {
    const svg = latencyVsLoadSvg(points, { title: 't <&> "q"' });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    const polylines = [...svg.matchAll(/<polyline points="([^"]+)"/g)].map((m) => m[1]!.split(" "));
    expect(polylines).toHaveLength(2);
    expect(polylines.every((p) => p.length === points.length)).toBe(true);
    expect(svg.match(/<circle /g)).toHaveLength(2 * points.length);
    expect(svg).toContain("t &#60;&#38;&#62; &#34;q&#34;");
    expect(svg).toContain(">c=4<");
  });

  it("puts higher latency higher up and more throughput further right", () => {
    const svg = latencyVsLoadSvg(points, { title: "t" });
    const p99 = [...svg.matchAll(/<polyline points="([^"]+)"/g)][1]![1]!
      .split(" ")
      .map((xy) => xy.split(",").map(Number));
    for (let i = 1; i < p99.length; i++) {
      expect(p99[i]![0]).toBeGreaterThan(p99[i - 1]![0]!);
      expect(p99[i]![1]).toBeLessThan(p99[i - 1]![1]!);
    }
  });

  it("refuses an empty plot and picks 1-2-5 tick steps", () => {
    expect(() => latencyVsLoadSvg([], { title: "t" })).toThrow(TypeError);
    expect(niceStep(100)).toBe(20);
    expect(niceStep(7)).toBe(2);
    expect(niceStep(2600)).toBe(1000);
  });
});
