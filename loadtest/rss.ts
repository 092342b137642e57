import { readFile } from "node:fs/promises";
import { fetchMetrics, metricValue } from "./metrics.js";
import type { Target } from "./target.js";

const MIB = 1024 * 1024;

export type RssSource = "proc" | "metrics";

/** Resident set size of the server, `tS` seconds after sampling began. */
export interface RssSample {
  tS: number;
  bytes: number;
}

export type RssReader = () => Promise<number | undefined>;

/** VmRSS from /proc/<pid>/status (Linux); undefined when it cannot be read. */
export function procRssReader(pid: number): RssReader {
  return async () => {
    try {
      const status = await readFile(`/proc/${pid}/status`, "utf8");
      const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
      return match ? Number(match[1]) * 1024 : undefined;
    } catch {
      return undefined;
    }
  };
}

/** (prefix_)process_resident_memory_bytes from the server's Prometheus /metrics, if any. */
export function metricsRssReader(target: Target): RssReader {
  return async () => {
    const text = await fetchMetrics(target);
    return text === undefined ? undefined : metricValue(text, "process_resident_memory_bytes");
  };
}

/** Samples at start(), every `intervalMs`, and once more at stop(). */
export class RssSampler {
  readonly intervalMs: number;
  #read: RssReader;
  #samples: RssSample[] = [];
  #started = 0;
  #timer: NodeJS.Timeout | undefined;
  #pending: Promise<void> = Promise.resolve();

  constructor(read: RssReader, intervalMs = 10_000) {
    if (!(intervalMs > 0)) throw new TypeError(`intervalMs: expected > 0, got ${intervalMs}`);
    this.#read = read;
    this.intervalMs = intervalMs;
  }

  start(): void {
    this.#started = performance.now();
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), this.intervalMs);
  }

  async stop(): Promise<RssSample[]> {
    clearInterval(this.#timer);
    this.#sample();
    await this.#pending;
    return this.#samples;
  }

  #sample(): void {
    const tS = (performance.now() - this.#started) / 1000;
    this.#pending = this.#pending.then(async () => {
      const bytes = await this.#read();
      if (bytes !== undefined) this.#samples.push({ tS, bytes });
    });
  }
}

/** Slope of the least-squares line through the points (y per unit of x). */
export function leastSquaresSlope(points: ReadonlyArray<readonly [number, number]>): number {
  if (points.length < 2) throw new TypeError(`expected at least 2 points, got ${points.length}`);
  const n = points.length;
  const meanX = points.reduce((s, [x]) => s + x, 0) / n;
  const meanY = points.reduce((s, [, y]) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - meanX) * (y - meanY);
    sxx += (x - meanX) ** 2;
  }
  if (sxx === 0) throw new TypeError("expected points at two or more distinct x");
  return sxy / sxx;
}

export interface MemoryBounds {
  /** Samples before this fraction of the run are warm-up: heaps and caches still fill. */
  warmupFraction: number;
  /** Least-squares RSS slope over the second half of the run. */
  maxSlopeMiBPerMin: number;
  /**
   * The slope is judged only when the second half spans this long: V8 grows and shrinks its
   * heap in steps of ~10 MiB, and over 30 s a single step reads as 20 MiB/min.
   */
  minSlopeSpanS: number;
  /** Final RSS minus the first sample after the warm-up. */
  maxGrowthMiB: number;
}

export interface MemoryAssessment {
  source: RssSource;
  bounds: MemoryBounds;
  samples: RssSample[];
  afterWarmupMiB: number;
  finalMiB: number;
  peakMiB: number;
  growthMiB: number;
  /** null when the second half holds fewer than 3 samples. */
  slopeMiBPerMin: number | null;
  slopeSamples: number;
  /** Seconds between the first and the last sample of the second half. */
  slopeSpanS: number;
}

export function assessMemory(
  samples: readonly RssSample[],
  bounds: MemoryBounds,
  source: RssSource,
): MemoryAssessment {
  if (samples.length === 0) throw new TypeError("expected at least one RSS sample");
  const last = samples[samples.length - 1]!;
  const afterWarmup =
    samples.find((s) => s.tS >= bounds.warmupFraction * last.tS) ?? samples[samples.length - 1]!;
  const secondHalf = samples.filter((s) => s.tS >= last.tS / 2);
  const slope =
    secondHalf.length >= 3
      ? leastSquaresSlope(secondHalf.map((s) => [s.tS / 60, s.bytes / MIB] as const))
      : null;
  return {
    source,
    bounds,
    samples: [...samples],
    afterWarmupMiB: afterWarmup.bytes / MIB,
    finalMiB: last.bytes / MIB,
    peakMiB: Math.max(...samples.map((s) => s.bytes)) / MIB,
    growthMiB: (last.bytes - afterWarmup.bytes) / MIB,
    slopeMiBPerMin: slope,
    slopeSamples: secondHalf.length,
    slopeSpanS: secondHalf.length > 0 ? last.tS - secondHalf[0]!.tS : 0,
  };
}
