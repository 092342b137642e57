/**
 * Prometheus text format → value per metric name, summed over label sets (so a histogram's
 * `_sum` and `_count` are its totals).
 */
export function parsePrometheus(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line.length === 0 || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const value = Number(match[3]);
    if (!Number.isFinite(value)) continue;
    values.set(match[1]!, (values.get(match[1]!) ?? 0) + value);
  }
  return values;
}

/** after − before for one metric; null when either snapshot lacks it. */
export function metricDelta(
  before: Map<string, number> | undefined,
  after: Map<string, number> | undefined,
  name: string,
): number | null {
  const a = before?.get(name);
  const b = after?.get(name);
  return a === undefined || b === undefined ? null : b - a;
}
