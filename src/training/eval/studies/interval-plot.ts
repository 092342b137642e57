/** A dependency-free line chart of means with 95% interval bars, one line per series. */
import type { Interval } from "./interval.js";

export interface IntervalSeries {
  label: string;
  points: (Interval | null)[];
  dashed?: boolean;
}

export interface IntervalPlot {
  title: string;
  xLabel: string;
  yLabel: string;
  /** x positions; drawn on a log₂ axis when logX. */
  xs: readonly number[];
  logX?: boolean;
  series: readonly IntervalSeries[];
}

const WIDTH = 680;
const HEIGHT = 400;
const MARGIN = { left: 64, right: 250, top: 30, bottom: 50 };
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#7f7f7f", "#8c564b"];

function escapeXml(text: string): string {
  return text.replace(
    /[<>&"]/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!,
  );
}

function niceStep(span: number): number {
  const raw = span / 6;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((f) => f * power).find((s) => s >= raw) ?? raw;
}

export function intervalPlot(plot: IntervalPlot): string {
  const all = plot.series.flatMap((s) =>
    s.points.flatMap((p) => (p === null ? [] : [p.low, p.high])),
  );
  let low = Math.min(...all);
  let high = Math.max(...all);
  if (!(high > low)) {
    low -= 0.5;
    high += 0.5;
  }
  const step = niceStep(high - low);
  low = Math.floor(low / step) * step;
  high = Math.ceil(high / step) * step;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const tx = (v: number) => (plot.logX ? Math.log2(v) : v);
  const x0 = Math.min(...plot.xs.map(tx));
  const x1 = Math.max(...plot.xs.map(tx));
  const x = (v: number) => MARGIN.left + ((tx(v) - x0) / Math.max(x1 - x0, 1e-9)) * plotW;
  const y = (v: number) => MARGIN.top + (1 - (v - low) / (high - low)) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${MARGIN.left}" y="18" font-size="14">${escapeXml(plot.title)}</text>`,
  ];
  for (let v = low; v <= high + step * 1e-6; v += step) {
    const yy = y(v).toFixed(1);
    const label = Math.abs(step) < 1 ? v.toFixed(step < 0.1 ? 2 : 1) : v.toFixed(0);
    out.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${yy}" y2="${yy}" stroke="#eee"/>`,
      `<text x="${MARGIN.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${label}</text>`,
    );
  }
  for (const v of plot.xs) {
    const xx = x(v).toFixed(1);
    out.push(
      `<line x1="${xx}" x2="${xx}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#eee"/>`,
      `<text x="${xx}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${v}</text>`,
    );
  }
  out.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 12}" text-anchor="middle">${escapeXml(plot.xLabel)}</text>`,
    `<text transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(plot.yLabel)}</text>`,
  );
  plot.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    // Series side by side by a few pixels, so that their bars do not hide each other.
    const shift = (i - (plot.series.length - 1) / 2) * 3;
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : "";
    const drawn = plot.xs
      .map((v, j) => [x(v) + shift, s.points[j] ?? null] as const)
      .filter((p): p is readonly [number, Interval] => p[1] !== null);
    if (drawn.length > 0) {
      const line = drawn.map(([xx, p]) => `${xx.toFixed(1)},${y(p.mean).toFixed(1)}`).join(" ");
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${line}"/>`,
      );
      for (const [xx, p] of drawn) {
        const cx = xx.toFixed(1);
        out.push(
          `<line x1="${cx}" x2="${cx}" y1="${y(p.low).toFixed(1)}" y2="${y(p.high).toFixed(1)}" stroke="${color}"/>`,
          `<circle cx="${cx}" cy="${y(p.mean).toFixed(1)}" r="3" fill="${color}"/>`,
        );
      }
    }
    const ly = MARGIN.top + 10 + i * 20;
    const lx = MARGIN.left + plotW + 12;
    out.push(
      `<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`,
      `<text x="${lx + 30}" y="${ly}" dominant-baseline="middle">${escapeXml(s.label)}</text>`,
    );
  });
  out.push(
    `<text x="${MARGIN.left + plotW + 12}" y="${MARGIN.top + plotH}" font-size="11" fill="#555">bars: 95% interval over seeds</text>`,
    "</svg>",
  );
  return `${out.join("\n")}\n`;
}
