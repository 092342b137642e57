import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import type { BenchResult } from "./result.js";

export function describeMachine(): BenchResult["machine"] {
  return {
    cpu: cpus()[0]?.model.trim() || "unknown",
    cores: availableParallelism(),
    memoryMib: totalmem() / (1024 * 1024),
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
    loadavg: loadavg(),
  };
}
