export interface LoadPoint {
  connections: number;
  /** Achieved responses per second. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

export interface PlotOptions {
  title: string;
  subtitle?: string;
  width?: number;
  height?: number;
}

const MARGIN = { left: 70, right: 30, top: 60, bottom: 60 };
const COLORS = { p50: "#1f77b4", p99: "#d62728" };

/** 1, 2 or 5 times a power of ten, so that about `target` steps cover [0, max]. */
export function niceStep(max: number, target = 5): number {
  if (!(max > 0) || !Number.isFinite(max)) return 1;
  const raw = max / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  const factor = raw / power;
  return (factor <= 1 ? 1 : factor <= 2 ? 2 : factor <= 5 ? 5 : 10) * power;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function label(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(3).replace(/\.?0+$/, "");
}

function ticks(max: number): { step: number; top: number; values: number[] } {
  const step = niceStep(max);
  const top = Math.max(step, Math.ceil(max / step) * step);
  const values: number[] = [];
  for (let v = 0; v <= top + step / 2; v += step) values.push(Number(v.toPrecision(12)));
  return { step, top, values };
}

/**
 * p50 and p99 latency against achieved throughput, one point per connection count, as a
 * self-contained SVG (no fonts or scripts to fetch).
 */
export function latencyVsLoadSvg(points: readonly LoadPoint[], options: PlotOptions): string {
  if (points.length === 0) throw new TypeError("expected at least one point to plot");
  const width = options.width ?? 720;
  const height = options.height ?? 440;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const xTicks = ticks(Math.max(...points.map((p) => p.rps)) * 1.05);
  const yTicks = ticks(Math.max(...points.map((p) => p.p99Ms)) * 1.05);
  const x = (rps: number) => MARGIN.left + (rps / xTicks.top) * plotW;
  const y = (ms: number) => MARGIN.top + plotH - (ms / yTicks.top) * plotH;
  const f = (n: number) => n.toFixed(1);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="16">${escapeXml(options.title)}</text>`,
  );
  if (options.subtitle) {
    out.push(
      `<text x="${width / 2}" y="42" text-anchor="middle" fill="#555">${escapeXml(options.subtitle)}</text>`,
    );
  }
  for (const v of xTicks.values) {
    out.push(
      `<line x1="${f(x(v))}" y1="${MARGIN.top}" x2="${f(x(v))}" y2="${MARGIN.top + plotH}" stroke="#eee"/>`,
      `<text x="${f(x(v))}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">${label(v)}</text>`,
    );
  }
  for (const v of yTicks.values) {
    out.push(
      `<line x1="${MARGIN.left}" y1="${f(y(v))}" x2="${MARGIN.left + plotW}" y2="${f(y(v))}" stroke="#eee"/>`,
      `<text x="${MARGIN.left - 8}" y="${f(y(v) + 4)}" text-anchor="end">${label(v)}</text>`,
    );
  }
  out.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${height - 16}" text-anchor="middle">achieved throughput (requests/s)</text>`,
    `<text x="18" y="${MARGIN.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 18 ${MARGIN.top + plotH / 2})">latency (ms)</text>`,
  );
  for (const key of ["p50", "p99"] as const) {
    const value = (p: LoadPoint) => (key === "p50" ? p.p50Ms : p.p99Ms);
    const path = points.map((p) => `${f(x(p.rps))},${f(y(value(p)))}`).join(" ");
    out.push(
      `<polyline points="${path}" fill="none" stroke="${COLORS[key]}" stroke-width="2"/>`,
      ...points.map(
        (p) =>
          `<circle cx="${f(x(p.rps))}" cy="${f(y(value(p)))}" r="3.5" fill="${COLORS[key]}"><title>${key} ${f(value(p))} ms at ${f(p.rps)} req/s, ${p.connections} connections</title></circle>`,
      ),
    );
  }
  for (const p of points) {
    out.push(
      `<text x="${f(x(p.rps) + 5)}" y="${f(y(p.p99Ms) - 7)}" fill="#555" font-size="10">c=${p.connections}</text>`,
    );
  }
  const legendX = MARGIN.left + 12;
  out.push(
    `<line x1="${legendX}" y1="${MARGIN.top + 14}" x2="${legendX + 24}" y2="${MARGIN.top + 14}" stroke="${COLORS.p50}" stroke-width="2"/>`,
    `<text x="${legendX + 30}" y="${MARGIN.top + 18}">p50</text>`,
    `<line x1="${legendX}" y1="${MARGIN.top + 32}" x2="${legendX + 24}" y2="${MARGIN.top + 32}" stroke="${COLORS.p99}" stroke-width="2"/>`,
    `<text x="${legendX + 30}" y="${MARGIN.top + 36}">p99</text>`,
    "</svg>",
  );
  return `${out.join("\n")}\n`;
}
