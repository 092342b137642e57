import { INIT_MODES, type InitMode, type ShareMode } from "../training/shared/index.js";

export function parseNonNegativeInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new TypeError(`expected a non-negative integer, got ${value}`);
  }
  return n;
}

export function parsePositiveNumber(value: string): number {
  const x = Number(value);
  if (!Number.isFinite(x) || x <= 0)
    throw new TypeError(`expected a positive number, got ${value}`);
  return x;
}

export function parseInit(value: string): InitMode {
  if (!(INIT_MODES as readonly string[]).includes(value)) {
    throw new TypeError(`--init: expected one of ${INIT_MODES.join(", ")}, got ${value}`);
  }
  return value as InitMode;
}

export function parseShare(value: string): ShareMode {
  if (value !== "B" && value !== "A") throw new TypeError(`--share: expected B or A, got ${value}`);
  return value;
}
