import type { Target } from "./target.js";

/** The server's Prometheus text from GET /metrics, or undefined when it has none. */
export async function fetchMetrics(target: Target): Promise<string | undefined> {
  try {
    const response = await fetch(`${target.url}/metrics`, {
      headers: target.headers,
      signal: AbortSignal.timeout(5000),
    });
    const text = await response.text();
    return response.status === 200 ? text : undefined;
  } catch {
    return undefined;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** An unlabelled sample `name` (or `<prefix>_name`, e.g. sharelora_name) in Prometheus text. */
export function metricValue(text: string, name: string): number | undefined {
  const pattern = new RegExp(`^(?:[a-z_]*_)?${escapeRegExp(name)}(?:\\{\\})?\\s+(\\S+)`, "m");
  const match = pattern.exec(text);
  const value = match ? Number(match[1]) : Number.NaN;
  return Number.isFinite(value) ? value : undefined;
}
