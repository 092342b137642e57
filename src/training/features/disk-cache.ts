import { createHash } from "node:crypto";
import { mkdir, open, readFile, truncate } from "node:fs/promises";
import { join } from "node:path";

const HASH_BYTES = 32;

/** sha256 of the rendered (prompt, response): the cache key of one text's features. */
export function textKey(prompt: string, response: string): string {
  return createHash("sha256").update(prompt).update("\u0000").update(response).digest("hex");
}

/**
 * Append-only file of (text hash, Φ) records for one model: `<dir>/<model sha256>.features`.
 * A run killed mid-append leaves a partial last record, which the next open cuts off.
 */
export class FeatureDiskCache {
  readonly path: string;
  readonly width: number;
  readonly #values = new Map<string, Float32Array>();

  private constructor(path: string, width: number) {
    this.path = path;
    this.width = width;
  }

  static async open(dir: string, modelSha256: string, width: number): Promise<FeatureDiskCache> {
    if (!Number.isInteger(width) || width < 1)
      throw new TypeError(`width: expected a positive integer, got ${width}`);
    await mkdir(dir, { recursive: true });
    const cache = new FeatureDiskCache(join(dir, `${modelSha256}.w${width}.features`), width);
    await cache.#load();
    return cache;
  }

  get size(): number {
    return this.#values.size;
  }

  get(key: string): Float32Array | undefined {
    return this.#values.get(key);
  }

  /** Appends the records and makes them durable before resolving. */
  async append(records: readonly { key: string; value: Float32Array }[]): Promise<void> {
    if (records.length === 0) return;
    const recordBytes = HASH_BYTES + this.width * 4;
    const buffer = Buffer.alloc(records.length * recordBytes);
    records.forEach(({ key, value }, i) => {
      if (value.length !== this.width)
        throw new TypeError(`Expected ${this.width} features, got ${value.length}`);
      const offset = i * recordBytes;
      buffer.write(key, offset, HASH_BYTES, "hex");
      Buffer.from(value.buffer, value.byteOffset, value.byteLength).copy(
        buffer,
        offset + HASH_BYTES,
      );
    });
    const handle = await open(this.path, "a");
    try {
      await handle.write(buffer);
      await handle.sync();
    } finally {
      await handle.close();
    }
    for (const { key, value } of records) this.#values.set(key, value);
  }

  async #load(): Promise<void> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw error;
    }
    const recordBytes = HASH_BYTES + this.width * 4;
    const whole = Math.floor(bytes.length / recordBytes);
    for (let i = 0; i < whole; i++) {
      const offset = i * recordBytes;
      const key = bytes.toString("hex", offset, offset + HASH_BYTES);
      const value = new Float32Array(this.width);
      Buffer.from(value.buffer).set(bytes.subarray(offset + HASH_BYTES, offset + recordBytes));
      this.#values.set(key, value);
    }
    if (whole * recordBytes !== bytes.length) await truncate(this.path, whole * recordBytes);
  }
}
