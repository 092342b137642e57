/** A dependency-free line chart: accuracy against n (log₂ axis), one line per method. */
export interface PlotSeries {
  label: string;
  values: (number | null)[];
  dashed?: boolean;
}

const WIDTH = 640;
const HEIGHT = 400;
const MARGIN = { left: 60, right: 230, top: 30, bottom: 50 };
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#7f7f7f"];

function escapeXml(text: string): string {
  return text.replace(
    /[<>&"]/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!,
  );
}

export function accuracyPlot(
  title: string,
  ns: readonly number[],
  series: readonly PlotSeries[],
): string {
  const values = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const low = Math.max(0, Math.floor((Math.min(0.5, ...values) - 0.02) * 20) / 20);
  const high = Math.min(1, Math.ceil((Math.max(...values) + 0.02) * 20) / 20);
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const logs = ns.map((n) => Math.log2(n));
  const x0 = Math.min(...logs);
  const x1 = Math.max(...logs);
  const x = (n: number) => MARGIN.left + ((Math.log2(n) - x0) / Math.max(x1 - x0, 1)) * plotW;
  const y = (v: number) => MARGIN.top + (1 - (v - low) / (high - low)) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${MARGIN.left}" y="18" font-size="14">${escapeXml(title)}</text>`,
  ];
  for (let v = low; v <= high + 1e-9; v += 0.05) {
    const yy = y(v).toFixed(1);
    out.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${yy}" y2="${yy}" stroke="#eee"/>`,
      `<text x="${MARGIN.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${v.toFixed(2)}</text>`,
    );
  }
  for (const n of ns) {
    const xx = x(n).toFixed(1);
    out.push(
      `<line x1="${xx}" x2="${xx}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#eee"/>`,
      `<text x="${xx}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${n}</text>`,
    );
  }
  out.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 12}" text-anchor="middle">pairs from the user (n)</text>`,
    `<text transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">held-out accuracy</text>`,
  );
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const points = ns
      .map((n, j) => [n, s.values[j]] as const)
      .filter((p): p is readonly [number, number] => p[1] !== null && p[1] !== undefined)
      .map(([n, v]) => `${x(n).toFixed(1)},${y(v).toFixed(1)}`);
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : "";
    if (points.length > 0) {
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${points.join(" ")}"/>`,
      );
      for (const p of points) {
        const [cx, cy] = p.split(",");
        out.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${color}"/>`);
      }
    }
    const ly = MARGIN.top + 10 + i * 20;
    const lx = MARGIN.left + plotW + 12;
    out.push(
      `<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`,
      `<text x="${lx + 30}" y="${ly}" dominant-baseline="middle">${escapeXml(s.label)}</text>`,
    );
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
