import { SingleBar } from "cli-progress";

/** A progress bar on stderr: count, rate of the work done since start (not what was skipped), ETA. */
export function progressBar(label: string): {
  update(done: number, total: number): void;
  stop(): void;
} {
  const bar = new SingleBar({
    format: `${label} [{bar}] {value}/{total} | {rate}/s | ETA {eta_formatted}`,
    stream: process.stderr,
    hideCursor: true,
    etaBuffer: 50,
    noTTYOutput: true,
    notTTYSchedule: 5000,
  });
  let started = false;
  let first = 0;
  const t0 = performance.now();
  return {
    update(done, total) {
      if (!started) first = done;
      const rate = ((done - first) / Math.max((performance.now() - t0) / 1000, 1e-3)).toFixed(1);
      if (!started) {
        bar.start(total, done, { rate });
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(done, { rate });
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
