import { DEVICE_PATTERN } from "../config.js";
import type { Device } from "./session.js";

export type DeviceSetting = "cpu" | "auto" | `cuda${string}`;

/** "auto" tries CUDA first; the caller falls back to the CPU when the provider is missing. */
export function parseDevice(setting: string): { candidates: Device[]; strict: boolean } {
  if (!DEVICE_PATTERN.test(setting)) {
    throw new TypeError(
      `Expected device cpu, cuda, cuda:N or auto; got ${JSON.stringify(setting)}`,
    );
  }
  if (setting === "cpu") return { candidates: [{ kind: "cpu" }], strict: true };
  if (setting === "auto")
    return { candidates: [{ kind: "cuda", deviceId: 0 }, { kind: "cpu" }], strict: false };
  const deviceId = setting.includes(":") ? Number(setting.split(":")[1]) : 0;
  return { candidates: [{ kind: "cuda", deviceId }], strict: true };
}
